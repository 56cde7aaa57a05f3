"""Adapters from common calling conventions to npgen.verify's, each a line of glue.

Every adapter returns a dict of keyword arguments for a ``verify_*`` call:
the adapted ``forward`` and ``backward`` (or ``make_step``) and, where the
convention cannot express part of npgen's configuration space, the
``supports`` it declares::

    verify_conv2d(**cs231n_conv(conv_forward_naive, conv_backward_naive))

CS231n-style layers come as pairs ``forward(...) -> (out, cache)`` and
``backward(dout, cache) -> gradients``; the adapted backward reruns the forward
for its cache (nothing is kept between calls).
"""

from __future__ import annotations

from npgen.verify._support import same_per_axis

__all__ = ["cached_pair", "cs231n_adam", "cs231n_affine", "cs231n_batchnorm", "cs231n_conv",
           "cs231n_sgd_momentum", "optimizer_class", "weights_in_out"]


def cached_pair(forward, backward) -> dict:
    """``forward(*args) -> (out, cache)``, ``backward(dout, cache)``: e.g. CS231n's relu pair.

    The arguments are npgen's (``verify_activation``: ``x``; ``verify_dropout``:
    ``x, keep_mask, p``); only the ``(out, cache)`` convention is adapted.
    """
    return {"forward": lambda *args: forward(*args)[0],
            "backward": _maybe(backward, lambda dy, *args: backward(dy, forward(*args)[1]))}


def _maybe(backward, adapted):
    """The adapted backward, or None when there is no backward to adapt (forward-only)."""
    return None if backward is None else adapted


def cs231n_conv(forward, backward) -> dict:
    """CS231n's ``conv_forward_naive(x, w, b, conv_param)``, ``conv_backward_naive(dout, cache)``.

    ``conv_param = {"stride": s, "pad": p}`` has one stride and one padding for
    both axes and no dilation; ``b`` is required. Declared: ``dilation`` 1,
    ``bias`` True, ``stride`` and ``padding`` equal per axis.
    """
    def param(stride, padding):
        return {"stride": stride[0], "pad": padding[0]}

    return {
        "forward": lambda x, w, b, s, p, d: forward(x, w, b, param(s, p))[0],
        "backward": _maybe(backward, lambda dy, x, w, b, s, p, d: tuple(
            backward(dy, forward(x, w, b, param(s, p))[1]))),
        "supports": {"dilation": 1, "bias": True, "stride": same_per_axis,
                     "padding": same_per_axis},
    }


def cs231n_affine(forward, backward) -> dict:
    """CS231n's ``affine_forward(x, w, b)`` with ``w`` stored (in, out), and its backward.

    npgen (like torch) stores the weight (out, in): the adapter transposes it on
    the way in and ``dw`` on the way out. ``b`` is required (declared).
    """
    def backward_out_in(dy, x, w, b):
        dx, dw, db = backward(dy, forward(x, w.T, b)[1])
        return dx, dw.T, db

    return {"forward": lambda x, w, b: forward(x, w.T, b)[0],
            "backward": _maybe(backward, backward_out_in), "supports": {"bias": True}}


def weights_in_out(forward, backward=None) -> dict:
    """A dense layer in plain form with the weight stored (in, out): ``forward(x, w, b) -> y``,
    ``backward(dy, x, w, b) -> (dx, dw, db)`` with ``w`` and ``dw`` (in, out)."""
    def backward_out_in(dy, x, w, b):
        dx, dw, db = backward(dy, x, w.T, b)
        return dx, dw.T, db

    return {"forward": lambda x, w, b: forward(x, w.T, b),
            "backward": _maybe(backward, backward_out_in)}


def cs231n_batchnorm(forward, backward, *, spatial: bool = False) -> dict:
    """CS231n's ``batchnorm_forward(x, gamma, beta, bn_param)`` (training mode) and backward.

    ``bn_param = {"mode": "train", "eps": eps}``. ``spatial=False``: the (N, D)
    version (declared: no spatial axes); ``spatial=True``: ``spatial_batchnorm_*``
    on (N, C, H, W) (declared: two spatial axes).
    """
    def run(x, w, b, eps):
        return forward(x, w, b, {"mode": "train", "eps": eps, "momentum": 0.9})

    rank = (lambda s: len(s) == 2) if spatial else ()
    return {"forward": lambda x, w, b, eps: run(x, w, b, eps)[0],
            "backward": _maybe(backward, lambda dy, x, w, b, eps: tuple(
                backward(dy, run(x, w, b, eps)[1]))),
            "supports": {"spatial": rank}}


def cs231n_adam(update) -> dict:
    """CS231n's ``adam(w, dw, config) -> (next_w, config)`` for ``verify_optimizer_steps("adam")``.

    ``config`` holds learning_rate, beta1, beta2, epsilon and the state m, v, t.
    Declared: no weight decay, no AMSGrad.
    """
    def make_step(param, lr, betas, eps, weight_decay, amsgrad):
        config = {"learning_rate": lr, "beta1": betas[0], "beta2": betas[1], "epsilon": eps}
        state = {"w": param, "config": config}

        def step(grad):
            state["w"], state["config"] = update(state["w"], grad, state["config"])
            return state["w"]

        return step

    return {"make_step": make_step, "supports": {"weight_decay": 0.0, "amsgrad": False}}


def cs231n_sgd_momentum(update) -> dict:
    """CS231n's ``sgd_momentum(w, dw, config)`` (``v = mu v - lr dw``; ``w += v``) for
    ``verify_optimizer_steps("sgd")``: the same iterates as torch's SGD at a constant
    learning rate. Declared: no dampening, Nesterov or weight decay; momentum > 0."""
    def make_step(param, lr, momentum, dampening, nesterov, weight_decay):
        state = {"w": param, "config": {"learning_rate": lr, "momentum": momentum}}

        def step(grad):
            state["w"], state["config"] = update(state["w"], grad, state["config"])
            return state["w"]

        return step

    return {"make_step": make_step, "supports": {
        "dampening": 0.0, "nesterov": False, "weight_decay": 0.0,
        "momentum": lambda m: m > 0}}


def optimizer_class(cls) -> dict:
    """An npgen-like optimizer class, ``cls(params: dict, **hyper)`` with ``step(grads: dict)``
    updating the arrays in place, for :func:`npgen.verify.verify_optimizer_steps`."""
    def make_step(param, **hyper):
        params = {"param": param}
        optimizer = cls(params, **hyper)

        def step(grad):
            optimizer.step({"param": grad})
            return params["param"] * 1.0  # a copy of the updated array

        return step

    return {"make_step": make_step}
