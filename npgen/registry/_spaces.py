"""The registry's verification spaces (the ``space`` field of an entry): how
:mod:`npgen.verify` draws an op's configurations and makes its inputs.

A configuration is a plain dict drawn from integer and sampled strategies (so Hypothesis
shrinks it to small batches, channels and kernels, and ``supports=`` and the failure
reports name its keys); the inputs are NumPy float64 arrays made from it and a NumPy
Generator (one integer seed), with scales that reach each op's hard regimes (logits to
+-200, activations to +-40). The reference values are the entry's own forward and VJP.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from npgen.registry._types import Space
from npgen.testing import strategies as nst

LAYER_GRADIENTS = ("dx", "dweight", "dbias")


def _uniform(rng, shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=shape)


# Dense and convolutions --------------------------------------------------------------------


def _dense_configs():
    return st.fixed_dictionaries({
        "batch": st.integers(1, 4), "in_features": st.integers(1, 5),
        "out_features": st.integers(1, 5), "bias": st.booleans(),
    })


def _dense_inputs(config, rng):
    return {"x": _uniform(rng, (config["batch"], config["in_features"])),
            "weight": _uniform(rng, (config["out_features"], config["in_features"])),
            "bias": _uniform(rng, (config["out_features"],)) if config["bias"] else None}


DENSE = Space(_dense_configs, _dense_inputs, ("x", "weight", "bias"),
              gradients=LAYER_GRADIENTS)


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


def _conv_transpose2d_inputs(config, rng):
    shape = (config["in_channels"], config["out_channels"], *config["kernel_size"])
    return _conv_inputs(config, rng, shape)  # weight (C_in, C_out, kh, kw)


CONV2D = Space(lambda: _conv_configs(nst.conv2d_geometries), _conv2d_inputs,
               ("x", "weight", "bias"), ("stride", "padding", "dilation"),
               gradients=LAYER_GRADIENTS)
CONV_TRANSPOSE2D = Space(lambda: _conv_configs(nst.conv_transpose2d_geometries),
                         _conv_transpose2d_inputs, ("x", "weight", "bias"),
                         ("stride", "padding", "output_padding", "dilation"),
                         gradients=LAYER_GRADIENTS)


# Batch norm --------------------------------------------------------------------------------


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


def _batchnorm_eval_inputs(config, rng):
    channels = config["channels"]
    return {**_batchnorm_inputs(config, rng),
            "running_mean": _uniform(rng, (channels,)),
            "running_var": _uniform(rng, (channels,), 0.2, 2.0)}


BATCHNORM_TRAIN = Space(_batchnorm_configs, _batchnorm_inputs, ("x", "weight", "bias"),
                        ("eps",), gradients=LAYER_GRADIENTS)
BATCHNORM_EVAL = Space(_batchnorm_configs, _batchnorm_eval_inputs,
                       ("x", "weight", "bias", "running_mean", "running_var"), ("eps",),
                       gradients=LAYER_GRADIENTS)


# Dropout with a given mask, flatten, unflatten, activations --------------------------------


def _dropout_configs():
    return st.fixed_dictionaries({"shape": nst.shapes(1, 3, 1, 4),
                                  "p": st.sampled_from([0.5, 0.0, 0.25, 0.9])})


def _dropout_inputs(config, rng):
    shape = config["shape"]
    keep = (rng.uniform(0.0, 1.0, size=shape) >= config["p"]) * 1.0  # 1.0 keeps, 0.0 drops
    return {"x": _uniform(rng, shape), "keep_mask": keep}


@st.composite
def _flatten_configs(draw):
    shape = draw(nst.shapes(1, 4, 1, 3))
    start = draw(st.integers(0, len(shape) - 1))
    return {"shape": shape, "start_dim": start,
            "end_dim": draw(st.sampled_from([-1, *range(start, len(shape))]))}


@st.composite
def _unflatten_configs(draw):
    shape = draw(nst.shapes(1, 3, 1, 6))
    dim = draw(st.integers(0, len(shape) - 1))
    first = draw(st.sampled_from([d for d in range(1, shape[dim] + 1) if shape[dim] % d == 0]))
    return {"shape": shape, "dim": dim, "sizes": (first, shape[dim] // first)}


def _shaped_x(config, rng):
    return {"x": _uniform(rng, config["shape"])}


def _activation_configs():
    return st.fixed_dictionaries({"shape": nst.shapes(1, 3, 1, 4),
                                  "scale": st.sampled_from([1.0, 5.0, 40.0])})


def _activation_inputs(config, rng):
    """Inputs reach +-40 so that overflow-prone forms show."""
    return {"x": _uniform(rng, config["shape"], -config["scale"], config["scale"])}


DROPOUT = Space(_dropout_configs, _dropout_inputs, ("x", "keep_mask"), ("p",))
FLATTEN = Space(_flatten_configs, _shaped_x, ("x",), ("start_dim", "end_dim"))
UNFLATTEN = Space(_unflatten_configs, _shaped_x, ("x",), ("dim", "sizes"))
SMOOTH_ACTIVATION = Space(_activation_configs, _activation_inputs, ("x",))
RELU = SMOOTH_ACTIVATION._replace(round_inputs=False)  # rounding would land on the kink 0
LEAKY_RELU = RELU._replace(options=(("negative_slope", 0.01),))


# Losses (upstream "dloss": a random non-unit scalar) and the reparameterization -----------


def _loss(configs, make_inputs, inputs, gradients, output="loss", config_args=(),
          options=()) -> Space:
    return Space(configs, make_inputs, inputs, config_args, (output,), gradients, "dloss",
                 options=options, kind="loss")


def _bce_configs():
    """Logits up to +-200: log(sigmoid(l)) computed naively is -inf there."""
    return st.fixed_dictionaries({"shape": nst.shapes(1, 3, 1, 4),
                                  "scale": st.sampled_from([3.0, 30.0, 200.0]),
                                  "target": st.sampled_from(["binary", "soft"])})


def _bce_inputs(config, rng):
    shape, scale = config["shape"], config["scale"]
    target = rng.uniform(0.0, 1.0, size=shape)
    if config["target"] == "binary":
        target = (target > 0.5) * 1.0
    return {"logits": rng.uniform(-scale, scale, size=shape), "target": target}


def _mse_configs():
    return st.fixed_dictionaries({"shape": nst.shapes(1, 3, 1, 4)})


def _mse_inputs(config, rng):
    shape = config["shape"]
    return {"pred": rng.uniform(-2.0, 2.0, size=shape), "target": rng.uniform(-2.0, 2.0,
                                                                              size=shape)}


def _posterior(config, rng) -> dict:
    shape = (config["batch"], config["latent"])  # (N, K)
    return {"mu": rng.normal(0.0, 1.0, size=shape), "logvar": rng.uniform(-4.0, 3.0, size=shape)}


def _kl_configs():
    return st.fixed_dictionaries({"batch": st.integers(1, 4), "latent": st.integers(1, 5)})


def _reparameterize_inputs(config, rng):
    shape = (config["batch"], config["latent"])  # (N, K)
    return {**_posterior(config, rng), "eps": rng.standard_normal(shape)}


def _elbo_configs():
    return st.fixed_dictionaries({
        "batch": st.integers(1, 3), "data_shape": nst.shapes(1, 2, 1, 4),
        "latent": st.integers(1, 4), "likelihood": st.sampled_from(["bernoulli", "gaussian"]),
        "beta": st.sampled_from([1.0, 0.5, 4.0]), "sigma": st.sampled_from([1.0, 0.3, 2.0]),
    })


def _elbo_inputs(config, rng):
    shape = (config["batch"], *config["data_shape"])  # (N, ...)
    low = 0.0 if config["likelihood"] == "bernoulli" else -1.0
    return {"x": rng.uniform(low, 1.0, size=shape),
            "decoder_out": rng.uniform(-3.0, 3.0, size=shape), **_posterior(config, rng)}


REDUCTION = (("reduction", "mean"),)
BCE_WITH_LOGITS = _loss(_bce_configs, _bce_inputs, ("logits", "target"), ("dlogits",),
                        options=REDUCTION)
MSE = _loss(_mse_configs, _mse_inputs, ("pred", "target"), ("dpred",), options=REDUCTION)
GAUSSIAN_KL = _loss(_kl_configs, _posterior, ("mu", "logvar"), ("dmu", "dlogvar"), "kl")
REPARAMETERIZE = Space(_kl_configs, _reparameterize_inputs, ("mu", "logvar", "eps"), (),
                       ("z",), ("dmu", "dlogvar"), "dz")
NEGATIVE_ELBO = _loss(_elbo_configs, _elbo_inputs, ("x", "decoder_out", "mu", "logvar"),
                      ("d_decoder_out", "dmu", "dlogvar"),
                      config_args=("likelihood", "beta", "sigma"))


def _gan_configs():
    """Logits (N, 1) or (N,); scale 30 reaches D's saturated regime."""
    return st.fixed_dictionaries({"real_batch": st.integers(1, 4), "fake_batch": st.integers(1, 4),
                                  "tail": st.sampled_from([(1,), ()]),
                                  "scale": st.sampled_from([3.0, 30.0])})


