"""Op specs for the layers: dense, conv2d, conv_transpose2d, batch norm (training), activations.

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
from npgen.testing import strategies as nst
from npgen.verify._runner import OpSpec

__all__ = ["ACTIVATIONS", "BATCHNORM", "CONV2D", "CONV_TRANSPOSE2D", "DENSE", "activation_spec"]


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

    return OpSpec(name, ("x",), (), ("y",), ("dx",), "dy", configs, inputs, reference)

