"""Op specs for the layers: dense, conv, batch norm, activations, dropout, flatten, unflatten.

Each spec draws a configuration dict (small sizes, so a failing case shrinks
to something a person can reason about), makes NumPy float64 inputs from it,
and computes npgen's reference with the functional pairs on the numpy backend.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from npgen.functional import activations as act
from npgen.functional.batchnorm import batchnorm_backward, batchnorm_forward
from npgen.functional.conv import (
    conv2d_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from npgen.functional.dense import dense_backward, dense_forward
from npgen.functional.dropout import dropout_backward, dropout_forward
from npgen.functional.shape import (
    flatten_backward,
    flatten_forward,
    unflatten_backward,
    unflatten_forward,
)
from npgen.testing import strategies as nst
from npgen.verify._runner import OpSpec

__all__ = ["ACTIVATIONS", "BATCHNORM", "BATCHNORM_EVAL", "CONV2D", "CONV_TRANSPOSE2D", "DENSE",
           "DROPOUT", "FLATTEN", "UNFLATTEN", "activation_spec"]


def _uniform(rng, shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=shape)


def _with_gradients(upstream, y, backward, cache, names) -> dict:
    """{"y": y} plus the named gradients of ``backward(upstream, cache)`` when upstream is given."""
    out = {"y": y}
    grads = backward(upstream, cache) if upstream is not None else (None,) * len(names)
    grads = (grads,) if len(names) == 1 and upstream is not None else grads  # a lone dx
    out.update(zip(names, grads))
    return out


# Dense -------------------------------------------------------------------------------------


def _dense_configs():
    return st.fixed_dictionaries({
        "batch": st.integers(1, 4), "in_features": st.integers(1, 5),
        "out_features": st.integers(1, 5), "bias": st.booleans(),
    })


def _dense_inputs(config, rng):
    return {"x": _uniform(rng, (config["batch"], config["in_features"])),
            "weight": _uniform(rng, (config["out_features"], config["in_features"])),
            "bias": _uniform(rng, (config["out_features"],)) if config["bias"] else None}


def _dense_reference(inputs, config, upstream):
    y, cache = dense_forward(inputs["x"], inputs["weight"], inputs["bias"])
    return _with_gradients(upstream, y, dense_backward, cache, ("dx", "dweight", "dbias"))


DENSE = OpSpec("dense", ("x", "weight", "bias"), (), ("y",), ("dx", "dweight", "dbias"), "dy",
               _dense_configs, _dense_inputs, _dense_reference)


# Convolution and transposed convolution ----------------------------------------------------


def _conv_configs(geometries):
    return st.builds(lambda g, bias: {**g._asdict(), "bias": bias}, geometries(), st.booleans())


def _conv_inputs(config, rng, weight_shape):
    out_channels = config["out_channels"]
    return {"x": _uniform(rng, (config["batch"], config["in_channels"], *config["size"])),
            "weight": _uniform(rng, weight_shape),
            "bias": _uniform(rng, (out_channels,)) if config["bias"] else None}


def _conv2d_inputs(config, rng):
    shape = (config["out_channels"], config["in_channels"], *config["kernel_size"])
    return _conv_inputs(config, rng, shape)  # weight (C_out, C_in, kh, kw)


def _conv2d_reference(inputs, config, upstream):
    y, cache = conv2d_forward(inputs["x"], inputs["weight"], inputs["bias"], config["stride"],
                              config["padding"], config["dilation"])
    return _with_gradients(upstream, y, conv2d_backward, cache, ("dx", "dweight", "dbias"))


def _conv_transpose2d_inputs(config, rng):
    shape = (config["in_channels"], config["out_channels"], *config["kernel_size"])
    return _conv_inputs(config, rng, shape)  # weight (C_in, C_out, kh, kw)


def _conv_transpose2d_reference(inputs, config, upstream):
    y, cache = conv_transpose2d_forward(
        inputs["x"], inputs["weight"], inputs["bias"], config["stride"], config["padding"],
        config["output_padding"], config["dilation"])
    return _with_gradients(upstream, y, conv_transpose2d_backward, cache,
                           ("dx", "dweight", "dbias"))


CONV2D = OpSpec(
    "conv2d", ("x", "weight", "bias"), ("stride", "padding", "dilation"), ("y",),
    ("dx", "dweight", "dbias"), "dy",
    lambda: _conv_configs(nst.conv2d_geometries), _conv2d_inputs, _conv2d_reference)

CONV_TRANSPOSE2D = OpSpec(
    "conv_transpose2d", ("x", "weight", "bias"),
    ("stride", "padding", "output_padding", "dilation"), ("y",), ("dx", "dweight", "dbias"),
    "dy", lambda: _conv_configs(nst.conv_transpose2d_geometries), _conv_transpose2d_inputs,
    _conv_transpose2d_reference)


# Batch norm in training mode ---------------------------------------------------------------


@st.composite
def _batchnorm_configs(draw):
    """(N, C, *S) with at least two values per channel; S has 0, 1 or 2 axes."""
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    batch = draw(st.integers(2 if math.prod(spatial) == 1 else 1, 4))
    return {"batch": batch, "channels": draw(st.integers(1, 3)), "spatial": spatial,
            "eps": draw(st.sampled_from([1e-5, 1e-3]))}


def _batchnorm_inputs(config, rng):
    channels = config["channels"]
    shape = (config["batch"], channels, *config["spatial"])
    return {"x": _uniform(rng, shape, -2.0, 2.0), "weight": _uniform(rng, (channels,), -1.5, 1.5),
            "bias": _uniform(rng, (channels,))}


def _batchnorm_reference(inputs, config, upstream):
    y, cache, _, _ = batchnorm_forward(inputs["x"], inputs["weight"], inputs["bias"], None, None,
                                       training=True, eps=config["eps"])
    return _with_gradients(upstream, y, batchnorm_backward, cache, ("dx", "dweight", "dbias"))


BATCHNORM = OpSpec("batchnorm_train", ("x", "weight", "bias"), ("eps",), ("y",),
                   ("dx", "dweight", "dbias"), "dy", _batchnorm_configs, _batchnorm_inputs,
                   _batchnorm_reference)


def _batchnorm_eval_inputs(config, rng):
    channels = config["channels"]
    return {**_batchnorm_inputs(config, rng),
            "running_mean": _uniform(rng, (channels,)),
            "running_var": _uniform(rng, (channels,), 0.2, 2.0)}


def _batchnorm_eval_reference(inputs, config, upstream):
    y, cache, _, _ = batchnorm_forward(inputs["x"], inputs["weight"], inputs["bias"],
                                       inputs["running_mean"], inputs["running_var"],
                                       training=False, eps=config["eps"])
    out = _with_gradients(upstream, y, batchnorm_backward, cache, ("dx", "dweight", "dbias"))
    return {**out, "drunning_mean": None, "drunning_var": None}


BATCHNORM_EVAL = OpSpec(
    "batchnorm_eval", ("x", "weight", "bias", "running_mean", "running_var"), ("eps",), ("y",),
    ("dx", "dweight", "dbias"), "dy", _batchnorm_configs, _batchnorm_eval_inputs,
    _batchnorm_eval_reference)


# Dropout with a given mask, flatten and unflatten ------------------------------------------


def _dropout_configs():
    return st.fixed_dictionaries({"shape": nst.shapes(1, 3, 1, 4),
                                  "p": st.sampled_from([0.5, 0.0, 0.25, 0.9])})


def _dropout_inputs(config, rng):
    shape = config["shape"]
    keep = (rng.uniform(0.0, 1.0, size=shape) >= config["p"]) * 1.0  # 1.0 keeps, 0.0 drops
    return {"x": _uniform(rng, shape), "keep_mask": keep}


def _dropout_reference(inputs, config, upstream):
    y, cache = dropout_forward(inputs["x"], config["p"], inputs["keep_mask"])
    out = _with_gradients(upstream, y, dropout_backward, cache, ("dx",))
    return {**out, "dkeep_mask": None}


DROPOUT = OpSpec("dropout", ("x", "keep_mask"), ("p",), ("y",), ("dx",), "dy", _dropout_configs,
                 _dropout_inputs, _dropout_reference)


@st.composite
def _flatten_configs(draw):
    shape = draw(nst.shapes(1, 4, 1, 3))
    start = draw(st.integers(0, len(shape) - 1))
    return {"shape": shape, "start_dim": start,
            "end_dim": draw(st.sampled_from([-1, *range(start, len(shape))]))}


def _flatten_reference(inputs, config, upstream):
    y, cache = flatten_forward(inputs["x"], config["start_dim"], config["end_dim"])
    return _with_gradients(upstream, y, flatten_backward, cache, ("dx",))


@st.composite
def _unflatten_configs(draw):
    shape = draw(nst.shapes(1, 3, 1, 6))
    dim = draw(st.integers(0, len(shape) - 1))
    first = draw(st.sampled_from([d for d in range(1, shape[dim] + 1) if shape[dim] % d == 0]))
    return {"shape": shape, "dim": dim, "sizes": (first, shape[dim] // first)}


def _unflatten_reference(inputs, config, upstream):
    y, cache = unflatten_forward(inputs["x"], config["dim"], config["sizes"])
    return _with_gradients(upstream, y, unflatten_backward, cache, ("dx",))


def _shaped_x(config, rng):
    return {"x": _uniform(rng, config["shape"])}


FLATTEN = OpSpec("flatten", ("x",), ("start_dim", "end_dim"), ("y",), ("dx",), "dy",
                 _flatten_configs, _shaped_x, _flatten_reference)
UNFLATTEN = OpSpec("unflatten", ("x",), ("dim", "sizes"), ("y",), ("dx",), "dy",
                   _unflatten_configs, _shaped_x, _unflatten_reference)


# Activations -------------------------------------------------------------------------------

ACTIVATIONS = {  # name -> (forward, backward); leaky_relu's forward also takes the slope
    "relu": (act.relu_forward, act.relu_backward),
    "leaky_relu": (act.leaky_relu_forward, act.leaky_relu_backward),
    "sigmoid": (act.sigmoid_forward, act.sigmoid_backward),
    "tanh": (act.tanh_forward, act.tanh_backward),
}


def activation_spec(name: str, negative_slope: float = 0.01) -> OpSpec:
    """The spec of one activation; inputs reach +-40 so that overflow-prone forms show."""
    if name not in ACTIVATIONS:
        raise ValueError(f"npgen.verify.verify_activation: unknown activation {name!r}; "
                         f"expected one of {', '.join(ACTIVATIONS)}")
    forward, backward = ACTIVATIONS[name]
    extra = (negative_slope,) if name == "leaky_relu" else ()

    def configs():
        return st.fixed_dictionaries({"shape": nst.shapes(1, 3, 1, 4),
                                      "scale": st.sampled_from([1.0, 5.0, 40.0])})

    def inputs(config, rng):
        return {"x": _uniform(rng, config["shape"], -config["scale"], config["scale"])}

    def reference(arrays, config, upstream):
        y, cache = forward(arrays["x"], *extra)
        return _with_gradients(upstream, y, backward, cache, ("dx",))

    options = {"negative_slope": negative_slope} if name == "leaky_relu" else {}
    return OpSpec(name, ("x",), (), ("y",), ("dx",), "dy", configs, inputs, reference,
                  options=options, round_inputs=name not in ("relu", "leaky_relu"),
                  verifier="verify_activation")

