"""The registry's configurations: Hypothesis strategies of :class:`Case` over the public
:mod:`npgen.testing.strategies` (conv geometries, arrays away from kinks), and the module
builders of the :class:`ModuleOp` rows."""

from __future__ import annotations

from hypothesis import strategies as st

from npgen import nn
from npgen.backend import RNG, namespace_of
from npgen.registry._types import Case
from npgen.testing import strategies as nst

SMALL = nst.shapes(min_dims=1, max_dims=3, max_side=4)  # elementwise ops and losses
MATRIX = nst.shapes(min_dims=2, max_dims=2, max_side=3)  # (N, K) posteriors
POSTERIOR = nst.shapes(min_dims=2, max_dims=3, max_side=3)  # (N, K, ...): KL sums non-batch axes
UNIT, WIDE = {"min_value": 0.0, "max_value": 1.0}, {"min_value": -6.0, "max_value": 6.0}
LOGVAR = {"min_value": -2.0, "max_value": 2.0}
RELU_KINKS = (0.0,)  # relu, leaky_relu: the slope jumps at 0
KINK = {"avoid": RELU_KINKS}


def _case(names, *arrays, **config) -> Case:
    return Case(tuple(arrays), tuple(names[:len(arrays)]), config)


@st.composite
def array_cases(draw, names, ranges=(), shape=SMALL, same_shape=True, **config_choices):
    """Arrays named ``names`` with entries in ``ranges[i]`` (``float_arrays`` keywords), of
    one drawn shape (or one each), plus one drawn value per ``config_choices`` strategy."""
    ranges = tuple(ranges) + ({},) * (len(names) - len(ranges))
    common = draw(shape)
    arrays = [draw(nst.float_arrays(common if same_shape else draw(shape), **r)) for r in ranges]
    return _case(names, *arrays, **{k: draw(v) for k, v in config_choices.items()})


@st.composite
def with_upstream(draw, cases, forward):
    """A case of ``cases`` with an upstream gradient dy (the forward's output shape) in front."""
    case = draw(cases)
    y, _ = forward(*case.inputs, **case.config)
    dy = draw(nst.float_arrays(tuple(y.shape)))
    return Case((dy, *case.inputs), ("dy", *case.names), case.config)


@st.composite
def dense_cases(draw):
    n, fan_in, fan_out = (draw(st.integers(1, 4)) for _ in range(3))
    arrays = [draw(nst.float_arrays((n, fan_in))), draw(nst.float_arrays((fan_out, fan_in)))]
    if draw(st.booleans()):
        arrays.append(draw(nst.float_arrays((fan_out,))))
    return _case(("x", "weight", "bias"), *arrays)


def _conv_arrays(draw, g):
    arrays = [draw(nst.float_arrays(g.input_shape)), draw(nst.float_arrays(g.weight_shape))]
    if draw(st.booleans()):
        arrays.append(draw(nst.float_arrays((g.out_channels,))))
    return arrays


@st.composite
def conv2d_cases(draw):
    g = draw(nst.conv2d_geometries(max_batch=2, max_size=6))
    return _case(("x", "weight", "bias"), *_conv_arrays(draw, g), stride=g.stride,
                 padding=g.padding, dilation=g.dilation)


@st.composite
def conv_transpose2d_cases(draw):
    g = draw(nst.conv_transpose2d_geometries(max_batch=2, max_size=4))
    return _case(("x", "weight", "bias"), *_conv_arrays(draw, g), stride=g.stride,
                 padding=g.padding, output_padding=g.output_padding, dilation=g.dilation)


@st.composite
def fast_conv_cases(draw, transposed):
    """Geometries that take the Winograd path (k4 s2 d1, channels > 3); see conv_path."""
    if transposed:
        g = draw(nst.fast_conv_transpose2d_geometries(max_batch=2, max_channels=4, max_size=3))
        extra = {"output_padding": g.output_padding}
    else:
        g = draw(nst.fast_conv2d_geometries(max_batch=2, max_channels=4, max_size=6))
        extra = {}
    return _case(("x", "weight", "bias"), *_conv_arrays(draw, g), stride=g.stride,
                 padding=g.padding, **extra)


def _batchnorm_shape(draw, ranks=(2, 3, 4)):
    """(N, C, *S) with more than one value per channel (training needs it)."""
    rank = draw(st.sampled_from(ranks))
    shape = [draw(st.integers(1, 3)) for _ in range(rank)]
    if shape[0] * (shape[2] if rank > 2 else 1) * (shape[3] if rank > 3 else 1) == 1:
        shape[0] = 2
    return tuple(shape)


