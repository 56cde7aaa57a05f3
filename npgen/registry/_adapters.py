"""Adapters that give every registry entry one calling convention:
``forward(config, *inputs) -> y`` and ``vjp(config, dy, *inputs) -> gradients``, plus the
slow twins' conv settings."""

from __future__ import annotations

from npgen import functional as F
from npgen import losses


def pair(forward, backward):
    """(forward, vjp) for ``forward(*inputs, **config) -> (y, cache)`` and its backward."""

    def f(config, *inputs):
        return forward(*inputs, **config)[0]

    def vjp(config, dy, *inputs):
        grads = backward(dy, forward(*inputs, **config)[1])
        grads = grads if isinstance(grads, tuple) else (grads,)
        return tuple(grads[:len(inputs)]) + (None,) * (len(inputs) - len(grads))

    return f, vjp


def loss(function, slots):
    """(forward, vjp) for ``function(*inputs, **config) -> (value, grad_1, ...)``.

    ``slots[i]`` is the index in that result of input i's gradient (None: no gradient).
    """

    def f(config, *inputs):
        return function(*inputs, **config)[0]

    def vjp(config, dy, *inputs):
        result = function(*inputs, **config)
        return tuple(None if s is None else dy * result[s] for s in slots)

    return f, vjp


def second_order(forward, backward, double_backward):
    """(F, vjp) for the backward itself, F(dy, *inputs) = dx = backward(dy, forward(*inputs)),
    whose VJP is the op's ``double_backward(ddx, dy, cache)`` (gradient penalties)."""

    def f(config, dy, *inputs):
        dx = backward(dy, forward(*inputs, **config)[1])
        return dx[0] if isinstance(dx, tuple) else dx  # layers return (dx, dweight, dbias)

    def vjp(config, ddx, dy, *inputs):
        grads = double_backward(ddx, dy, forward(*inputs, **config)[1])
        return tuple(grads[:1 + len(inputs)])  # d_dy, d_x, then one per parameter given

    return f, vjp


def batchnorm_pair(training):
    """Running statistics (eval mode) are inputs without a gradient; ``config`` may set eps."""

    def f(config, x, weight, bias, *running):
        return F.batchnorm_forward(x, weight, bias, *(running or (None, None)), training,
                                   **config)[0]

    def vjp(config, dy, x, weight, bias, *running):
        _, cache, _, _ = F.batchnorm_forward(x, weight, bias, *(running or (None, None)),
                                             training, **config)
        return F.batchnorm_backward(dy, cache) + (None,) * len(running)

    return f, vjp


def dropout_pair():
    """The mask is an input (drawn with the configuration), without a gradient."""

    def f(config, x, keep_mask):
        return F.dropout_forward(x, config["p"], keep_mask)[0]

    def vjp(config, dy, x, keep_mask):
        return F.dropout_backward(dy, F.dropout_forward(x, config["p"], keep_mask)[1]), None

    return f, vjp


def reparameterize_vjp(config, dz, mu, logvar, eps):
    return losses.reparameterize_backward(dz, mu, logvar, eps) + (None,)


def conv_settings(config: dict) -> dict:
    """The geometry keywords of a conv case, as the conv twins take them."""
    return {k: config[k] for k in ("stride", "padding", "dilation", "output_padding")
            if k in config}
