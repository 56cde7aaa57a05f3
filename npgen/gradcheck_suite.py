"""Every op of npgen, gradient-checked on generated configurations (``npgen gradcheck``).

:data:`OPS` is the registry: one entry per row of the table, a functional
forward/backward pair or loss (:class:`FunctionOp`, checked with
:func:`npgen.gradcheck.check_vjp`) or a module (:class:`ModuleOp`, checked with
:func:`npgen.gradcheck.check_module`). Each entry draws its configurations from
a Hypothesis strategy built on the public :mod:`npgen.testing.strategies`
(conv geometries, arrays away from kinks); :func:`run_suite` draws ``examples``
of them per op with a fixed seed, on the global backend, in float64, and
records the worst relative error of the passing checks and every failure.

On a GPU machine ``npgen gradcheck --backend cupy`` is the one command that
verifies the CuPy path end to end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import array_api_compat
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from npgen import functional as F
from npgen import losses, nn
from npgen.backend import RNG
from npgen.gradcheck import GradcheckReport, check_module, check_vjp
from npgen.testing import strategies as nst

__all__ = ["OPS", "Case", "FunctionOp", "ModuleOp", "OpResult", "draw_cases", "run_op",
           "run_suite", "select_ops"]


class Case(NamedTuple):
    """One configuration: the arrays checked (float64, global backend) and the settings."""

    inputs: tuple
    names: tuple
    config: dict  # non-array arguments, e.g. {"stride": (2, 1)}

    def describe(self) -> str:
        arrays = ", ".join(f"{n} {tuple(a.shape)}" for n, a in zip(self.names, self.inputs))
        settings_ = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return arrays + (f"; {settings_}" if settings_ else "")


class FunctionOp(NamedTuple):
    """A function and its VJP: ``forward(config, *inputs) -> y``,
    ``vjp(config, dy, *inputs) -> one gradient (or None) per input``."""

    name: str
    cases: Callable  # () -> strategy of Case
    forward: Callable
    vjp: Callable

    def check(self, case: Case) -> GradcheckReport:
        return check_vjp(lambda *a: self.forward(case.config, *a),
                         lambda dy, *a: self.vjp(case.config, dy, *a),
                         case.inputs, names=case.names, raise_exception=False)


class ModuleOp(NamedTuple):
    """A module built by ``build(config)`` (float64), checked on ``case.inputs[0]``."""

    name: str
    cases: Callable  # () -> strategy of Case with inputs (x,)
    build: Callable

    def check(self, case: Case) -> GradcheckReport:
        return check_module(self.build(case.config), case.inputs[0], raise_exception=False)


# ----------------------------------------------------------------------------
# Adapters: pairs and losses as (forward, vjp)
# ----------------------------------------------------------------------------


def _pair(forward, backward):
    """(forward, vjp) for ``forward(*inputs, **config) -> (y, cache)`` and its backward."""

    def f(config, *inputs):
        return forward(*inputs, **config)[0]

    def vjp(config, dy, *inputs):
        grads = backward(dy, forward(*inputs, **config)[1])
        grads = grads if isinstance(grads, tuple) else (grads,)
        return tuple(grads[:len(inputs)]) + (None,) * (len(inputs) - len(grads))

    return f, vjp


def _loss(function, slots):
    """(forward, vjp) for ``function(*inputs, **config) -> (value, grad_1, ...)``.

    ``slots[i]`` is the index in that result of input i's gradient (None: no gradient).
    """

    def f(config, *inputs):
        return function(*inputs, **config)[0]

    def vjp(config, dy, *inputs):
        result = function(*inputs, **config)
        return tuple(None if s is None else dy * result[s] for s in slots)

    return f, vjp


def _second_order(forward, backward, double_backward):
    """(F, vjp) for the backward itself, F(dy, *inputs) = dx = backward(dy, forward(*inputs)),
    whose VJP is the op's ``double_backward(ddx, dy, cache)`` (gradient penalties)."""

    def f(config, dy, *inputs):
        dx = backward(dy, forward(*inputs, **config)[1])
        return dx[0] if isinstance(dx, tuple) else dx  # layers return (dx, dweight, dbias)

    def vjp(config, ddx, dy, *inputs):
        grads = double_backward(ddx, dy, forward(*inputs, **config)[1])
        return tuple(grads[:1 + len(inputs)])  # d_dy, d_x, then one per parameter given

    return f, vjp