def _logits(rng, batch, config):
    scale = config["scale"]
    return rng.uniform(-scale, scale, size=(batch, *config["tail"]))


def _real_and_fake(real, fake):
    def make_inputs(config, rng):
        return {real: _logits(rng, config["real_batch"], config),
                fake: _logits(rng, config["fake_batch"], config)}

    return make_inputs


def _fake(name):
    return lambda config, rng: {name: _logits(rng, config["fake_batch"], config)}


def _penalty_configs():
    """(N, ...) gradients; ``zero_row`` zeroes example 0, where ||g_0|| = 0 (no 0/0 allowed)."""
    return st.fixed_dictionaries({"shape": nst.shapes(2, 4, 1, 4), "zero_row": st.booleans()})


def _penalty_inputs(config, rng):
    grads = rng.normal(0.0, 1.0, size=config["shape"])
    if config["zero_row"]:
        grads[0] = 0.0
    return {"grads": grads}


GAN_DISCRIMINATOR_LOSS = _loss(_gan_configs, _real_and_fake("real_logits", "fake_logits"),
                               ("real_logits", "fake_logits"),
                               ("d_real_logits", "d_fake_logits"),
                               options=(("real_label", 1.0),))
GAN_GENERATOR_LOSS = _loss(_gan_configs, _fake("fake_logits"), ("fake_logits",),
                           ("d_fake_logits",), options=(("saturating", False),))
