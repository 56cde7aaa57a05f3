"""Dense (fully connected) layer: ``y = x W^T + b``, with PyTorch's ``Linear`` layout.

Symbols (docs/layers/dense.md): C_in input features, C_out output features;
x (*, C_in), W (C_out, C_in), b (C_out,), y (*, C_out). As in ``torch.nn.Linear``,
``*`` is any number of leading axes (usually just N, none for a single vector);
inside, x is seen as M = prod(*) rows, x_rows (M, C_in).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from npgen._checks.layers import check_dense, check_dense_backward, check_dense_double_backward

__all__ = ["DenseCache", "dense_backward", "dense_double_backward", "dense_forward"]


class DenseCache(NamedTuple):
    """What :func:`dense_backward` reads."""

    x_rows: object  # (M, C_in): x with its leading axes merged
    weight: object  # (C_out, C_in)
    has_bias: bool
    leading: tuple  # the leading axes * of x (and of y, dy, dx)


def dense_forward(x, weight, bias=None):
    """Affine map ``y = x W^T + b`` over the last axis.

    Parameters
    ----------
    x : array (*, C_in)
        At least 1-D; usually (N, C_in).
    weight : array (C_out, C_in)
    bias : array (C_out,) or None

    Returns
    -------
    y : array (*, C_out)
    cache : DenseCache

    Notes
    -----
    y[..., o] = sum_i x[..., i] W[o, i] + b[o]. Same layout as ``torch.nn.Linear``.
    """
    xp = check_dense("dense_forward", x, weight, bias)
    return affine_forward(xp, x, weight, bias)


def affine_forward(xp, x, weight, bias):
    """The math of :func:`dense_forward`, unchecked (the Dense layer checked its input)."""
    leading = tuple(x.shape[:-1])
    x_rows = xp.reshape(x, (math.prod(leading), weight.shape[1]))  # (M, C_in)
    y = x_rows @ weight.mT  # (M, C_out)
    if bias is not None:
        y = y + bias  # (C_out,) broadcast over the M rows
    y = xp.reshape(y, (*leading, weight.shape[0]))  # (*, C_out)
    return y, DenseCache(x_rows=x_rows, weight=weight, has_bias=bias is not None,
                         leading=leading)


def dense_backward(dy, cache: DenseCache):
    """dx = dy W,  dW = dy^T x,  db = sum over rows of dy   (rows: every leading index).

    Parameters
    ----------
    dy : array (*, C_out)
    cache : DenseCache from :func:`dense_forward`

    Returns
    -------
    dx : array (*, C_in)
    dweight : array (C_out, C_in)
    dbias : array (C_out,) or None when the forward had no bias
    """
    xp = check_dense_backward("dense_backward", dy, cache)
    c_out, c_in = cache.weight.shape
    dy_rows = xp.reshape(dy, (cache.x_rows.shape[0], c_out))  # (M, C_out)
    dx = xp.reshape(dy_rows @ cache.weight, (*cache.leading, c_in))  # (*, C_in)
    dweight = dy_rows.mT @ cache.x_rows  # (C_out, C_in)
    dbias = xp.sum(dy_rows, axis=0) if cache.has_bias else None  # (C_out,)
    return dx, dweight, dbias


def dense_double_backward(ddx, dy, cache: DenseCache):
    """VJP of dx = dy W for <ddx, dx>:  d_dy = ddx W^T,  d_x = 0,  dW = dy^T ddx,  db = 0.

    The backward's input gradient is linear in dy and W and does not read x,
    so the cotangent of x and of the bias are zero (returned as zero arrays, so
    that gradient checks compare them with the finite differences too).

    Parameters
    ----------
    ddx : array (*, C_in)
        Cotangent of the backward's ``dx``.
    dy : array (*, C_out)
        The upstream gradient the backward received.
    cache : DenseCache from :func:`dense_forward`

    Returns
    -------
    d_dy : array (*, C_out)
    d_x : array (*, C_in), zeros
    dweight : array (C_out, C_in)
    dbias : array (C_out,) of zeros, or None when the forward had no bias
    """
    xp = check_dense_double_backward("dense_double_backward", ddx, dy, cache)
    c_out, c_in = cache.weight.shape
    rows = cache.x_rows.shape[0]
    ddx_rows = xp.reshape(ddx, (rows, c_in))  # (M, C_in)
    dy_rows = xp.reshape(dy, (rows, c_out))  # (M, C_out)
    d_dy = xp.reshape(ddx_rows @ cache.weight.mT, (*cache.leading, c_out))  # (*, C_out): dense
    dweight = dy_rows.mT @ ddx_rows  # (C_out, C_in): the weight gradient with ddx as input
    d_x = xp.zeros_like(ddx)  # (*, C_in): dx does not read x
    dbias = xp.zeros_like(dweight[:, 0]) if cache.has_bias else None  # (C_out,): nor b
    return d_dy, d_x, dweight, dbias
