"""Reshaping layers: flatten a range of axes into one, and its inverse (PyTorch semantics).

Both are pure reshapes, so each backward is the opposite reshape of ``dy``:
flatten's backward is an unflatten and vice versa.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from npgen._validation import check_float, namespace

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


def _normalize_dim(where: str, dim, ndim: int, name: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int) or not -ndim <= dim < ndim:
        raise ValueError(f"{where}: {name} must be an int in [{-ndim}, {ndim - 1}] for a "
                         f"{ndim}-D input; got {dim!r}")
    return dim % ndim


def _check_dy(where: str, dy, shape: tuple, name: str = "dy"):
    namespace(where, dy)
    if tuple(dy.shape) != shape:
        raise ValueError(f"{where}: {name} must have shape {shape}; got {tuple(dy.shape)}")


class FlattenCache(NamedTuple):
    input_shape: tuple  # shape of x
    output_shape: tuple  # shape of y


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
    where = "flatten_forward"
    xp = check_float(where, x)
    if x.ndim == 0:
        return xp.reshape(x, (1,)), FlattenCache((), (1,))
    start = _normalize_dim(where, start_dim, x.ndim, "start_dim")
    end = _normalize_dim(where, end_dim, x.ndim, "end_dim")
    if start > end:
        raise ValueError(f"{where}: start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"input shape {tuple(x.shape)}")
    shape = tuple(x.shape)
    out_shape = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    y = xp.reshape(x, out_shape)  # (d_0, ..., d_s * ... * d_e, ...)
    return y, FlattenCache(input_shape=shape, output_shape=out_shape)


def flatten_backward(dy, cache: FlattenCache):
    """dx = reshape(dy, x.shape)   (an unflatten)."""
    _check_dy("flatten_backward", dy, cache.output_shape)
    xp = namespace("flatten_backward", dy)
    return xp.reshape(dy, cache.input_shape)  # x's shape


def flatten_double_backward(ddx, dy, cache: FlattenCache):
    """VJP of dx = reshape(dy, x.shape) for <ddx, dx>:  d_dy = reshape(ddx, y.shape),  d_x = 0."""
    _check_dy("flatten_double_backward", dy, cache.output_shape)
    _check_dy("flatten_double_backward", ddx, cache.input_shape, "ddx")
    xp = namespace("flatten_double_backward", ddx, dy)
    return xp.reshape(ddx, cache.output_shape), xp.zeros_like(ddx)  # y's shape, x's shape


class UnflattenCache(NamedTuple):
    input_shape: tuple
    output_shape: tuple


def check_unflatten_sizes(where: str, sizes) -> tuple:
    """``sizes`` as a non-empty tuple of ints >= 0 with at most one -1, or a clear error."""
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"{where}: sizes must be a tuple of ints, e.g. (C, H, W); "
                        f"got {sizes!r}")
    sizes = tuple(sizes)
    valid = all(isinstance(s, int) and not isinstance(s, bool) and (s >= 0 or s == -1)
                for s in sizes)
    if not sizes or not valid or sizes.count(-1) > 1:
        raise ValueError(f"{where}: sizes must be a non-empty tuple of non-negative ints with at "
                         f"most one -1; got {sizes!r}")
    return sizes


def _unflatten_sizes(where: str, sizes, extent: int) -> tuple:
    """Resolve a single -1 in ``sizes`` and check that the product equals ``extent``."""
    sizes = check_unflatten_sizes(where, sizes)
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes and known > 0 and extent % known == 0:
        sizes = tuple(extent // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != extent or -1 in sizes:
        raise ValueError(f"{where}: sizes {sizes!r} do not multiply to the axis length {extent}")
    return sizes


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
    where = "unflatten_forward"
    xp = check_float(where, x)
    if x.ndim == 0:
        raise ValueError(f"{where}: cannot unflatten a 0-d array")
    axis = _normalize_dim(where, dim, x.ndim, "dim")
    shape = tuple(x.shape)
    out_shape = shape[:axis] + _unflatten_sizes(where, sizes, shape[axis]) + shape[axis + 1:]
    y = xp.reshape(x, out_shape)  # (d_0, ..., *sizes, ...)
    return y, UnflattenCache(input_shape=shape, output_shape=out_shape)


def unflatten_backward(dy, cache: UnflattenCache):
    """dx = reshape(dy, x.shape)   (a flatten)."""
    _check_dy("unflatten_backward", dy, cache.output_shape)
    xp = namespace("unflatten_backward", dy)
    return xp.reshape(dy, cache.input_shape)  # x's shape


def unflatten_double_backward(ddx, dy, cache: UnflattenCache):
    """VJP of dx = reshape(dy, x.shape) for <ddx, dx>:  d_dy = reshape(ddx, y.shape),  d_x = 0."""
    _check_dy("unflatten_double_backward", dy, cache.output_shape)
    _check_dy("unflatten_double_backward", ddx, cache.input_shape, "ddx")
    xp = namespace("unflatten_double_backward", ddx, dy)
    return xp.reshape(ddx, cache.output_shape), xp.zeros_like(ddx)  # y's shape, x's shape