WASSERSTEIN_CRITIC_LOSS = _loss(_gan_configs, _real_and_fake("real_scores", "fake_scores"),
                                ("real_scores", "fake_scores"),
                                ("d_real_scores", "d_fake_scores"))
WASSERSTEIN_GENERATOR_LOSS = _loss(_gan_configs, _fake("fake_scores"), ("fake_scores",),
                                   ("d_fake_scores",))
GRADIENT_PENALTY = _loss(_penalty_configs, _penalty_inputs, ("grads",), ("dgrads",),
                         options=(("target", 1.0), ("weight", 10.0)))
R1_PENALTY = GRADIENT_PENALTY._replace(options=(("gamma", None),))  # None: no default


# Second order (verify_double_backward): the outputs are the entry's VJP at ddx --------------

SECOND_ORDER_RESULTS = ("d_dy", "d_x", "dweight", "dbias")


def _layer_second_order_inputs(forward, config_args, weight_shape):
    """ddx (x's shape), dy (the forward's output shape), x, weight, bias."""

    def make_inputs(config, rng):
        x = _uniform(rng, config["input_shape"])
        weight = _uniform(rng, weight_shape(config))
        bias = _uniform(rng, (config["out_features"],)) if config["bias"] else None
        y, _ = forward(x, weight, bias, *(config[k] for k in config_args))
        return {"ddx": _uniform(rng, x.shape), "dy": _uniform(rng, y.shape), "x": x,
                "weight": weight, "bias": bias}

    return make_inputs


def _layer_second_order(configs, forward, config_args, weight_shape) -> Space:
    return Space(configs, _layer_second_order_inputs(forward, config_args, weight_shape),
                 ("ddx", "dy", "x", "weight", "bias"), config_args, SECOND_ORDER_RESULTS, (),
                 None)


def _dense_second_order_configs():
    return st.builds(lambda n, c_in, c_out, bias: {"input_shape": (n, c_in), "out_features": c_out,
                                                   "in_features": c_in, "bias": bias},
                     st.integers(1, 4), st.integers(1, 5), st.integers(1, 5), st.booleans())


def _conv_second_order_configs(geometries):
    return lambda: st.builds(
        lambda g, bias: {**g._asdict(), "input_shape": g.input_shape,
                         "out_features": g.out_channels, "bias": bias},
        geometries(max_batch=2, max_channels=3, max_size=6), st.booleans())


def _activation_second_order_configs():
    return st.fixed_dictionaries({"shape": nst.shapes(1, 3, 1, 4),
                                  "scale": st.sampled_from([1.0, 5.0])})


def _activation_second_order_inputs(config, rng):
    x = rng.uniform(-config["scale"], config["scale"], size=config["shape"])
    x = np.where(np.abs(x) < 1e-3, 1e-3, x)  # off the kink of relu / leaky_relu
    return {"ddx": _uniform(rng, x.shape), "dy": _uniform(rng, x.shape), "x": x}


def second_order_spaces(dense_forward, conv2d_forward, conv_transpose2d_forward) -> dict:
    """op -> the Space of its ``_double_backward`` row (make_inputs runs the forward for
    dy's shape)."""
    geometry = ("stride", "padding", "dilation")
    return {
        "dense": _layer_second_order(_dense_second_order_configs, dense_forward, (),
                                     lambda c: (c["out_features"], c["in_features"])),
        "conv2d": _layer_second_order(
            _conv_second_order_configs(nst.conv2d_geometries), conv2d_forward, geometry,
            lambda c: (c["out_channels"], c["in_channels"], *c["kernel_size"])),
        "conv_transpose2d": _layer_second_order(
            _conv_second_order_configs(nst.conv_transpose2d_geometries),
            conv_transpose2d_forward, ("stride", "padding", "output_padding", "dilation"),
            lambda c: (c["in_channels"], c["out_channels"], *c["kernel_size"])),
        "activation": Space(_activation_second_order_configs, _activation_second_order_inputs,
                            ("ddx", "dy", "x"), (), SECOND_ORDER_RESULTS[:2], (), None),
    }
