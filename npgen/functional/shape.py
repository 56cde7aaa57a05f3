"""Reshaping layers: flatten a range of axes into one, and its inverse (PyTorch semantics).

Both are pure reshapes, so each backward is the opposite reshape of ``dy``:
flatten's backward is an unflatten and vice versa.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from npgen._checks.layers import (
    check_flatten,
    check_reshape_backward,
    check_reshape_double_backward,
    check_unflatten,
    check_unflatten_sizes,
)

__all__ = [
    "FlattenCache",
    "check_unflatten_sizes",
    "UnflattenCache",
    "flatten_backward",
    "flatten_double_backward",
    "flatten_forward",
    "unflatten_backward",
    "unflatten_double_backward",
    "unflatten_forward",
]


class FlattenCache(NamedTuple):
    input_shape: tuple  # shape of x
    output_shape: tuple  # shape of y
    dtype: object  # x's dtype, which dy must have


def flatten_forward(x, start_dim: int = 1, end_dim: int = -1):
    """Merge axes ``start_dim..end_dim`` (inclusive) into one, as ``torch.flatten``.

    Parameters
    ----------
    x : array (d_0, ..., d_{n-1})
    start_dim, end_dim : int
        Negative values count from the end.

    Returns
    -------
    y : array (d_0, ..., d_{s-1}, d_s * ... * d_e, d_{e+1}, ...)
    cache : FlattenCache
    """
    xp, start, end = check_flatten("flatten_forward", x, start_dim, end_dim)
    return flatten(xp, x, start, end)


def flatten(xp, x, start: int, end: int):
    """The math of :func:`flatten_forward` on checked, non-negative axes (None for 0-d x)."""
    shape = tuple(x.shape)
    if x.ndim == 0:
        return xp.reshape(x, (1,)), FlattenCache(shape, (1,), x.dtype)
    out_shape = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    y = xp.reshape(x, out_shape)  # (d_0, ..., d_s * ... * d_e, ...)
    return y, FlattenCache(input_shape=shape, output_shape=out_shape, dtype=x.dtype)


def flatten_backward(dy, cache: FlattenCache):
    """dx = reshape(dy, x.shape)   (an unflatten)."""
    xp = check_reshape_backward("flatten_backward", dy, cache.output_shape, cache.dtype)
    return xp.reshape(dy, cache.input_shape)  # x's shape


def flatten_double_backward(ddx, dy, cache: FlattenCache):
    """VJP of dx = reshape(dy, x.shape) for <ddx, dx>:  d_dy = reshape(ddx, y.shape),  d_x = 0."""
    xp = check_reshape_double_backward("flatten_double_backward", ddx, dy, cache)
    return xp.reshape(ddx, cache.output_shape), xp.zeros_like(ddx)  # y's shape, x's shape


class UnflattenCache(NamedTuple):
    input_shape: tuple
    output_shape: tuple
    dtype: object  # x's dtype, which dy must have


def unflatten_forward(x, dim: int, sizes):
    """Split axis ``dim`` into ``sizes``, as ``torch.unflatten`` (one entry may be -1).

    Parameters
    ----------
    x : array (d_0, ..., d_dim, ...)
    dim : int
    sizes : tuple of int, product d_dim

    Returns
    -------
    y : array (d_0, ..., *sizes, ...)
    cache : UnflattenCache
    """
    xp, axis, sizes = check_unflatten("unflatten_forward", x, dim, sizes)
    return unflatten(xp, x, axis, sizes)


def unflatten(xp, x, axis: int, sizes: tuple):
    """The math of :func:`unflatten_forward` on a checked axis and resolved ``sizes``."""
    shape = tuple(x.shape)
    out_shape = shape[:axis] + sizes + shape[axis + 1:]
    y = xp.reshape(x, out_shape)  # (d_0, ..., *sizes, ...)
    return y, UnflattenCache(input_shape=shape, output_shape=out_shape, dtype=x.dtype)


def unflatten_backward(dy, cache: UnflattenCache):
    """dx = reshape(dy, x.shape)   (a flatten)."""
    xp = check_reshape_backward("unflatten_backward", dy, cache.output_shape, cache.dtype)
    return xp.reshape(dy, cache.input_shape)  # x's shape


def unflatten_double_backward(ddx, dy, cache: UnflattenCache):
    """VJP of dx = reshape(dy, x.shape) for <ddx, dx>:  d_dy = reshape(ddx, y.shape),  d_x = 0."""
    xp = check_reshape_double_backward("unflatten_double_backward", ddx, dy, cache)
    return xp.reshape(ddx, cache.output_shape), xp.zeros_like(ddx)  # y's shape, x's shape