def _batchnorm(training):
    def f(config, x, weight, bias, *running):
        return F.batchnorm_forward(x, weight, bias, *(running or (None, None)), training)[0]

    def vjp(config, dy, x, weight, bias, *running):
        _, cache, _, _ = F.batchnorm_forward(x, weight, bias, *(running or (None, None)),
                                             training)
        return F.batchnorm_backward(dy, cache) + (None,) * len(running)

    return f, vjp


def _dropout_pair():
    """The mask is an input (drawn with the configuration), without a gradient."""

    def f(config, x, keep_mask):
        return F.dropout_forward(x, config["p"], keep_mask)[0]

    def vjp(config, dy, x, keep_mask):
        return F.dropout_backward(dy, F.dropout_forward(x, config["p"], keep_mask)[1]), None

    return f, vjp


def _reparameterize_vjp(config, dz, mu, logvar, eps):
    return losses.reparameterize_backward(dz, mu, logvar, eps) + (None,)


# ----------------------------------------------------------------------------
# Configurations (Hypothesis strategies over npgen.testing.strategies)
# ----------------------------------------------------------------------------

SMALL = nst.shapes(min_dims=1, max_dims=3, max_side=4)  # elementwise ops and losses
MATRIX = nst.shapes(min_dims=2, max_dims=2, max_side=3)  # (N, K) posteriors
UNIT, WIDE = {"min_value": 0.0, "max_value": 1.0}, {"min_value": -6.0, "max_value": 6.0}
LOGVAR, KINK = {"min_value": -2.0, "max_value": 2.0}, {"avoid": (0.0,)}


def _case(names, *arrays, **config) -> Case:
    return Case(tuple(arrays), tuple(names[:len(arrays)]), config)


@st.composite
def _arrays(draw, names, ranges=(), shape=SMALL, same_shape=True, **config_choices):
    """Arrays named ``names`` with entries in ``ranges[i]`` (``float_arrays`` keywords), of
    one drawn shape (or one each), plus one drawn value per ``config_choices`` strategy."""
    ranges = tuple(ranges) + ({},) * (len(names) - len(ranges))
    common = draw(shape)
    arrays = [draw(nst.float_arrays(common if same_shape else draw(shape), **r)) for r in ranges]
    return _case(names, *arrays, **{k: draw(v) for k, v in config_choices.items()})


@st.composite
def _with_upstream(draw, cases, forward):
    """A case of ``cases`` with an upstream gradient dy (the forward's output shape) in front."""
    case = draw(cases)
    y, _ = forward(*case.inputs, **case.config)
    dy = draw(nst.float_arrays(tuple(y.shape)))
    return Case((dy, *case.inputs), ("dy", *case.names), case.config)


def _second_order_op(name, cases, forward, backward, double_backward) -> FunctionOp:
    """The row ``name_double_backward``: the op's backward, checked against its VJP, the
    double backward (a row of its own, so ``--ops name`` still selects the first order only)."""
    return FunctionOp(f"{name}_double_backward", lambda: _with_upstream(cases(), forward),
                      *_second_order(forward, backward, double_backward))


@st.composite
def _dense(draw):
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
def _conv2d(draw):
    g = draw(nst.conv2d_geometries(max_batch=2, max_size=6))
    return _case(("x", "weight", "bias"), *_conv_arrays(draw, g), stride=g.stride,
                 padding=g.padding, dilation=g.dilation)


@st.composite
def _conv_transpose2d(draw):
    g = draw(nst.conv_transpose2d_geometries(max_batch=2, max_size=4))
    return _case(("x", "weight", "bias"), *_conv_arrays(draw, g), stride=g.stride,
                 padding=g.padding, output_padding=g.output_padding, dilation=g.dilation)


@st.composite
def _fast_conv(draw, transposed):
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
def _batchnorm_cases(draw, training):
    shape = _batchnorm_shape(draw)
    channels = (shape[1],)
    arrays = [draw(nst.float_arrays(shape)), draw(nst.float_arrays(channels)),
              draw(nst.float_arrays(channels))]
    if not training:
        arrays += [draw(nst.float_arrays(channels)),
                   draw(nst.float_arrays(channels, min_value=0.2, max_value=2.0))]
    return _case(("x", "weight", "bias", "running_mean", "running_var"), *arrays)


