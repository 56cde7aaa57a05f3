"""Elementwise regression and classification losses: ``mse`` and ``bce_with_logits``.

Each returns ``(loss, dpred)``: the loss as a 0-d array of the input's
namespace (``float(loss)`` works) and its gradient with the input's shape.
Reductions follow PyTorch: ``"mean"`` over all elements, or ``"sum"``.
"""

from __future__ import annotations

import math

from npgen._checks.losses import check_elementwise_loss
from npgen.losses._common import as_0d, bce_terms

__all__ = ["bce_with_logits", "mse"]


def _reduce(xp, elementwise, reduction: str):
    """Sum or mean over all elements, and the factor dL/d(elementwise term)."""
    total = xp.sum(elementwise)
    if reduction == "sum":
        return as_0d(xp, total), 1.0
    n = float(math.prod(elementwise.shape))
    return as_0d(xp, total / n), 1.0 / n


def mse(pred, target, reduction: str = "mean"):
    """Mean squared error, as ``torch.nn.functional.mse_loss``.

    Parameters
    ----------
    pred, target : array, any shape (the same; targets never broadcast)
        Float arrays of one library, device and dtype.
    reduction : {"mean", "sum"}
        Mean over all elements (default) or their sum.

    Returns
    -------
    loss : 0-d array
        ``mean((pred - target)^2)`` or the sum.
    dpred : array, pred's shape
        ``2 (pred - target) / n`` (n = number of elements; n = 1 for "sum").
    """
    xp = check_elementwise_loss("mse", pred, target, reduction)
    diff = pred - target
    loss, scale = _reduce(xp, diff * diff, reduction)
    return loss, (2.0 * scale) * diff


def bce_with_logits(logits, target, reduction: str = "mean"):
    """Binary cross-entropy on logits, as ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Parameters
    ----------
    logits : array, any shape
        Unnormalized log-odds l; any finite value (e.g. +-1e4) gives a finite loss.
        At l = +-inf the loss is its limit (0 if the target agrees, else inf),
        never NaN (torch gives NaN there), and the gradient is 1 - t or -t.
    target : array, logits' shape, same library/device/dtype
        Probabilities t in [0, 1] (hard labels or soft targets).
    reduction : {"mean", "sum"}

    Returns
    -------
    loss : 0-d array
        Mean (or sum) of ``softplus(l) - t l``.
    dlogits : array, logits' shape
        ``(sigmoid(l) - t) / n`` (n = 1 for "sum").

    Notes
    -----
    ``-[t log sigmoid(l) + (1 - t) log(1 - sigmoid(l))] = softplus(l) - t l`` with the
    logistic sigmoid. It is evaluated as ``max(l, 0) - l t + log1p(e^-|l|)``,
    so that no exponential of a positive number is ever taken. The gradient
    is ``(1 - t) sigmoid(l) - t sigmoid(-l)``, exact in relative terms for hard targets.
    """
    xp = check_elementwise_loss("bce_with_logits", logits, target, reduction, "logits")
    huge = float(xp.finfo(logits.dtype).max)
    # +-inf -> +-max: sigmoid is then exactly 1 or 0, so dlogits is its limit (1 - t or -t)
    elementwise, dlogits = bce_terms(xp, xp.clip(logits, -huge, huge), target)
    elementwise = _limit_at_infinity(xp, elementwise, logits, target)
    loss, scale = _reduce(xp, elementwise, reduction)
    return loss, scale * dlogits


def _limit_at_infinity(xp, elementwise, logits, target):
    """At l = +-inf the loss is its limit, never the NaN of inf - inf or inf * 0.

    The limit is 0 where the target agrees (t = 1 at +inf, t = 0 at -inf) and
    +inf otherwise. torch returns NaN for four of these six cases (it is
    outside npgen's contract of finite logits; docs/objectives/elbo.md covers it).
    """
    agrees = xp.where(logits > 0, target == 1.0, target == 0.0)
    limit = xp.where(agrees, xp.zeros_like(elementwise), xp.full_like(elementwise, math.inf))
    return xp.where(xp.isinf(logits), limit, elementwise)
