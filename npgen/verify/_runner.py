"""Differential testing: run the user's implementation and npgen's on Hypothesis examples.

An :class:`OpSpec` says how to draw a configuration (a Hypothesis strategy of
plain dicts), how to make the input arrays from it and an integer seed, how to
call the user's forward and backward, and how npgen computes the reference.
:func:`run_differential` builds a ``@given`` property that raises
:class:`_Mismatch` on any disagreement, lets Hypothesis search and *shrink*
(configurations are drawn from integer strategies, so shrinking reaches small
batches, channels and kernels; the data are a function of one integer seed and
are rounded to ``decimals`` places, which shrinks towards one decimal), and
turns the final, minimal failure into a :class:`VerifyReport` that holds the
exact :class:`Case` (configuration, seed, input arrays) so it can be replayed.

Each example is checked in two stages: the forward's outputs first (shape,
dtype, values), and only when they agree the backward, so that a wrong forward
is reported as a forward mismatch and not as whatever the backward then raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable, UnsatisfiedAssumption

from npgen.verify._convert import as_numpy
from npgen.verify._support import restrict
from npgen.verify.report import (
    ArrayComparison,
    Case,
    VerifyReport,
    compare_arrays,
    default_tolerances,
)

__all__ = ["OpSpec", "call_convention", "make_case", "run_case", "run_differential"]


@dataclass(frozen=True)
class OpSpec:
    """How one op family is drawn, called and computed by npgen.

    Attributes
    ----------
    name : str
        Family name in reports, e.g. ``"conv2d"``, ``"gan_generator_loss(saturating)"``.
    inputs : tuple of str
        Array arguments, in call order (an input may be None, e.g. ``bias``).
    config_args : tuple of str
        Configuration keys passed after the arrays, in call order.
    outputs : tuple of str
        What forward returns (one name: a single array; several: a tuple).
    gradients : tuple of str
        What backward returns, in order; empty when the op has no backward.
    upstream : str or None
        Name of the upstream gradient passed first to backward: ``"dy"`` for
        layers, ``"dloss"`` (a random non-unit scalar) for losses.
    configs : callable
        ``configs() -> SearchStrategy[dict]``.
    make_inputs : callable
        ``make_inputs(config, rng) -> dict`` of NumPy float64 arrays (or None).
    reference : callable
        ``reference(inputs, config, upstream) -> dict`` of NumPy arrays: every
        output and gradient name (a gradient may be None when its input is None).
        For losses the gradients are those of the loss itself (upstream 1).
    kind : str
        ``"layer"`` (VJP with an array upstream), ``"loss"`` (VJP with a scalar
        ``dloss``) or ``"step"`` (no backward: every output is compared).
    op : str
        Name of the op in golden files (default: ``name``); ``options`` are the
        verifier's own settings (e.g. ``saturating``) stored with a saved case.
    round_inputs : bool
        Whether inputs may be rounded to few decimals (False near kinks, e.g. ReLU).
    call : callable or None
        ``call(forward, args, config) -> tuple`` replacing ``forward(*args)``
        (optimizer trajectories call ``forward`` once and the step k times).
    verifier : str
        The public function, for messages (default ``"verify_" + name``).
    """

    name: str
    inputs: tuple
    config_args: tuple
    outputs: tuple
    gradients: tuple
    upstream: str | None
    configs: Callable
    make_inputs: Callable
    reference: Callable
    kind: str = "layer"
    op: str = ""
    options: dict = field(default_factory=dict, hash=False)
    round_inputs: bool = True
    call: Callable | None = None
    verifier: str = ""

    @property
    def golden_op(self) -> str:
        return self.op or self.name

    @property
    def where(self) -> str:
        """'npgen.verify.verify_conv2d': the prefix of error messages."""
        return f"npgen.verify.{self.verifier or 'verify_' + self.name.split('(')[0]}"


def call_convention(spec: OpSpec) -> str:
    """'forward(x, weight, bias, stride, padding, dilation) -> y' and the backward line."""
    args = ", ".join(spec.inputs + spec.config_args)
    outs = ", ".join(spec.outputs)
    text = f"forward({args}) -> {outs if len(spec.outputs) == 1 else f'({outs})'}"
    if spec.gradients:
        first = f"{spec.upstream}, " if spec.upstream else ""
        grads = ", ".join(spec.gradients)
        grads = grads if len(spec.gradients) == 1 else f"({grads})"
        text += f"; backward({first}{args}) -> {grads}"
    return text


# Hypothesis's "explain" phase (which parts of the failing example matter) costs more than the
# search and the shrink together and adds nothing to the report: it is left out.
_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
# Rounding of the inputs (decimal places; None: not rounded). Hypothesis shrinks towards the
# first entry: one decimal place (integers come second: in [-1, 1] they are mostly zeros, which
# hides bugs and makes shrinking the configuration harder).
_DECIMALS = (1, 0, 3, None)


class _Mismatch(Exception):
    """Raised inside the property; carries the stage, the case and the comparisons."""

    def __init__(self, stage: str, case: Case, comparisons: list, failure: ArrayComparison):
        super().__init__(f"{stage}: {failure.describe()} with configuration {case.config}")
        self.stage, self.case, self.comparisons, self.failure = stage, case, comparisons, failure


def _as_tuple(value, count: int):
    if count == 1:
        return (value,)
    if not isinstance(value, (tuple, list)) or len(value) != count:
        raise TypeError(f"expected a tuple of {count} arrays; got {type(value).__name__}"
                        + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    return tuple(value)


def _call(stage: str, fn, args, names, case: Case) -> dict:
    """Call their function; an exception or malformed result becomes a _Mismatch.

    ``hypothesis.assume`` inside their code discards the example; NotImplementedError
    marks an unsupported configuration (reported as such, not as a mismatch).
    """
    try:
        values = _as_tuple(fn(*args), len(names))
        return {n: None if v is None else as_numpy(v, stage) for n, v in zip(names, values)}
    except UnsatisfiedAssumption:
        raise
    except NotImplementedError as exc:
        failure = ArrayComparison(stage, False, problem=f"raised NotImplementedError: {exc}")
        raise _Mismatch("unsupported", case, [failure], failure) from exc
    except Exception as exc:  # their code: report whatever it raised, with the configuration
        failure = ArrayComparison(stage, False, problem=f"raised {type(exc).__name__}: {exc}")
        raise _Mismatch(stage, case, [failure], failure) from exc


def _compare(theirs: dict, reference: dict, rtol, atol, input_dtype=None) -> list:
    """Compare by name; with ``input_dtype`` (float64) a narrower float output also fails."""
    out = []
    for name, value in theirs.items():
        expected = reference[name]
        if expected is None:
            continue  # e.g. dbias without a bias: anything (usually None) is accepted
        if value is None:
            out.append(ArrayComparison(name, False, problem="returned None"))
            continue
        if input_dtype == np.float64 and value.dtype.kind == "f" and value.dtype != np.float64:
            out.append(ArrayComparison(name, False, shape=np.shape(expected), problem=(
                f"dtype {value.dtype} for float64 inputs (computed in lower precision)")))
            continue
        r, a = default_tolerances(value.dtype) if rtol is None else (rtol, atol)
        out.append(compare_arrays(name, value, expected, r, a))
    return out


def make_case(spec: OpSpec, config: dict, data_seed: int, decimals) -> Case:
    """The inputs (rounded to ``decimals`` places unless None) and the upstream of one example."""
    rng = np.random.default_rng(data_seed)
    inputs = spec.make_inputs(config, rng)
    if decimals is not None and spec.round_inputs:
        inputs = {k: None if v is None else np.round(v, decimals) for k, v in inputs.items()}
    upstream = None
    if spec.kind == "layer":
        probe = spec.reference(inputs, config, None)  # shapes of the outputs
        upstream = rng.standard_normal(np.shape(probe[spec.outputs[0]]))
    elif spec.kind == "loss":  # a non-unit scalar, so an ignored upstream shows
        upstream = np.asarray(rng.choice([-1.0, 1.0]) * rng.uniform(0.25, 4.0))
    return Case(config, data_seed, decimals if spec.round_inputs else None, inputs, upstream)


def _reference(spec: OpSpec, seen: dict, case: Case, form: str) -> dict:
    reference = spec.reference(seen, case.config, case.upstream)
    if spec.kind == "loss" and form == "vjp":  # the loss's own gradients times dloss
        reference.update({g: None if reference[g] is None else reference[g] * case.upstream
                          for g in spec.gradients})
    return reference


def run_case(spec: OpSpec, case: Case, forward, backward, convert, form, rtol, atol) -> list:
    """Run one case in two stages (forward, then backward); raise _Mismatch on a failure."""
    theirs_in = {k: None if v is None else convert(v) for k, v in case.inputs.items()}
    # The reference sees exactly the values their code sees (e.g. after a float32 cast).
    seen = {k: None if v is None else as_numpy(v).astype(np.float64) for k, v in theirs_in.items()}
    args = [theirs_in[k] for k in spec.inputs] + [case.config[k] for k in spec.config_args]
    reference = _reference(spec, seen, case, form)
    call = forward if spec.call is None else (lambda *a: spec.call(forward, a, case.config))
    input_dtype = next(as_numpy(v).dtype for v in theirs_in.values() if v is not None)
    comparisons = _compare(_call("forward", call, args, spec.outputs, case), reference, rtol,
                           atol, input_dtype)
    failed = [c for c in comparisons if not c.ok]
    if failed:
        raise _Mismatch("forward", case, comparisons, failed[0])
    if backward is not None and spec.gradients:
        first = [convert(case.upstream)] if form == "vjp" else []
        theirs = _call("backward", backward, first + args, spec.gradients, case)
        comparisons += _compare(theirs, reference, rtol, atol)
        failed = [c for c in comparisons if not c.ok]
        if failed:
            raise _Mismatch("backward", case, comparisons, failed[0])
    return comparisons


def run_differential(spec: OpSpec, forward, backward, *, convert, max_examples: int, seed: int,
                     rtol, atol, form: str = "vjp", supports=None, notes=()) -> VerifyReport:
    """Search for a configuration on which ``forward``/``backward`` disagree with npgen."""
    tried = [0]
    configs = restrict(spec, supports)

    @hypothesis_seed(seed)
    @settings(max_examples=max_examples, derandomize=False, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
              print_blob=False, phases=_PHASES)
    @given(config=configs, data_seed=st.integers(0, 2**32 - 1),
           decimals=st.sampled_from(_DECIMALS))
    def differential(config, data_seed, decimals):
        tried[0] += 1
        case = make_case(spec, config, data_seed, decimals)
        run_case(spec, case, forward, backward, convert, form, rtol, atol)

    fields = dict(family=spec.name, rtol=rtol, atol=atol, seed=seed, supports=supports,
                  notes=list(notes), replay_spec=(spec, form))
    try:
        differential()
    except Unsatisfiable as exc:
        raise ValueError(
            f"{spec.where}: no configuration could be run: every one drawn was outside "
            f"supports={supports!r} or skipped by assume() in the implementation") from exc
    except _Mismatch as exc:
        return VerifyReport(ok=False, examples=tried[0], config=exc.case.config,
                            failure=exc.failure, comparisons=exc.comparisons, stage=exc.stage,
                            case=exc.case, **fields)
    except Flaky as exc:  # their result changed between two runs of the same example
        failure = ArrayComparison("forward/backward", False, problem=(
            f"not reproducible: the same configuration and inputs passed once and failed "
            f"once (non-deterministic implementation?): {exc}"))
        return VerifyReport(ok=False, examples=tried[0], failure=failure, comparisons=[failure],
                            stage="reproducibility", **fields)
    return VerifyReport(ok=True, examples=tried[0], **fields)
