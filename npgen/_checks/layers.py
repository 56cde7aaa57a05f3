"""Checks at the door of the layer ops: one function per op, run once before the math.

The public functional names (``dense_forward``, ``relu_backward``, ...) and the
modules (``Dense``, ``ReLU``, ...) call the check of their op with their own
label ``where``, then the math in :mod:`npgen.functional`, which holds no checks.
Each check returns the namespace ``xp`` of its arrays (and, for the reshapes,
the normalized axes). Messages name ``where``, what was expected and what came.
"""

from __future__ import annotations

import math

from npgen._checks.primitives import (
    check_axis,
    check_float,
    check_forward_operands,
    check_like,
    check_rank,
    check_same_shape,
    namespace,
)
from npgen.backend import backend_of, dtype_name, namespace_of

# ----------------------------------------------------------------------------
# Shared: an upstream gradient of the forward's shape and dtype
# ----------------------------------------------------------------------------


def check_dtype(where: str, g, dtype, name: str = "dy", reference_name: str = "forward output"):
    """Require ``g.dtype == dtype`` (the forward's): no silent promotion of gradients."""
    if dtype_name(g.dtype) != dtype_name(dtype):
        raise TypeError(f"{where}: {name} is {dtype_name(g.dtype)} but the {reference_name} is "
                        f"{dtype_name(dtype)}; cast one of them explicitly")


def check_elementwise_backward(where: str, dy, reference, dtype=None):
    """dy: a float array of ``reference``'s shape and of the forward's dtype; returns xp.

    ``reference`` is the cached output, or the boolean mask x > 0 (ReLU); then
    ``dtype`` is the forward's dtype, which the mask does not carry.
    """
    xp = namespace(where, dy, reference)
    check_float(where, dy, "dy")
    check_same_shape(where, dy, reference, "dy", "the forward output")
    if xp.isdtype(reference.dtype, "real floating"):
        check_like(where, dy, reference, "dy", "forward output")
    else:  # a boolean mask (ReLU): the cache records the forward's dtype
        check_dtype(where, dy, dtype)
    return xp


def check_elementwise_double_backward(where: str, ddx, dy, reference, dtype=None):
    """ddx and dy: float arrays of the forward's shape and dtype; returns xp."""
    check_elementwise_backward(where, dy, reference, dtype)
    xp = namespace(where, ddx, dy)
    check_float(where, ddx, "ddx")
    check_same_shape(where, ddx, reference, "ddx", "the forward input")
    check_like(where, ddx, dy, "ddx", "dy")
    return xp


# ----------------------------------------------------------------------------
# Dense
# ----------------------------------------------------------------------------


def check_dense(where: str, x, weight, bias):
    """x (*, C_in), weight (C_out, C_in), bias (C_out,) or None, one library/device/dtype."""
    xp = check_forward_operands(where, x, weight, bias, names=("weight", "bias"))
    if x.ndim < 1:
        raise ValueError(f"{where}: expected an input (*, C_in) with at least 1 axis; "
                         "got a 0-d array")
    check_rank(where, weight, 2, "(C_out, C_in)", name="weight")
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"{where}: x {tuple(x.shape)} has {x.shape[-1]} features but weight "
            f"{tuple(weight.shape)} expects {weight.shape[1]}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"{where}: bias must have shape ({weight.shape[0]},); got {tuple(bias.shape)}"
        )
    return xp


def check_dense_input(where: str, x, weight, in_features: int):
    """A Dense layer's input (*, in_features), like its own (already valid) weight."""
    check_like(where, x, weight)
    if x.ndim < 1:
        raise ValueError(f"{where}: expected an input (*, {in_features}) with at "
                         "least 1 axis; got a 0-d array")
    check_axis(where, x, x.ndim - 1, in_features, "features")
    return namespace_of(x)


def check_dense_backward(where: str, dy, cache):
    """dy (*, C_out), of the weight's dtype; returns xp."""
    xp = namespace(where, dy, cache.x_rows)
    check_like(where, dy, cache.weight, "dy", "weight")  # no silent casts
    c_out = cache.weight.shape[0]
    if tuple(dy.shape) != (*cache.leading, c_out):
        raise ValueError(
            f"{where}: dy must have shape {(*cache.leading, c_out)}; got {tuple(dy.shape)}"
        )
    return xp


def check_dense_double_backward(where: str, ddx, dy, cache):
    """ddx (*, C_in) and dy (*, C_out), of the weight's dtype; returns xp."""
    xp = namespace(where, ddx, dy, cache.x_rows)
    c_out, c_in = cache.weight.shape
    expected = (("ddx", ddx, (*cache.leading, c_in)), ("dy", dy, (*cache.leading, c_out)))
    for name, g, shape in expected:
        check_like(where, g, cache.weight, name, "weight")
        if tuple(g.shape) != shape:
            raise ValueError(f"{where}: {name} must have shape {shape}; got {tuple(g.shape)}")
    return xp


# ----------------------------------------------------------------------------
# Batch normalization
# ----------------------------------------------------------------------------

_BATCHNORM_OPERANDS = ("weight", "bias", "running_mean", "running_var")


