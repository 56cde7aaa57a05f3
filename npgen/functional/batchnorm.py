"""Batch normalization (Ioffe & Szegedy, 2015) for (N, C), (N, C, L) and (N, C, H, W) inputs.

Symbols (docs/layers/batchnorm.md): C channels (axis 1); every other axis is
a batch axis, M = N * L or N * H * W values per channel. Per channel:

    mu = mean(x),  var = mean((x - mu)^2)  (biased),  sigma = sqrt(var + eps)
    xhat = (x - mu) / sigma,  y = gamma * xhat + beta

Training normalizes with the batch statistics and moves the running ones,
as PyTorch: running = (1 - momentum) * running + momentum * batch_stat, with
the UNBIASED variance var * M / (M - 1) for ``running_var``. Evaluation
normalizes with the running statistics (then y is a per-channel affine map).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from npgen._checks.layers import check_batchnorm, check_batchnorm_backward

__all__ = ["BatchNormCache", "batchnorm_backward", "batchnorm_forward"]


class BatchNormCache(NamedTuple):
    """What :func:`batchnorm_backward` reads."""

    xhat: object  # (N, C, *S) normalized input
    inv_std: object  # (C,) 1 / sigma
    weight: object  # (C,) gamma, or None (affine=False)
    has_bias: bool
    training: bool  # batch statistics (True) or running statistics (False)


def _stat_axes(ndim: int) -> tuple:
    """Every axis but the channel axis 1: (0, 2, 3, ...)."""
    return (0, *range(2, ndim))


def _per_channel(v, ndim: int, xp):
    """(C,) -> (1, C, 1, ...) so that it broadcasts against (N, C, *S)."""
    return xp.reshape(v, (1, v.shape[0]) + (1,) * (ndim - 2))  # (1, C, 1, ...)


def _centre(x, axes, xp):
    """Per-channel mean and x - mean in two passes: (C,) and (N, C, *S).

    The first mean is off by a few ulps of |x| when |x| is large (its sum
    rounds); a second pass over the already centred values removes that
    residual, so constant input far from zero centres to exactly 0 instead of
    leaving ulp-sized noise that the variance would then blow up to +-1.
    """
    first = xp.mean(x, axis=axes)  # (C,)
    shifted = x - _per_channel(first, x.ndim, xp)  # (N, C, *S)
    residual = xp.mean(shifted, axis=axes)  # (C,), ~ ulp(|x|): the first pass's rounding
    return first + residual, shifted - _per_channel(residual, x.ndim, xp)


def batchnorm_forward(x, weight, bias, running_mean, running_var, training: bool,
                      momentum: float = 0.1, eps: float = 1e-5):
    """Normalize per channel, then scale and shift.

    Parameters
    ----------
    x : array (N, C), (N, C, L) or (N, C, H, W)
    weight, bias : arrays (C,) or None
        gamma and beta; None means 1 and 0 (``affine=False``).
    running_mean, running_var : arrays (C,) or both None
        Read in evaluation, never modified (see Returns).
    training : bool
        Batch statistics (True) or running statistics (False).
    momentum : float
        Weight of the batch statistic in the running update. PyTorch's
        ``momentum=None`` (cumulative average) is ``momentum = 1 / t`` at the
        t-th tracked batch; the module computes that factor.
    eps : float

    Returns
    -------
    y : array, x's shape
    cache : BatchNormCache
    new_running_mean, new_running_var : arrays (C,) or None
        The updated running statistics in training; the given ones otherwise.
        The caller stores them (the module writes them in place).
    """
    xp = check_batchnorm("batchnorm_forward", x, weight, bias, running_mean, running_var,
                         training, momentum)
    return batchnorm(xp, x, weight, bias, running_mean, running_var, training, momentum, eps)


def batchnorm(xp, x, weight, bias, running_mean, running_var, training, momentum, eps):
    """The math of :func:`batchnorm_forward`, unchecked (the BatchNorm layers checked)."""
    axes, ndim = _stat_axes(x.ndim), x.ndim
    new_mean, new_var = running_mean, running_var
    if training:
        count = math.prod(x.shape) // x.shape[1]  # M values per channel
        mean, centered = _centre(x, axes, xp)  # (C,), (N, C, *S) reused for var and xhat
        var = xp.mean(centered * centered, axis=axes)  # (C,) biased: divides by M
        if running_mean is not None:
            unbiased = var * (count / (count - 1))
            new_mean = (1.0 - momentum) * running_mean + momentum * mean
            new_var = (1.0 - momentum) * running_var + momentum * unbiased
    else:
        mean, var = running_mean, running_var
        centered = x - _per_channel(mean, ndim, xp)  # (N, C, *S)
    inv_std = 1.0 / xp.sqrt(var + eps)  # (C,)
    xhat = centered * _per_channel(inv_std, ndim, xp)  # (N, C, *S)
    y = xhat if weight is None else xhat * _per_channel(weight, ndim, xp)
    if bias is not None:
        y = y + _per_channel(bias, ndim, xp)
    cache = BatchNormCache(xhat=xhat, inv_std=inv_std, weight=weight,
                           has_bias=bias is not None, training=training)
    return y, cache, new_mean, new_var


def batchnorm_backward(dy, cache: BatchNormCache):
    """dx = (gamma / (M sigma)) (M dy - sum(dy) - xhat sum(dy xhat)) in training.

    In evaluation dx = (gamma / sigma) dy. Always dgamma = sum(dy xhat),
    dbeta = sum(dy); sums run over every axis but the channel axis.

    Parameters
    ----------
    dy : array, x's shape
    cache : BatchNormCache from :func:`batchnorm_forward`

    Returns
    -------
    dx : array, x's shape
    dweight, dbias : arrays (C,), or None for an absent weight / bias
    """
    xp = check_batchnorm_backward("batchnorm_backward", dy, cache)
    axes, ndim = _stat_axes(dy.ndim), dy.ndim
    dbias = xp.sum(dy, axis=axes)  # (C,)
    dweight = xp.sum(dy * cache.xhat, axis=axes)  # (C,)
    scale = cache.inv_std if cache.weight is None else cache.weight * cache.inv_std  # (C,)
    if cache.training:
        count = math.prod(dy.shape) // dy.shape[1]  # M
        # the same formula with the per-channel factors folded first: one full pass fewer
        dx = (_per_channel(scale, ndim, xp) * dy - _per_channel(scale * dbias / count, ndim, xp)
              - cache.xhat * _per_channel(scale * dweight / count, ndim, xp))  # (N, C, *S)
    else:
        dx = _per_channel(scale, ndim, xp) * dy
    return (dx,
            None if cache.weight is None else dweight,
            dbias if cache.has_bias else None)
