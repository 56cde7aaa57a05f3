"""Every op of npgen, gradient-checked on generated configurations (``npgen gradcheck``).

The ops are :data:`npgen.registry.OPS` (also importable as :data:`OPS` here): one entry
per row of the table, a functional forward/backward pair or loss (:class:`FunctionOp`,
checked with :func:`npgen.gradcheck.check_vjp`) or a module (:class:`ModuleOp`, checked
with :func:`npgen.gradcheck.check_module`). :func:`run_suite` draws ``examples``
configurations per op from its Hypothesis strategy with a fixed seed, on the global
backend, in float64, and records the worst relative error of the passing checks and
every failure.

On a GPU machine ``npgen gradcheck --backend cupy`` is the one command that
verifies the CuPy path end to end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from npgen.registry import OPS, Case, FunctionOp, ModuleOp

__all__ = ["OPS", "Case", "FunctionOp", "ModuleOp", "OpResult", "draw_cases", "run_op",
           "run_suite", "select_ops"]


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
