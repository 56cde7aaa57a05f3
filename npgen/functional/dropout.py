"""Inverted dropout (Srivastava et al., 2014), scaled at training time as PyTorch.

The caller draws the keep mask (the ``Dropout`` module uses its
:class:`npgen.RNG`: ``keep = uniform(x.shape) >= p``), so the pair is a
deterministic function of ``(x, mask)`` and can be gradient-checked:

    y = x * keep / (1 - p),   dx = dy * keep / (1 - p)

With ``p = 1`` every unit is dropped and y = 0 (the scale is taken as 0,
never 1/0), as ``torch.nn.functional.dropout`` does.
"""

from __future__ import annotations

from typing import NamedTuple

from npgen._validation import check_float, check_like, check_same_shape, namespace

__all__ = ["DropoutCache", "check_dropout_probability", "dropout_backward", "dropout_forward"]


class DropoutCache(NamedTuple):
    scaled_mask: object  # keep / (1 - p), x's shape


def check_dropout_probability(where: str, p) -> float:
    """``p`` as a float in [0, 1], or a ValueError naming ``where``."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{where}: dropout probability p must be a number in [0, 1]; got {p!r}")
    return float(p)


def dropout_forward(x, p: float, keep_mask):
    """Zero the entries where ``keep_mask`` is 0 and scale the rest by 1 / (1 - p).

    Parameters
    ----------
    x : array, any shape
    p : float in [0, 1]
        Drop probability the mask was drawn with.
    keep_mask : array, x's shape and dtype
        1 where a unit is kept, 0 where it is dropped.

    Returns
    -------
    y : array, x's shape
    cache : DropoutCache
    """
    where = "dropout_forward"
    p = check_dropout_probability(where, p)
    namespace(where, x, keep_mask)
    check_float(where, x)
    check_like(where, keep_mask, x, name="keep_mask", reference_name="input")
    check_same_shape(where, x, keep_mask, "x", "keep_mask")
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    scaled_mask = keep_mask * scale  # x's shape
    return x * scaled_mask, DropoutCache(scaled_mask=scaled_mask)


def dropout_backward(dy, cache: DropoutCache):
    """dx = dy * keep / (1 - p)."""
    namespace("dropout_backward", dy, cache.scaled_mask)
    check_same_shape("dropout_backward", dy, cache.scaled_mask, "dy", "the forward input")
    check_like("dropout_backward", dy, cache.scaled_mask, "dy", "forward input")  # no promotion
    return dy * cache.scaled_mask
