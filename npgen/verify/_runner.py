"""Differential testing: run the user's implementation and npgen's on Hypothesis examples.

An :class:`OpSpec` says how to draw a configuration (a Hypothesis strategy of
plain dicts), how to make the input arrays from it and an integer seed, how to
call the user's forward and backward, and how npgen computes the reference.
:func:`run_differential` builds a ``@given`` property that raises
:class:`_Mismatch` on any disagreement, lets Hypothesis search and *shrink*
(configurations are drawn from integer strategies, so shrinking reaches small
batches, channels and kernels; the data are a function of one integer seed),
and turns the final, minimal failure into a :class:`VerifyReport`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky

from npgen.verify._convert import as_numpy
from npgen.verify.report import (
    ArrayComparison,
    VerifyReport,
    compare_arrays,
    default_tolerances,
)

__all__ = ["OpSpec", "call_convention", "run_differential"]


@dataclass(frozen=True)
class OpSpec:
    """How one op family is drawn, called and computed by npgen.

    Attributes
    ----------
    name : str
    inputs : tuple of str
        Array arguments, in call order (an input may be None, e.g. ``bias``).
    config_args : tuple of str
        Configuration keys passed after the arrays, in call order.
    outputs : tuple of str
        What forward returns (one name: a single array; several: a tuple).
    gradients : tuple of str
        What backward returns, in order; empty when the op has no backward.
    upstream : str or None
        Name of the upstream gradient passed first to backward (``"dy"``);
        None for losses, whose backward returns the gradient of the loss itself.
    configs : callable
        ``configs() -> SearchStrategy[dict]``.
    make_inputs : callable
        ``make_inputs(config, rng) -> dict`` of NumPy float64 arrays (or None).
    reference : callable
        ``reference(inputs, config, upstream) -> dict`` of NumPy arrays: every
        output and gradient name (a gradient may be None when its input is None).
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


class _Mismatch(Exception):
    """Raised inside the property; carries the configuration and the comparisons."""

    def __init__(self, config: dict, comparisons: list, failure: ArrayComparison):
        super().__init__(f"{failure.describe()} with configuration {config}")
        self.config, self.comparisons, self.failure = config, comparisons, failure


def _as_tuple(value, count: int):
    if count == 1:
        return (value,)
    if not isinstance(value, (tuple, list)) or len(value) != count:
        raise TypeError(f"expected a tuple of {count} arrays; got {type(value).__name__}"
                        + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    return tuple(value)


def _call(where: str, fn, args, names, config) -> dict:
    """Call their function; any exception or malformed result becomes a _Mismatch."""
    try:
        values = _as_tuple(fn(*args), len(names))
        return {n: None if v is None else as_numpy(v, where) for n, v in zip(names, values)}
    except Exception as exc:  # their code: report whatever it raised, with the configuration
        failure = ArrayComparison(where, False, problem=f"raised {type(exc).__name__}: {exc}")
        raise _Mismatch(config, [failure], failure) from exc


def _compare(spec, theirs: dict, reference: dict, rtol, atol) -> list:
    out = []
    for name, value in theirs.items():
        expected = reference[name]
        if expected is None:
            continue  # e.g. dbias without a bias: anything (usually None) is accepted
        if value is None:
            out.append(ArrayComparison(name, False, problem="returned None"))
            continue
        r, a = default_tolerances(value.dtype) if rtol is None else (rtol, atol)
        out.append(compare_arrays(name, value, expected, r, a))
    return out


def _check_example(spec: OpSpec, forward, backward, convert, config, data_seed, rtol, atol):
    rng = np.random.default_rng(data_seed)
    inputs = spec.make_inputs(config, rng)
    theirs_in = {k: None if v is None else convert(v) for k, v in inputs.items()}
    # The reference sees exactly the values their code sees (e.g. after a float32 cast).
    seen = {k: None if v is None else as_numpy(v).astype(np.float64) for k, v in theirs_in.items()}
    args = [theirs_in[k] for k in spec.inputs] + [config[k] for k in spec.config_args]
    upstream, first = None, []
    if spec.upstream is not None:
        probe = spec.reference(seen, config, None)  # shapes of the outputs
        first = [convert(rng.standard_normal(probe[spec.outputs[0]].shape))]
        upstream = as_numpy(first[0]).astype(np.float64)
    reference = spec.reference(seen, config, upstream)
    theirs = _call("forward", forward, args, spec.outputs, config)
    if backward is not None and spec.gradients:
        theirs.update(_call("backward", backward, first + args, spec.gradients, config))
    comparisons = _compare(spec, theirs, reference, rtol, atol)
    failed = [c for c in comparisons if not c.ok]
    if failed:
        raise _Mismatch(config, comparisons, failed[0])


def run_differential(spec: OpSpec, forward, backward, *, convert, max_examples: int, seed: int,
                     rtol, atol, config_strategy=None) -> VerifyReport:
    """Search for a configuration on which ``forward``/``backward`` disagree with npgen."""
    tried = [0]

    @hypothesis_seed(seed)
    @settings(max_examples=max_examples, derandomize=False, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
              print_blob=False, phases=_PHASES)
    @given(config=config_strategy or spec.configs(), data_seed=st.integers(0, 2**32 - 1))
    def differential(config, data_seed):
        tried[0] += 1
        _check_example(spec, forward, backward, convert, config, data_seed, rtol, atol)

    fields = dict(family=spec.name, rtol=rtol, atol=atol, seed=seed)
    try:
        differential()
    except _Mismatch as exc:
        return VerifyReport(ok=False, examples=tried[0], config=exc.config, failure=exc.failure,
                            comparisons=exc.comparisons, **fields)
    except Flaky as exc:  # their result changed between two runs of the same example
        failure = ArrayComparison("forward/backward", False, problem=(
            f"not reproducible: the same configuration and inputs passed once and failed "
            f"once (non-deterministic implementation?): {exc}"))
        return VerifyReport(ok=False, examples=tried[0], failure=failure, comparisons=[failure],
                            **fields)
    return VerifyReport(ok=True, examples=tried[0], **fields)
