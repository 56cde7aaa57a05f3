"""Shared pieces of the losses: stable softplus/sigmoid, BCE terms, input checks, 0-d results.

Every helper takes the namespace ``xp`` as its first argument; only the
public loss functions look it up (from their inputs).
"""

from __future__ import annotations

import math
import numbers

from npgen._validation import check_float, check_like, check_same_shape

REDUCTIONS = ("mean", "sum")


# ----------------------------------------------------------------------------
# Stable elementwise pieces
# ----------------------------------------------------------------------------


def softplus(xp, x):
    """softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for every finite x."""
    return xp.maximum(x, 0.0) + xp.log1p(xp.exp(-xp.abs(x)))


def sigmoid_pair(xp, x):
    """(sigmoid(x), sigmoid(-x)), each from e = e^-|x| <= 1, so neither overflows.

    For x >= 0: sigmoid(x) = 1/(1+e), sigmoid(-x) = e/(1+e); mirrored for x < 0.
    Both are accurate to a few ulps in relative terms, even the tiny one.
    """
    e = xp.exp(-xp.abs(x))
    big = 1.0 / (1.0 + e)  # the one in [1/2, 1]
    small = e * big  # the one in (0, 1/2]
    nonnegative = x >= 0.0
    return xp.where(nonnegative, big, small), xp.where(nonnegative, small, big)


def bce_terms(xp, logits, target):
    """Elementwise BCE with logits l and target t, and its derivative in l.

    loss = max(l, 0) - l t + log1p(e^-|l|)   (= softplus(l) - t l)
    dl   = (1 - t) sigmoid(l) - t sigmoid(-l) (= sigmoid(l) - t)

    The derivative is written so that hard targets (t = 0 or 1) keep full
    relative accuracy: for l = 80, t = 1 it gives -sigmoid(-80) ~ -1.8e-35,
    where sigmoid(80) - 1 would round to 0. ``target`` may be an array or a float.
    """
    loss = xp.maximum(logits, 0.0) - logits * target + xp.log1p(xp.exp(-xp.abs(logits)))
    positive, negative = sigmoid_pair(xp, logits)
    dlogits = (1.0 - target) * positive - target * negative
    return loss, dlogits


def as_0d(xp, value):
    """A 0-d array of the namespace (NumPy reductions return NumPy scalars otherwise)."""
    return xp.asarray(value)


# ----------------------------------------------------------------------------
# Input checks (messages name the function, what was expected and what came)
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