@st.composite
def _dropout(draw):
    x = draw(nst.float_arrays(draw(SMALL)))
    p = draw(st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0]))
    uniform = draw(nst.float_arrays(tuple(x.shape), min_value=0.0, max_value=1.0))
    xp = array_api_compat.array_namespace(uniform)
    keep = xp.astype(uniform >= p, uniform.dtype) if p < 1.0 else uniform * 0.0  # fixed mask
    return _case(("x", "keep_mask"), x, keep, p=p)


@st.composite
def _flatten(draw):
    shape = draw(nst.shapes(min_dims=1, max_dims=4, max_side=3))
    start = draw(st.integers(0, len(shape) - 1))
    end = draw(st.integers(start, len(shape) - 1))
    negative = draw(st.booleans())  # also count from the end
    start, end = (start - len(shape), end - len(shape)) if negative else (start, end)
    return _case(("x",), draw(nst.float_arrays(shape)), start_dim=start, end_dim=end)


@st.composite
def _unflatten(draw):
    shape = draw(nst.shapes(min_dims=1, max_dims=3, max_side=6))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    extent = shape[dim]
    first = draw(st.sampled_from([d for d in range(1, extent + 1) if extent % d == 0]))
    sizes = (first, -1) if draw(st.booleans()) else (first, extent // first)
    return _case(("x",), draw(nst.float_arrays(shape)), dim=dim, sizes=sizes)


@st.composite
def _elbo(draw, likelihood):
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
def _dense_module(draw):
    n, fan_in = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return _case(("input",), draw(nst.float_arrays((n, fan_in))), in_features=fan_in,
                 out_features=draw(st.integers(1, 4)), bias=draw(st.booleans()),
                 seed=draw(st.integers(0, 2**16)))


@st.composite
def _conv_module(draw, geometries):
    g = draw(geometries)
    config = {k: v for k, v in g._asdict().items() if k not in ("batch", "size")}
    return _case(("input",), draw(nst.float_arrays(g.input_shape)), **config,
                 bias=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@st.composite
def _batchnorm_module(draw, ranks):
    shape = _batchnorm_shape(draw, ranks)
    return _case(("input",), draw(nst.float_arrays(shape)), num_features=shape[1],
                 training=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def _build_dense(c):
    return nn.Dense(c["in_features"], c["out_features"], bias=c["bias"], dtype="float64",
                    seed=c["seed"])


def _build_conv(layer):
    def build(c):
        settings_ = {k: v for k, v in c.items() if k not in ("in_channels", "out_channels")}
        return layer(c["in_channels"], c["out_channels"], dtype="float64", **settings_)

    return build


def _build_batchnorm(layer):
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


# ----------------------------------------------------------------------------
# The registry: one entry per row of the table
# ----------------------------------------------------------------------------

_SLOPES = st.sampled_from([0.01, 0.2])
_REDUCTIONS = st.sampled_from(["mean", "sum"])

_ENTRIES = [
    FunctionOp("dense", _dense, *_pair(F.dense_forward, F.dense_backward)),
    FunctionOp("conv2d", _conv2d, *_pair(F.conv2d_forward, F.conv2d_backward)),
    FunctionOp("conv_transpose2d", _conv_transpose2d,
               *_pair(F.conv_transpose2d_forward, F.conv_transpose2d_backward)),
    # the rows above draw thin layers (channels <= 3): the im2col reference; these two the
    # Winograd fast path (npgen.functional.conv.conv_path says which geometry takes which)
    FunctionOp("conv2d_winograd", lambda: _fast_conv(False),
               *_pair(F.conv2d_forward, F.conv2d_backward)),
    FunctionOp("conv_transpose2d_winograd", lambda: _fast_conv(True),
               *_pair(F.conv_transpose2d_forward, F.conv_transpose2d_backward)),
    FunctionOp("batchnorm[train]", lambda: _batchnorm_cases(True), *_batchnorm(True)),
    FunctionOp("batchnorm[eval]", lambda: _batchnorm_cases(False), *_batchnorm(False)),
    FunctionOp("relu", lambda: _arrays(("x",), (KINK,)),
               *_pair(F.relu_forward, F.relu_backward)),
    FunctionOp("leaky_relu", lambda: _arrays(("x",), (KINK,), negative_slope=_SLOPES),
               *_pair(F.leaky_relu_forward, F.leaky_relu_backward)),
    FunctionOp("sigmoid", lambda: _arrays(("x",)), *_pair(F.sigmoid_forward, F.sigmoid_backward)),
    FunctionOp("tanh", lambda: _arrays(("x",)), *_pair(F.tanh_forward, F.tanh_backward)),
    FunctionOp("dropout", _dropout, *_dropout_pair()),
    FunctionOp("flatten", _flatten, *_pair(F.flatten_forward, F.flatten_backward)),
    FunctionOp("unflatten", _unflatten, *_pair(F.unflatten_forward, F.unflatten_backward)),
    FunctionOp("mse", lambda: _arrays(("pred", "target"), reduction=_REDUCTIONS),
               *_loss(losses.mse, (1, None))),
    FunctionOp("bce_with_logits",
               lambda: _arrays(("logits", "target"), (WIDE, UNIT), reduction=_REDUCTIONS),
               *_loss(losses.bce_with_logits, (1, None))),
    FunctionOp("gaussian_kl", lambda: _arrays(("mu", "logvar"), ({}, LOGVAR), MATRIX),
               *_loss(losses.gaussian_kl, (1, 2))),
    FunctionOp("reparameterize", lambda: _arrays(("mu", "logvar", "eps"), ({}, LOGVAR), MATRIX),
               lambda config, *a: losses.reparameterize(*a), _reparameterize_vjp),
    FunctionOp("negative_elbo[bernoulli]", lambda: _elbo("bernoulli"),
               *_loss(losses.negative_elbo, (None, 1, 2, 3))),
    FunctionOp("negative_elbo[gaussian]", lambda: _elbo("gaussian"),
               *_loss(losses.negative_elbo, (None, 1, 2, 3))),
    FunctionOp("gan_discriminator_loss",
               lambda: _arrays(("real_logits", "fake_logits"), (WIDE, WIDE), same_shape=False,
                               real_label=st.sampled_from([1.0, 0.9])),
               *_loss(losses.gan_discriminator_loss, (1, 2))),
    FunctionOp("gan_generator_loss[non-saturating]",
               lambda: _arrays(("fake_logits",), (WIDE,), saturating=st.just(False)),
               *_loss(losses.gan_generator_loss, (1,))),
    FunctionOp("gan_generator_loss[saturating]",
               lambda: _arrays(("fake_logits",), (WIDE,), saturating=st.just(True)),
               *_loss(losses.gan_generator_loss, (1,))),
    FunctionOp("wasserstein_critic_loss",
               lambda: _arrays(("real_scores", "fake_scores"), same_shape=False),
               *_loss(losses.wasserstein_critic_loss, (1, 2))),
    FunctionOp("wasserstein_generator_loss", lambda: _arrays(("fake_scores",)),
               *_loss(losses.wasserstein_generator_loss, (1,))),
    _second_order_op("dense", _dense, F.dense_forward, F.dense_backward,
                     F.dense_double_backward),
    _second_order_op("conv2d", _conv2d, F.conv2d_forward, F.conv2d_backward,
                     F.conv2d_double_backward),
    _second_order_op("conv_transpose2d", _conv_transpose2d, F.conv_transpose2d_forward,
                     F.conv_transpose2d_backward, F.conv_transpose2d_double_backward),
    _second_order_op("relu", lambda: _arrays(("x",), (KINK,)), F.relu_forward,
                     F.relu_backward, F.relu_double_backward),
    _second_order_op("leaky_relu", lambda: _arrays(("x",), (KINK,), negative_slope=_SLOPES),
                     F.leaky_relu_forward, F.leaky_relu_backward, F.leaky_relu_double_backward),
    _second_order_op("sigmoid", lambda: _arrays(("x",)), F.sigmoid_forward, F.sigmoid_backward,
                     F.sigmoid_double_backward),
    _second_order_op("tanh", lambda: _arrays(("x",)), F.tanh_forward, F.tanh_backward,
                     F.tanh_double_backward),
    _second_order_op("flatten", _flatten, F.flatten_forward, F.flatten_backward,
                     F.flatten_double_backward),
    _second_order_op("unflatten", _unflatten, F.unflatten_forward, F.unflatten_backward,
                     F.unflatten_double_backward),
    FunctionOp("gradient_penalty",  # entries off 0: every row's norm stays off the cone's tip
               lambda: _arrays(("grads",), (KINK,), target=st.sampled_from([1.0, 0.5]),
                               weight=st.sampled_from([10.0, 1.0])),
               *_loss(losses.gradient_penalty, (1,))),
    FunctionOp("r1_penalty", lambda: _arrays(("grads",), gamma=st.sampled_from([10.0, 0.5])),
               *_loss(losses.r1_penalty, (1,))),
    ModuleOp("nn.Dense", _dense_module, _build_dense),
    ModuleOp("nn.Conv2d", lambda: _conv_module(nst.conv2d_geometries(max_batch=2, max_size=5)),
             _build_conv(nn.Conv2d)),
    ModuleOp("nn.ConvTranspose2d",
             lambda: _conv_module(nst.conv_transpose2d_geometries(max_batch=2, max_size=4)),
             _build_conv(nn.ConvTranspose2d)),
    ModuleOp("nn.BatchNorm1d", lambda: _batchnorm_module((2, 3)),
             _build_batchnorm(nn.BatchNorm1d)),
    ModuleOp("nn.BatchNorm2d", lambda: _batchnorm_module((4,)), _build_batchnorm(nn.BatchNorm2d)),
]

OPS: dict = {op.name: op for op in _ENTRIES}
"""name -> FunctionOp or ModuleOp, in table order (tests may replace an entry)."""


# ----------------------------------------------------------------------------
# Running the suite
# ----------------------------------------------------------------------------


@dataclass
class OpResult:
    """One row of the table."""

    name: str
    tried: int = 0
    passed: int = 0
    max_rel_err: float = 0.0  # worst GradcheckReport.max_rel_err among passing checks
    max_ratio: float = 0.0  # worst error / tolerance among passing checks (passes when <= 1)
    failures: list = field(default_factory=list)  # one message per failing configuration
    seconds: float = 0.0

    @property
    def status(self) -> str:
        if self.failures:
            return "FAILED"
        return "ok" if self.tried else "no configurations"


def select_ops(names=None) -> list:
    """Registry entries named in ``names`` (exact names, or a base name such as
    ``batchnorm`` for every ``batchnorm[...]`` row); all of them when None."""
    if not names:
        return list(OPS.values())
    chosen = []
    for wanted in names:
        matches = [op for name, op in OPS.items() if wanted in (name, name.split("[")[0])]
        if not matches:
            raise ValueError(f"npgen gradcheck: unknown op {wanted!r}; choose from "
                             f"{', '.join(OPS)}")
        chosen += [op for op in matches if op not in chosen]
    return chosen


def draw_cases(op, examples: int, seed: int = 0) -> list:
    """``examples`` configurations of ``op``, drawn by Hypothesis with a fixed ``seed``.

    Arrays are created on the global backend at draw time, in float64. Hypothesis
    draws the minimal configuration first (e.g. a 1x1 dense layer); it is moved
    to the end, so that the first configuration (all that ``-k 1`` checks) is a
    representative random draw and the minimal one is kept when ``examples > 1``.
    """
    cases = []

    @hypothesis_seed(seed)
    @settings(max_examples=examples + 1, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(op.cases())
    def collect(case):
        cases.append(case)

    collect()
    if len(cases) <= 1:
        return cases[:examples]
    minimal, drawn = cases[:1], cases[1:examples + 1]
    return drawn[:examples - 1] + minimal if examples > 1 else drawn[:1]


def run_op(op, examples: int = 5, seed: int = 0) -> OpResult:
    """Check ``op`` on ``examples`` drawn configurations; never raises for a failed check."""
    result, start = OpResult(op.name), time.perf_counter()
    try:
        cases = draw_cases(op, examples, seed)
    except Exception as exc:  # e.g. the backend cannot create the arrays
        result.failures.append(f"(drawing configurations)\n  raised {type(exc).__name__}: {exc}")
        cases = []
    for case in cases:
        result.tried += 1
        try:
            report = op.check(case)
        except Exception as exc:  # an op that crashes on a valid configuration fails its row
            result.failures.append(f"{case.describe()}\n  raised {type(exc).__name__}: {exc}")
            continue
        if report.ok:
            result.passed += 1
            result.max_rel_err = max(result.max_rel_err, report.max_rel_err)
            ratios = [c.abs_err / c.tolerance for c in report.checks if c.tolerance > 0]
            result.max_ratio = max([result.max_ratio, *ratios])
        else:
            result.failures.append(f"{case.describe()}\n{report}")
    result.seconds = time.perf_counter() - start
    return result


def run_suite(names=None, examples: int = 5, seed: int = 0, on_result=None) -> list:
    """Run :func:`run_op` over the selected ops; ``on_result(result)`` after each row."""
    results = []
    for op in select_ops(names):
        results.append(run_op(op, examples, seed))
        if on_result is not None:
            on_result(results[-1])
    return results
