"""Dense (fully connected) layer: ``y = x W^T + b``, with PyTorch's ``Linear`` layout.

Symbols (docs/layers/dense.md): N batch, C_in input features, C_out output
features; x (N, C_in), W (C_out, C_in), b (C_out,), y (N, C_out).
"""

from __future__ import annotations

from typing import NamedTuple

from npgen._validation import check_float, check_like, check_rank, namespace

__all__ = ["DenseCache", "dense_backward", "dense_forward"]


class DenseCache(NamedTuple):
    """What :func:`dense_backward` reads."""

    x: object  # (N, C_in)
    weight: object  # (C_out, C_in)
    has_bias: bool


def dense_forward(x, weight, bias=None):
    """Affine map ``y = x W^T + b``.

    Parameters
    ----------
    x : array (N, C_in)
    weight : array (C_out, C_in)
    bias : array (C_out,) or None

    Returns
    -------
    y : array (N, C_out)
    cache : DenseCache

    Notes
    -----
    y[n, o] = sum_i x[n, i] W[o, i] + b[o]. Same layout as ``torch.nn.Linear``.
    """
    where = "dense_forward"
    arrays = (x, weight) if bias is None else (x, weight, bias)
    namespace(where, *arrays)
    check_float(where, x)
    check_rank(where, x, 2, "(N, C_in)")
    check_rank(where, weight, 2, "(C_out, C_in)", name="weight")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"{where}: x has {x.shape[1]} features but weight {tuple(weight.shape)} expects "
            f"{weight.shape[1]}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"{where}: bias must have shape ({weight.shape[0]},); got {tuple(bias.shape)}"
        )
    y = x @ weight.mT  # (N, C_out)
    if bias is not None:
        y = y + bias  # (C_out,) broadcast over N
    return y, DenseCache(x=x, weight=weight, has_bias=bias is not None)


def dense_backward(dy, cache: DenseCache):
    """dx = dy W,  dW = dy^T x,  db = sum_n dy[n].

    Parameters
    ----------
    dy : array (N, C_out)
    cache : DenseCache from :func:`dense_forward`

    Returns
    -------
    dx : array (N, C_in)
    dweight : array (C_out, C_in)
    dbias : array (C_out,) or None when the forward had no bias
    """
    xp = namespace("dense_backward", dy, cache.x)
    check_like("dense_backward", dy, cache.weight, "dy", "weight")  # no silent casts
    if tuple(dy.shape) != (cache.x.shape[0], cache.weight.shape[0]):
        raise ValueError(
            f"dense_backward: dy must have shape {(cache.x.shape[0], cache.weight.shape[0])}; "
            f"got {tuple(dy.shape)}"
        )
    dx = dy @ cache.weight  # (N, C_in)
    dweight = dy.mT @ cache.x  # (C_out, C_in)
    dbias = xp.sum(dy, axis=0) if cache.has_bias else None  # (C_out,)
    return dx, dweight, dbias
