"""Checks at the door of the losses: one function per objective, run once before the math.

Every public loss in :mod:`npgen.losses` calls its check here with its own name
``where``, then evaluates the formula, which holds no checks. Each check returns
the namespace ``xp`` of its arrays (and the validated Python numbers). Messages
name ``where``, what was expected and what came.
"""

from __future__ import annotations

import math
import numbers

from npgen._checks.primitives import check_float, check_like, check_same_shape

REDUCTIONS = ("mean", "sum")
LIKELIHOODS = ("bernoulli", "gaussian")

# ----------------------------------------------------------------------------
# Pieces
# ----------------------------------------------------------------------------


def check_pair(where: str, a, b, a_name: str, b_name: str):
    """Both float arrays of one library, device and dtype, with equal shapes; returns xp."""
    xp = check_float(where, a, a_name)
    check_like(where, b, a, b_name, a_name)
    check_same_shape(where, a, b, a_name, b_name)
    return xp


def check_min_rank(where: str, x, ndim: int, layout: str, name: str):
    """Require ``x.ndim >= ndim`` and a non-empty batch axis."""
    if x.ndim < ndim:
        raise ValueError(
            f"{where}: expected {name} with at least {ndim} dimension(s) {layout}; "
            f"got shape {tuple(x.shape)}"
        )
    if ndim >= 1 and x.shape[0] == 0:
        raise ValueError(f"{where}: {name} has an empty batch axis; got shape {tuple(x.shape)}")


def check_reduction(where: str, reduction, x):
    """``reduction`` is 'mean' or 'sum'; 'mean' needs at least one element."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be 'mean' or 'sum'; got {reduction!r}")
    if reduction == "mean" and math.prod(x.shape) == 0:
        raise ValueError(f"{where}: the mean of an empty input is undefined; got shape "
                         f"{tuple(x.shape)}")


def check_nonempty(where: str, x, name: str):
    """Batch means need at least one element."""
    if math.prod(x.shape) == 0:
        raise ValueError(f"{where}: {name} is empty; got shape {tuple(x.shape)}")


def check_number(where: str, name: str, value, low: float, high: float = math.inf,
                 low_open: bool = False):
    """A finite real Python number in [low, high] (or (low, high] with ``low_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a real number; got {value!r}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    if not math.isfinite(value) or too_low or value > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"{where}: {name} must lie in {bracket}{low:g}, {high:g}]; got {value!r}")
    return value


# ----------------------------------------------------------------------------
# mse, bce_with_logits
# ----------------------------------------------------------------------------


def check_elementwise_loss(where: str, pred, target, reduction, pred_name: str = "pred"):
    """``pred`` and ``target``: one library/device/dtype and shape; a valid reduction."""
    xp = check_pair(where, pred, target, pred_name, "target")
    check_reduction(where, reduction, pred)
    return xp


# ----------------------------------------------------------------------------
# GAN and Wasserstein losses, gradient penalties
# ----------------------------------------------------------------------------


def check_logits(where: str, x, name: str, reference=None, reference_name: str = ""):
    """A non-empty float array (N, ...), like ``reference`` if given; returns (xp, n)."""
    xp = check_float(where, x, name)
    if reference is not None:
        check_like(where, x, reference, name, reference_name)
    if x.ndim < 1:
        raise ValueError(f"{where}: expected {name} with a batch axis (N, ...); got a 0-d array")
    check_nonempty(where, x, name)
    return xp, float(math.prod(x.shape))


def check_logit_pair(where: str, real, fake, real_name: str, fake_name: str):
    """Two batches of logits or scores, like each other; returns ``(xp, n_real, n_fake)``."""
    xp, n_real = check_logits(where, real, real_name)
    _, n_fake = check_logits(where, fake, fake_name, real, real_name)
    return xp, n_real, n_fake


def check_grads(where: str, grads):
    """A non-empty float array (N, ...); returns (xp, N, the axes of one example)."""
    xp = check_float(where, grads, "grads")
    check_min_rank(where, grads, 1, "(N, ...)", "grads")
    check_nonempty(where, grads, "grads")
    return xp, grads.shape[0], tuple(range(1, grads.ndim))


# ----------------------------------------------------------------------------
# The VAE objective
# ----------------------------------------------------------------------------


def check_posterior(where: str, mu, logvar):
    """mu and logvar: float arrays (N, K, ...) of one library/device/dtype and shape."""
    xp = check_pair(where, mu, logvar, "mu", "logvar")
    check_min_rank(where, mu, 2, "(N, latent)", "mu")
    return xp


def check_noise(where: str, mu, logvar, eps):
    """The inputs of the reparameterization: mu, logvar and eps alike; returns xp."""
    xp = check_posterior(where, mu, logvar)
    check_pair(where, mu, eps, "mu", "eps")
    return xp


def check_reconstruction(where: str, x, decoder_out, likelihood, sigma):
    """Data and decoder output alike, (N, ...); a known likelihood; returns (xp, sigma)."""
    xp = check_pair(where, x, decoder_out, "x", "decoder_out")
    check_min_rank(where, x, 1, "(N, ...)", "x")
    if likelihood not in LIKELIHOODS:
        raise ValueError(
            f"{where}: likelihood must be 'bernoulli' or 'gaussian'; got {likelihood!r}"
        )
    return xp, check_number(where, "sigma", sigma, 0.0, low_open=True)


def check_negative_elbo(where: str, x, decoder_out, mu, logvar, likelihood, beta, sigma):
    """Every input of the negative ELBO; returns ``(xp, beta, sigma)`` as floats."""
    beta = check_number(where, "beta", beta, 0.0)
    xp = check_float(where, x, "x")
    check_posterior(where, mu, logvar)
    check_like(where, mu, x, "mu", "x")
    if x.ndim >= 1 and mu.shape[0] != x.shape[0]:
        raise ValueError(
            f"{where}: x and mu must have the same batch size; got shapes "
            f"{tuple(x.shape)} and {tuple(mu.shape)}"
        )
    _, sigma = check_reconstruction(where, x, decoder_out, likelihood, sigma)
    return xp, beta, sigma
