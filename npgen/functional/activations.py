"""Elementwise activations: ReLU, LeakyReLU, sigmoid, tanh (docs/layers/activations.md).

Shapes: every function is elementwise, so x, y, dy and dx share one shape (any
rank, e.g. (N, C) or (N, C, H, W)), and every array in a cache has it too.
Each ``*_forward(x)`` returns ``(y, cache)``; each ``*_backward(dy, cache)``
returns ``dx``. The public names check their inputs once (:mod:`npgen._checks.layers`)
and call the unchecked math beside them (``relu(xp, x)``, ...), which the layers
call directly after their own check.

Kink convention (as PyTorch): the derivative used at exactly x = 0 is the
one of the left branch, ``x > 0`` selects the identity slope. So ReLU'(0) = 0
and LeakyReLU'(0) = negative_slope.

Sigmoid and tanh differentiate from their cached OUTPUT (sigma' = y (1 - y),
tanh' = 1 - y^2) and never re-evaluate an exponential in the backward. Once
y rounds to +-1 the factor 1 - |y| would cancel to 0, so the forward also
caches that gap, computed without cancellation from e = exp(-|x|) <= 1.
Nothing overflows: every value and gradient is finite for any finite x.
The stable sigmoid and softplus at the end are the only ones in npgen; the
losses use them too.
"""

from __future__ import annotations

from typing import NamedTuple

from npgen._checks.layers import check_elementwise_backward, check_elementwise_double_backward
from npgen._checks.primitives import check_float, check_real

__all__ = [
    "LeakyReLUCache",
    "ReLUCache",
    "SigmoidCache",
    "TanhCache",
    "leaky_relu_backward",
    "leaky_relu_double_backward",
    "leaky_relu_forward",
    "relu_backward",
    "relu_double_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_double_backward",
    "sigmoid_forward",
    "tanh_backward",
    "tanh_double_backward",
    "tanh_forward",
]


# ----------------------------------------------------------------------------
# ReLU and LeakyReLU
# ----------------------------------------------------------------------------


class ReLUCache(NamedTuple):
    positive: object  # bool array, x's shape: x > 0
    dtype: object  # x's dtype, which dy must have


def relu_forward(x):
    """y = max(x, 0); returns ``(y, ReLUCache)``. NaN stays NaN, as in ``torch.relu``."""
    return relu(check_float("relu_forward", x), x)


def relu(xp, x):
    """The math of :func:`relu_forward`, unchecked (the ReLU layer checked its input)."""
    y = xp.where(x < 0, xp.zeros_like(x), x)  # `x < 0` is False for NaN: it propagates
    return y, ReLUCache(positive=x > 0, dtype=x.dtype)


def relu_backward(dy, cache: ReLUCache):
    """dx = dy * [x > 0]   (0 at x = 0, as PyTorch)."""
    xp = check_elementwise_backward("relu_backward", dy, cache.positive, cache.dtype)
    return xp.where(cache.positive, dy, xp.zeros_like(dy))


def relu_double_backward(ddx, dy, cache: ReLUCache):
    """VJP of dx = dy [x > 0] for <ddx, dx>:  d_dy = ddx [x > 0],  d_x = 0 (away from the kink).

    Returns ``(d_dy, d_x)``, both of x's shape.
    """
    xp = check_elementwise_double_backward("relu_double_backward", ddx, dy, cache.positive,
                                           cache.dtype)
    return xp.where(cache.positive, ddx, xp.zeros_like(ddx)), xp.zeros_like(ddx)


class LeakyReLUCache(NamedTuple):
    positive: object  # bool array, x's shape: x > 0
    negative_slope: float
    dtype: object  # x's dtype, which dy must have


def leaky_relu_forward(x, negative_slope: float = 0.01):
    """y = x if x > 0 else negative_slope * x; returns ``(y, LeakyReLUCache)``."""
    xp = check_float("leaky_relu_forward", x)
    negative_slope = check_real("leaky_relu_forward", negative_slope, "negative_slope")
    return leaky_relu(xp, x, negative_slope)


def leaky_relu(xp, x, negative_slope: float):
    """The math of :func:`leaky_relu_forward`, unchecked (the LeakyReLU layer checked)."""
    positive = x > 0
    y = xp.where(positive, x, negative_slope * x)
    return y, LeakyReLUCache(positive=positive, negative_slope=float(negative_slope),
                             dtype=x.dtype)


def leaky_relu_backward(dy, cache: LeakyReLUCache):
    """dx = dy * ([x > 0] + a [x <= 0])   (a = negative_slope at x = 0, as PyTorch)."""
    xp = check_elementwise_backward("leaky_relu_backward", dy, cache.positive, cache.dtype)
    return xp.where(cache.positive, dy, cache.negative_slope * dy)


def leaky_relu_double_backward(ddx, dy, cache: LeakyReLUCache):
    """VJP of dx = dy ([x > 0] + a [x <= 0]) for <ddx, dx>:  d_dy = that slope * ddx,  d_x = 0.

    Piecewise linear: the slope is constant on each side of 0, so x gets no
    cotangent away from the kink. Returns ``(d_dy, d_x)``, both of x's shape.
    """
    xp = check_elementwise_double_backward("leaky_relu_double_backward", ddx, dy,
                                           cache.positive, cache.dtype)
    d_dy = xp.where(cache.positive, ddx, cache.negative_slope * ddx)
    return d_dy, xp.zeros_like(ddx)


# ----------------------------------------------------------------------------
# Sigmoid and tanh: backward from the output
# ----------------------------------------------------------------------------


