"""Slow twins of the elementwise ops, dense, batch norm in eval mode, dropout and the shape ops.

Each twin is the op's definition written one element at a time in plain Python
on the host (NumPy float64 arrays used only as containers), so it reads as the
specification the fast, backend-agnostic op must meet. The conv and
training-mode batch-norm twins are in :mod:`npgen.testing.reference`; the
losses, the reparameterization and the optimizer steps in
:mod:`npgen.testing.reference_objectives`.

Every twin takes array-likes (any library, via ``npgen.to_numpy`` by the
caller) and returns float64 NumPy arrays.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "batchnorm_eval_reference",
    "dense_reference",
    "dropout_reference",
    "flatten_reference",
    "leaky_relu_reference",
    "relu_reference",
    "sigmoid_reference",
    "tanh_reference",
    "unflatten_reference",
]


def _host(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _elementwise(function, x) -> np.ndarray:
    """Apply a scalar ``function`` to every element, keeping x's shape."""
    x = _host(x)
    y = np.empty_like(x)
    for index in np.ndindex(x.shape):
        y[index] = function(float(x[index]))
    return y


# Activations -----------------------------------------------------------------


def relu_reference(x):
    """y = x if x > 0 else 0."""
    return _elementwise(lambda v: v if v > 0 else 0.0, x)


def leaky_relu_reference(x, negative_slope: float = 0.01):
    """y = x if x > 0 else negative_slope * x."""
    return _elementwise(lambda v: v if v > 0 else negative_slope * v, x)


def _logistic(v: float) -> float:
    # the two algebraically equal forms, each used where its exponential cannot overflow
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def sigmoid_reference(x):
    """y = 1 / (1 + e^-x)."""
    return _elementwise(_logistic, x)


def tanh_reference(x):
    """y = (e^x - e^-x) / (e^x + e^-x), i.e. math.tanh."""
    return _elementwise(math.tanh, x)


# Dense -----------------------------------------------------------------------


def dense_reference(x, weight, bias=None):
    """y[..., o] = b[o] + sum_i x[..., i] W[o, i]   (x (*, C_in), W (C_out, C_in))."""
    x, weight = _host(x), _host(weight)
    c_out, c_in = weight.shape
    y = np.empty((*x.shape[:-1], c_out))
    for lead in np.ndindex(x.shape[:-1]):
        for o in range(c_out):
            total = 0.0 if bias is None else float(bias[o])
            for i in range(c_in):
                total += float(x[lead + (i,)]) * float(weight[o, i])
            y[lead + (o,)] = total
    return y


# Batch norm in eval mode -------------------------------------------------------


def batchnorm_eval_reference(x, weight, bias, running_mean, running_var, eps: float = 1e-5):
    """y[n, c, ...] = gamma[c] (x[n, c, ...] - mean[c]) / sqrt(var[c] + eps) + beta[c],
    with the running statistics (x (N, C, *S))."""
    x = _host(x)
    y = np.empty_like(x)
    for index in np.ndindex(x.shape):
        c = index[1]
        gamma = 1.0 if weight is None else float(weight[c])
        beta = 0.0 if bias is None else float(bias[c])
        scale = math.sqrt(float(running_var[c]) + eps)
        y[index] = gamma * (float(x[index]) - float(running_mean[c])) / scale + beta
    return y


# Dropout (given its mask) ------------------------------------------------------


def dropout_reference(x, p: float, keep_mask):
    """y = x * keep / (1 - p) for each element (y = 0 everywhere when p = 1)."""
    x, keep_mask = _host(x), _host(keep_mask)
    y = np.zeros_like(x)
    if p == 1.0:
        return y
    for index in np.ndindex(x.shape):
        y[index] = float(x[index]) * float(keep_mask[index]) / (1.0 - p)
    return y


# Shape ops -------------------------------------------------------------------


def _row_major_offset(index: tuple, shape: tuple) -> int:
    """Position of ``index`` when the axes of ``shape`` are read in C order."""
    offset = 0
    for i, extent in zip(index, shape):
        offset = offset * extent + i
    return offset


def flatten_reference(x, start_dim: int = 1, end_dim: int = -1):
    """Merge axes start_dim..end_dim into one, in row-major order::

        y[a, offset(i_start, ..., i_end), b] = x[a, i_start, ..., i_end, b]
    """
    x = _host(x)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    merged = x.shape[start:end + 1]
    y = np.empty((*x.shape[:start], math.prod(merged), *x.shape[end + 1:]))
    for index in np.ndindex(x.shape):
        inner = _row_major_offset(index[start:end + 1], merged)
        y[(*index[:start], inner, *index[end + 1:])] = x[index]
    return y


def unflatten_reference(x, dim: int, sizes):
    """Split axis ``dim`` into ``sizes`` (one entry may be -1), the inverse of flatten::

        y[a, i_1, ..., i_k, b] = x[a, offset(i_1, ..., i_k), b]
    """
    x = _host(x)
    dim = dim % x.ndim
    sizes = tuple(sizes)
    if -1 in sizes:
        known = math.prod(s for s in sizes if s != -1)
        sizes = tuple(x.shape[dim] // known if s == -1 else s for s in sizes)
    y = np.empty((*x.shape[:dim], *sizes, *x.shape[dim + 1:]))
    for index in np.ndindex(y.shape):
        inner = _row_major_offset(index[dim:dim + len(sizes)], sizes)
        y[index] = x[(*index[:dim], inner, *index[dim + len(sizes):])]
    return y