def check_batchnorm(where: str, x, weight, bias, running_mean, running_var, training,
                    momentum):
    """The operands of ``batchnorm_forward`` (see there); returns xp."""
    operands = (weight, bias, running_mean, running_var)
    xp = check_forward_operands(where, x, *operands, names=_BATCHNORM_OPERANDS)
    if x.ndim < 2:
        raise ValueError(f"{where}: expected input (N, C, *S) with 2 to 4 axes; "
                         f"got shape {tuple(x.shape)}")
    channels = x.shape[1]
    for name, a in zip(_BATCHNORM_OPERANDS, operands):
        if a is not None and tuple(a.shape) != (channels,):
            raise ValueError(f"{where}: {name} must have shape ({channels},) for input "
                             f"{tuple(x.shape)}; got {tuple(a.shape)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{where}: pass both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise ValueError(f"{where}: evaluation (training=False) needs running statistics")
    check_batch_statistics(where, x, training)
    if momentum is None or isinstance(momentum, bool):
        raise TypeError(f"{where}: momentum must be a float; got {momentum!r} "
                        "(for momentum=None pass the cumulative factor 1 / num_batches_tracked)")
    return xp


def check_batch_statistics(where: str, x, training: bool) -> None:
    """Batch statistics need more than one value per channel (else the variance is 0/0)."""
    if training and math.prod(x.shape) // x.shape[1] <= 1:
        raise ValueError(f"{where}: expected more than 1 value per channel when training; "
                         f"got input shape {tuple(x.shape)}")


def check_batchnorm_input(where: str, x, reference, reference_name: str, ranks: dict,
                          num_features: int):
    """A BatchNorm layer's input: like its weight (or running mean), a rank in ``ranks``."""
    xp = check_float(where, x)
    if reference is not None:
        check_like(where, x, reference, reference_name=reference_name)
    if x.ndim not in ranks:
        expected = " or ".join(f"a {n}-D {layout}" for n, layout in ranks.items())
        raise ValueError(f"{where}: expected {expected} input; got shape {tuple(x.shape)}")
    check_axis(where, x, 1, num_features, "channels")
    return xp


def check_batchnorm_backward(where: str, dy, cache):
    """dy of the forward's shape and dtype; returns xp."""
    xp = namespace(where, dy, cache.xhat)
    check_like(where, dy, cache.xhat, "dy", "input")  # no silent casts
    if tuple(dy.shape) != tuple(cache.xhat.shape):
        raise ValueError(f"{where}: dy must have shape {tuple(cache.xhat.shape)}; "
                         f"got {tuple(dy.shape)}")
    return xp


# ----------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------


def check_dropout_probability(where: str, p) -> float:
    """``p`` as a float in [0, 1], or a ValueError naming ``where``."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{where}: dropout probability p must be a number in [0, 1]; got {p!r}")
    return float(p)


def check_dropout(where: str, x, p, keep_mask):
    """x a float array, ``keep_mask`` like it, ``p`` in [0, 1]; returns ``(xp, float(p))``."""
    p = check_dropout_probability(where, p)
    xp = namespace(where, x, keep_mask)
    check_float(where, x)
    check_like(where, keep_mask, x, name="keep_mask", reference_name="input")
    check_same_shape(where, x, keep_mask, "x", "keep_mask")
    return xp, p


def check_dropout_input(where: str, x, rng):
    """A Dropout layer's input: a float array on the device its RNG draws on; returns xp."""
    xp = check_float(where, x)
    at, rng_at = backend_of(x), rng.backend
    if at.name != rng_at.name or str(at.device) != str(rng_at.device):
        raise TypeError(f"{where}: input is on {at.name}/{at.device} but the layer's RNG "
                        f"draws on {rng_at.name}/{rng_at.device}; pass rng= for that backend")
    return xp


def check_dropout_backward(where: str, dy, cache):
    """dy of the forward's shape, library, device and dtype; returns xp."""
    xp = namespace(where, dy, cache.scaled_mask)
    check_same_shape(where, dy, cache.scaled_mask, "dy", "the forward input")
    check_like(where, dy, cache.scaled_mask, "dy", "forward input")  # no promotion
    return xp


# ----------------------------------------------------------------------------
# Flatten and unflatten
# ----------------------------------------------------------------------------


def _normalize_dim(where: str, dim, ndim: int, name: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int) or not -ndim <= dim < ndim:
        raise ValueError(f"{where}: {name} must be an int in [{-ndim}, {ndim - 1}] for a "
                         f"{ndim}-D input; got {dim!r}")
    return dim % ndim


def check_flatten(where: str, x, start_dim, end_dim):
    """x a float array; returns ``(xp, start, end)`` as non-negative axes (None for 0-d x)."""
    xp = check_float(where, x)
    if x.ndim == 0:
        return xp, None, None
    start = _normalize_dim(where, start_dim, x.ndim, "start_dim")
    end = _normalize_dim(where, end_dim, x.ndim, "end_dim")
    if start > end:
        raise ValueError(f"{where}: start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"input shape {tuple(x.shape)}")
    return xp, start, end


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


def check_unflatten(where: str, x, dim, sizes):
    """x a float array with axis ``dim``; returns ``(xp, axis, sizes)`` with the -1 resolved."""
    xp = check_float(where, x)
    if x.ndim == 0:
        raise ValueError(f"{where}: cannot unflatten a 0-d array")
    axis = _normalize_dim(where, dim, x.ndim, "dim")
    return xp, axis, _unflatten_sizes(where, sizes, x.shape[axis])


def check_reshape_backward(where: str, g, shape: tuple, dtype, name: str = "dy"):
    """A reshape's upstream gradient: of ``shape`` and the forward's dtype; returns xp."""
    xp = namespace(where, g)
    if tuple(g.shape) != shape:
        raise ValueError(f"{where}: {name} must have shape {shape}; got {tuple(g.shape)}")
    check_dtype(where, g, dtype, name, "forward output" if name == "dy" else "forward input")
    return xp


def check_reshape_double_backward(where: str, ddx, dy, cache):
    """dy of the output's shape, ddx of the input's, both of the forward's dtype; returns xp."""
    check_reshape_backward(where, dy, cache.output_shape, cache.dtype)
    check_reshape_backward(where, ddx, cache.input_shape, cache.dtype, "ddx")
    return namespace(where, ddx, dy)