class SigmoidCache(NamedTuple):
    y: object  # sigma(x)
    y_complement: object  # 1 - sigma(x) = sigma(-x), computed without cancellation


def sigmoid_forward(x):
    """y = 1 / (1 + exp(-x)), evaluated stably; returns ``(y, SigmoidCache)``.

    Notes
    -----
    With e = exp(-|x|) in (0, 1]: sigma(|x|) = 1 / (1 + e) and
    sigma(-|x|) = e / (1 + e) (see :func:`sigmoid_pair`). Neither overflows, and
    both y and 1 - y are accurate to a few ulps even where the other rounds to 1.
    """
    return sigmoid(check_float("sigmoid_forward", x), x)


def sigmoid(xp, x):
    """The math of :func:`sigmoid_forward`, unchecked (the Sigmoid layer checked its input)."""
    y, y_complement = sigmoid_pair(xp, x)
    return y, SigmoidCache(y=y, y_complement=y_complement)


def sigmoid_backward(dy, cache: SigmoidCache):
    """dx = dy * y * (1 - y)   with y = sigma(x) read from the cache."""
    check_elementwise_backward("sigmoid_backward", dy, cache.y)
    return dy * cache.y * cache.y_complement


def sigmoid_double_backward(ddx, dy, cache: SigmoidCache):
    """VJP of dx = dy y (1 - y) for <ddx, dx>:  d_dy = ddx y (1 - y),  d_x = ddx dy y (1-y)(1-2y).

    The backward reads x through y = sigma(x), so x receives a cotangent:
    d/dx [y (1 - y)] = y (1 - y) (1 - 2y), with 1 - 2y = (1 - y) - y computed from the
    cached pair. Returns ``(d_dy, d_x)``, both of x's shape.
    """
    check_elementwise_double_backward("sigmoid_double_backward", ddx, dy, cache.y)
    slope = cache.y * cache.y_complement  # sigma'(x) = y (1 - y)
    curvature = slope * (cache.y_complement - cache.y)  # sigma''(x) = y (1 - y)(1 - 2y)
    return ddx * slope, ddx * dy * curvature


class TanhCache(NamedTuple):
    y: object  # tanh(x)
    gap: object  # 1 - |tanh(x)| = 2 e / (1 + e), e = exp(-2|x|), without cancellation


def tanh_forward(x):
    """y = tanh(x) (the library's ``tanh``); returns ``(y, TanhCache)``.

    Notes
    -----
    The cache keeps g = 1 - |y| = 2e / (1 + e) with e = exp(-2|x|) in (0, 1],
    so that 1 - y^2 = g (2 - g) keeps full relative precision when y rounds to +-1.
    """
    return tanh(check_float("tanh_forward", x), x)


def tanh(xp, x):
    """The math of :func:`tanh_forward`, unchecked (the Tanh layer checked its input)."""
    y = xp.tanh(x)
    e = xp.exp(-2.0 * xp.abs(x))
    return y, TanhCache(y=y, gap=2.0 * e / (1.0 + e))


def tanh_backward(dy, cache: TanhCache):
    """dx = dy * (1 - y^2) = dy * g (2 - g)   with y = tanh(x), g = 1 - |y| from the cache."""
    check_elementwise_backward("tanh_backward", dy, cache.y)
    return dy * cache.gap * (2.0 - cache.gap)


def tanh_double_backward(ddx, dy, cache: TanhCache):
    """VJP of dx = dy (1 - y^2) for <ddx, dx>:  d_dy = ddx (1 - y^2),  d_x = -2 ddx dy y (1 - y^2).

    The backward reads x through y = tanh(x): d/dx (1 - y^2) = -2 y (1 - y^2).
    Returns ``(d_dy, d_x)``, both of x's shape.
    """
    check_elementwise_double_backward("tanh_double_backward", ddx, dy, cache.y)
    slope = cache.gap * (2.0 - cache.gap)  # tanh'(x) = 1 - y^2
    return ddx * slope, -2.0 * ddx * dy * cache.y * slope


# ----------------------------------------------------------------------------
# The stable pieces, shared with the losses (npgen/losses)
# ----------------------------------------------------------------------------


def sigmoid_pair(xp, x):
    """(sigma(x), sigma(-x)) = (sigma(x), 1 - sigma(x)), each from e = exp(-|x|) <= 1.

    For x >= 0: sigma(x) = 1 / (1 + e), sigma(-x) = e / (1 + e); mirrored for x < 0.
    Nothing overflows, and both are accurate to a few ulps in relative terms, even
    the tiny one (sigma(-80) ~ 1.8e-35 where 1 - sigma(80) would round to 0).
    """
    e = xp.exp(-xp.abs(x))
    big = 1.0 / (1.0 + e)  # sigma(|x|), in [1/2, 1]
    small = e * big  # sigma(-|x|) = e / (1 + e), in (0, 1/2]
    nonnegative = x >= 0.0
    return xp.where(nonnegative, big, small), xp.where(nonnegative, small, big)


def softplus(xp, x, slope=0.0):
    """softplus(x) - slope * x = log(1 + e^x) - slope * x, finite for every finite x.

    Evaluated as max(x, 0) - slope * x + log1p(e^-|x|): no exponential of a positive
    number, and the linear part is subtracted before the log term is added, so
    softplus(x) - x = log1p(e^-x) keeps its relative accuracy for large x (the BCE
    of a confident, correct logit). ``slope`` is a float or an array of x's shape.
    """
    return xp.maximum(x, 0.0) - x * slope + xp.log1p(xp.exp(-xp.abs(x)))
