"""``verify_double_backward``: check someone's second-order code (gradient penalties) against npgen.

The convention is npgen's ``op_double_backward``: for an op with backward
``dx = B(dy, x, theta)``, their function receives the cotangent ``ddx`` of dx, the upstream
gradient ``dy`` and the op's arrays, and returns the cotangents of ``dy``, ``x`` and each
parameter for the scalar <ddx, dx>. The reference is npgen's functional double backward on
NumPy float64 arrays; configurations are drawn and shrunk as in the other ``verify_*``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from npgen.functional import activations as act
from npgen.functional import conv, dense
from npgen.testing import strategies as nst
from npgen.verify._convert import as_numpy, resolve_converter
from npgen.verify._runner import OpSpec, run_differential
from npgen.verify.report import VerifyError, VerifyReport

__all__ = ["verify_double_backward"]

_LAYER_ARRAYS = ("ddx", "dy", "x", "weight", "bias")
_LAYER_RESULTS = ("d_dy", "d_x", "dweight", "dbias")
_ACTIVATIONS = {"relu": (act.relu_forward, act.relu_double_backward),
                "leaky_relu": (act.leaky_relu_forward, act.leaky_relu_double_backward),
                "sigmoid": (act.sigmoid_forward, act.sigmoid_double_backward),
                "tanh": (act.tanh_forward, act.tanh_double_backward)}
OPS = ("dense", "conv2d", "conv_transpose2d", *_ACTIVATIONS)


def _uniform(rng, shape):
    return rng.uniform(-1.0, 1.0, size=shape)


def _layer_spec(name, config_args, configs, forward, double_backward, weight_shape):
    """A layer's spec: the inputs include dy, drawn with the shape of npgen's forward output."""

    def make_inputs(config, rng):
        x = _uniform(rng, config["input_shape"])
        weight = _uniform(rng, weight_shape(config))
        bias = _uniform(rng, (config["out_features"],)) if config["bias"] else None
        y, _ = forward(x, weight, bias, *(config[k] for k in config_args))
        return {"ddx": _uniform(rng, x.shape), "dy": _uniform(rng, y.shape), "x": x,
                "weight": weight, "bias": bias}

    def reference(a, config, _upstream):
        _, cache = forward(a["x"], a["weight"], a["bias"], *(config[k] for k in config_args))
        return dict(zip(_LAYER_RESULTS, double_backward(a["ddx"], a["dy"], cache)))

    return OpSpec(f"double_backward({name})", _LAYER_ARRAYS, config_args, _LAYER_RESULTS, (),
                  None, configs, make_inputs, reference)


def _dense_configs():
    return st.builds(lambda n, c_in, c_out, bias: {"input_shape": (n, c_in), "out_features": c_out,
                                                   "in_features": c_in, "bias": bias},
                     st.integers(1, 4), st.integers(1, 5), st.integers(1, 5), st.booleans())


def _conv_configs(geometries):
    return st.builds(lambda g, bias: {**g._asdict(), "input_shape": g.input_shape,
                                      "out_features": g.out_channels, "bias": bias},
                     geometries(max_batch=2, max_channels=3, max_size=6), st.booleans())


def _layer(op: str) -> OpSpec:
    if op == "dense":
        return _layer_spec(op, (), _dense_configs, dense.dense_forward,
                           dense.dense_double_backward,
                           lambda c: (c["out_features"], c["in_features"]))
    if op == "conv2d":
        return _layer_spec(op, ("stride", "padding", "dilation"),
                           lambda: _conv_configs(nst.conv2d_geometries), conv.conv2d_forward,
                           conv.conv2d_double_backward,
                           lambda c: (c["out_channels"], c["in_channels"], *c["kernel_size"]))
    return _layer_spec(op, ("stride", "padding", "output_padding", "dilation"),
                       lambda: _conv_configs(nst.conv_transpose2d_geometries),
                       conv.conv_transpose2d_forward, conv.conv_transpose2d_double_backward,
                       lambda c: (c["in_channels"], c["out_channels"], *c["kernel_size"]))


def _activation(op: str, negative_slope: float) -> OpSpec:
    forward, double_backward = _ACTIVATIONS[op]
    extra = (negative_slope,) if op == "leaky_relu" else ()

    def configs():
        return st.fixed_dictionaries({"shape": nst.shapes(1, 3, 1, 4),
                                      "scale": st.sampled_from([1.0, 5.0])})

    def make_inputs(config, rng):
        x = rng.uniform(-config["scale"], config["scale"], size=config["shape"])
        x = np.where(np.abs(x) < 1e-3, 1e-3, x)  # off the kink of relu / leaky_relu
        return {"ddx": _uniform(rng, x.shape), "dy": _uniform(rng, x.shape), "x": x}

    def reference(a, config, _upstream):
        _, cache = forward(a["x"], *extra)
        return dict(zip(("d_dy", "d_x"), double_backward(a["ddx"], a["dy"], cache)))

    return OpSpec(f"double_backward({op})", ("ddx", "dy", "x"), (), ("d_dy", "d_x"), (), None,
                  configs, make_inputs, reference)


def _none_as_zero(double_backward, names):
    """Their results with None read as zeros of the matching input (torch's allow_unused)."""
    matching = {"d_dy": 1, "d_x": 2, "dweight": 3, "dbias": 4}

    def wrapped(*args):
        results = double_backward(*args)
        if not isinstance(results, (tuple, list)) or len(results) != len(names):
            return results  # the runner reports the malformed result
        return tuple(np.zeros(as_numpy(args[matching[n]]).shape)
                     if r is None and args[matching[n]] is not None else r
                     for n, r in zip(names, results))

    return wrapped


def verify_double_backward(op: str, double_backward, *, negative_slope: float = 0.01,
                           max_examples: int = 50, rtol=None, atol=None, seed: int = 0,
                           array_library=None, to_theirs=None,
                           raise_exception: bool = True) -> VerifyReport:
    """Verify a second-order VJP (the heart of a gradient penalty) against npgen's.

    Parameters
    ----------
    op : str
        ``"dense"``, ``"conv2d"``, ``"conv_transpose2d"``, ``"relu"``, ``"leaky_relu"``,
        ``"sigmoid"`` or ``"tanh"``, with the layouts of :mod:`npgen.verify`'s first-order
        functions (torch's).
    double_backward : callable
        Layers: ``double_backward(ddx, dy, x, weight, bias, *geometry) -> (d_dy, d_x,
        dweight, dbias)``, where the geometry is ``stride, padding, dilation`` (conv2d) or
        ``stride, padding, output_padding, dilation`` (conv_transpose2d), (h, w) pairs.
        Activations: ``double_backward(ddx, dy, x) -> (d_dy, d_x)``. Each result is the
        gradient of the scalar <ddx, dx> with dx = backward(dy, x, ...); ``None`` counts as
        zero (what ``torch.autograd.grad(..., allow_unused=True)`` returns for x and bias).
    negative_slope : float
        leaky_relu's slope.
    max_examples, rtol, atol, seed, array_library, to_theirs, raise_exception
        As for every ``npgen.verify`` function (see :mod:`npgen.verify.api`).

    Example (torch, second order by ``create_graph=True``)::

        import torch, torch.nn.functional as F

        def conv_double_backward(ddx, dy, x, w, b, stride, padding, dilation):
            x, w, dy = (t.requires_grad_() for t in (x, w, dy))
            y = F.conv2d(x, w, b, stride, padding, dilation)
            (dx,) = torch.autograd.grad(y, x, dy, create_graph=True)
            return torch.autograd.grad((dx * ddx).sum(), (dy, x, w), allow_unused=True) + (None,)

        npgen.verify.verify_double_backward("conv2d", conv_double_backward,
                                            array_library="torch")
    """
    where = "npgen.verify.verify_double_backward"
    if op not in OPS:
        raise ValueError(f"{where}: unknown op {op!r}; expected one of {', '.join(OPS)}")
    if not callable(double_backward):
        raise TypeError(f"{where}: double_backward must be callable; got {double_backward!r}")
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1:
        raise ValueError(f"{where}: max_examples must be a positive int; got {max_examples!r}")
    if (rtol is None) != (atol is None):
        raise ValueError(f"{where}: pass both rtol and atol, or neither (dtype defaults)")
    spec = _activation(op, negative_slope) if op in _ACTIVATIONS else _layer(op)
    convert = resolve_converter(where, array_library, to_theirs)
    report = run_differential(spec, _none_as_zero(double_backward, spec.outputs), None,
                              convert=convert, max_examples=max_examples, seed=seed, rtol=rtol,
                              atol=atol)
    if raise_exception and not report.ok:
        raise VerifyError(report)
    return report
