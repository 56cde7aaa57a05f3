"""Gradient penalties on a critic's input gradient: WGAN-GP and R1.

Symbols (as in ``docs/objectives/gradient_penalty.md``):

=======  ==============  ==========================================================
symbol   argument        meaning
=======  ==============  ==========================================================
g        ``grads``       the critic's input gradient dD/dx, (N, ...): one row per example
g_n      ``grads[n]``    example n's gradient, all its non-batch axes
N        ``grads.shape[0]``  batch size (the means run over examples)
t        ``target``      the norm WGAN-GP pulls every ||g_n|| towards (1: 1-Lipschitz)
lambda   ``weight``      WGAN-GP's penalty weight (10 in the paper)
gamma    ``gamma``       R1's weight
=======  ==============  ==========================================================

    WGAN-GP  P = lambda mean_n (||g_n|| - t)^2      dP/dg_n = (2 lambda / N)(1 - t / ||g_n||) g_n
    R1       P = gamma/2 mean_n ||g_n||^2           dP/dg_n = (gamma / N) g_n

Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", eq. 3 (the penalty on
points x_hat between real and fake samples); Mescheder et al. 2018, "Which Training
Methods for GANs do actually Converge?", eq. 9 (R1, on real data). The returned dP/dg is
the ``ddx`` a critic's :meth:`double_backward` turns into parameter gradients.
"""

from __future__ import annotations

from npgen._checks.losses import check_grads, check_number
from npgen.losses._common import as_0d

__all__ = ["gradient_penalty", "r1_penalty"]


def _row_norms(xp, grads, axes):
    """||g_n|| over each example's axes, kept as (N, 1, ..., 1) to broadcast against g."""
    if not axes:  # (N,): each example is one number
        return xp.abs(grads)
    return xp.sqrt(xp.sum(grads * grads, axis=axes, keepdims=True))  # (N, 1, ..., 1)


def gradient_penalty(grads, target: float = 1.0, weight: float = 10.0):
    """WGAN-GP's two-sided penalty ``weight * mean_n (||g_n|| - target)^2``.

    Parameters
    ----------
    grads : array (N, ...)
        The critic's input gradients at the interpolates, one example per row.
    target : float >= 0
    weight : float >= 0

    Returns
    -------
    penalty : 0-d array
    d_grads : array, grads' shape
        ``(2 weight / N)(1 - target / ||g_n||) g_n``. Where ``||g_n|| = 0`` (the cone's
        tip, where (||g|| - t)^2 has no gradient) it is 0, the smallest subgradient,
        as in PyTorch's norm: finite for every input.
    """
    where = "gradient_penalty"
    xp, n, axes = check_grads(where, grads)
    target = check_number(where, "target", target, 0.0)
    weight = check_number(where, "weight", weight, 0.0)
    norms = _row_norms(xp, grads, axes)  # (N, 1, ..., 1)
    value = weight * xp.sum((norms - target) ** 2) / n
    safe = xp.where(norms > 0, norms, xp.ones_like(norms))  # g_n = 0 -> ratio 0, not 0/0
    d_grads = (2.0 * weight / n) * (grads - target * grads / safe)
    return as_0d(xp, value), d_grads


def r1_penalty(grads, gamma: float):
    """R1: ``gamma / 2 * mean_n ||g_n||^2``, the critic's input gradient on real data.

    Parameters
    ----------
    grads : array (N, ...)
    gamma : float >= 0

    Returns
    -------
    penalty : 0-d array
    d_grads : array, grads' shape, ``(gamma / N) g``
    """
    where = "r1_penalty"
    xp, n, _ = check_grads(where, grads)
    gamma = check_number(where, "gamma", gamma, 0.0)
    value = (gamma / 2.0) * xp.sum(grads * grads) / n
    return as_0d(xp, value), (gamma / n) * grads