@st.composite
def batchnorm_cases(draw, training):
    shape = _batchnorm_shape(draw)
    channels = (shape[1],)
    arrays = [draw(nst.float_arrays(shape)), draw(nst.float_arrays(channels)),
              draw(nst.float_arrays(channels))]
    if not training:
        arrays += [draw(nst.float_arrays(channels)),
                   draw(nst.float_arrays(channels, min_value=0.2, max_value=2.0))]
    return _case(("x", "weight", "bias", "running_mean", "running_var"), *arrays)


@st.composite
def dropout_cases(draw):
    x = draw(nst.float_arrays(draw(SMALL)))
    p = draw(st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0]))
    uniform = draw(nst.float_arrays(tuple(x.shape), min_value=0.0, max_value=1.0))
    xp = namespace_of(uniform)
    keep = xp.astype(uniform >= p, uniform.dtype) if p < 1.0 else uniform * 0.0  # fixed mask
    return _case(("x", "keep_mask"), x, keep, p=p)


@st.composite
def flatten_cases(draw):
    shape = draw(nst.shapes(min_dims=1, max_dims=4, max_side=3))
    start = draw(st.integers(0, len(shape) - 1))
    end = draw(st.integers(start, len(shape) - 1))
    negative = draw(st.booleans())  # also count from the end
    start, end = (start - len(shape), end - len(shape)) if negative else (start, end)
    return _case(("x",), draw(nst.float_arrays(shape)), start_dim=start, end_dim=end)


@st.composite
def unflatten_cases(draw):
    shape = draw(nst.shapes(min_dims=1, max_dims=3, max_side=6))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    extent = shape[dim]
    first = draw(st.sampled_from([d for d in range(1, extent + 1) if extent % d == 0]))
    sizes = (first, -1) if draw(st.booleans()) else (first, extent // first)
    return _case(("x",), draw(nst.float_arrays(shape)), dim=dim, sizes=sizes)


@st.composite
def elbo_cases(draw, likelihood):
    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (n, *draw(nst.shapes(min_dims=1, max_dims=3, max_side=3)))
    low = 0.0 if likelihood == "bernoulli" else -3.0
    x = draw(nst.float_arrays(shape, min_value=low, max_value=1.0 if low == 0.0 else 3.0))
    arrays = [x, draw(nst.float_arrays(shape)), draw(nst.float_arrays((n, k))),
              draw(nst.float_arrays((n, k), **LOGVAR))]
    config = {"likelihood": likelihood, "beta": draw(st.sampled_from([1.0, 0.5]))}
    if likelihood == "gaussian":
        config["sigma"] = draw(st.sampled_from([1.0, 0.7]))
    return _case(("x", "decoder_out", "mu", "logvar"), *arrays, **config)


# Modules ---------------------------------------------------------------------


@st.composite
def dense_module_cases(draw):
    n, fan_in = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return _case(("input",), draw(nst.float_arrays((n, fan_in))), in_features=fan_in,
                 out_features=draw(st.integers(1, 4)), bias=draw(st.booleans()),
                 seed=draw(st.integers(0, 2**16)))


@st.composite
def conv_module_cases(draw, geometries):
    g = draw(geometries)
    config = {k: v for k, v in g._asdict().items() if k not in ("batch", "size")}
    return _case(("input",), draw(nst.float_arrays(g.input_shape)), **config,
                 bias=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@st.composite
def batchnorm_module_cases(draw, ranks):
    shape = _batchnorm_shape(draw, ranks)
    return _case(("input",), draw(nst.float_arrays(shape)), num_features=shape[1],
                 training=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def build_dense(c):
    return nn.Dense(c["in_features"], c["out_features"], bias=c["bias"], dtype="float64",
                    seed=c["seed"])


def build_conv(layer):
    def build(c):
        settings_ = {k: v for k, v in c.items() if k not in ("in_channels", "out_channels")}
        return layer(c["in_channels"], c["out_channels"], dtype="float64", **settings_)

    return build


def build_batchnorm(layer):
    def build(c):
        """Random affine parameters and running statistics, so that eval mode is not trivial."""
        module = layer(c["num_features"], dtype="float64", seed=c["seed"])
        rng, shape = RNG(c["seed"], portable=True), (c["num_features"],)
        state = module.state_dict()
        for key in ("weight", "bias", "running_mean"):
            state[key] = rng.uniform(shape, -2.0, 2.0, dtype="float64")
        state["running_var"] = rng.uniform(shape, 0.2, 2.0, dtype="float64")
        module.load_state_dict(state)
        return module.train(c["training"])

    return build
