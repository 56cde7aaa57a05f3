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

from npgen._checks.layers import check_dropout, check_dropout_backward, check_dropout_probability

__all__ = ["DropoutCache", "check_dropout_probability", "dropout_backward", "dropout_forward"]


class DropoutCache(NamedTuple):
    scaled_mask: object  # keep / (1 - p), x's shape


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
    _, p = check_dropout("dropout_forward", x, p, keep_mask)
    return dropout(x, p, keep_mask)


def dropout(x, p: float, keep_mask):
    """The math of :func:`dropout_forward`, unchecked (the Dropout layer drew a valid mask)."""
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    scaled_mask = keep_mask * scale  # x's shape
    return x * scaled_mask, DropoutCache(scaled_mask=scaled_mask)


def dropout_backward(dy, cache: DropoutCache):
    """dx = dy * keep / (1 - p)."""
    check_dropout_backward("dropout_backward", dy, cache)
    return dy * cache.scaled_mask
