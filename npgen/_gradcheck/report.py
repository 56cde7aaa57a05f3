"""The comparison of one analytic gradient with its numeric twin, and the report of a check.

Element ``j`` passes when ``|analytic_j - numeric_j| <= atol + rtol * |numeric_j|``; a
check (one input or parameter) names its worst element, the one whose error is largest
relative to its tolerance, and the report names the worst failing check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from npgen.backend import to_numpy

__all__ = ["GradcheckError", "GradcheckReport", "InputCheck", "compare", "finish"]


class GradcheckError(AssertionError):
    """A gradient check failed; ``.report`` holds the full :class:`GradcheckReport`."""

    def __init__(self, report: GradcheckReport):
        super().__init__(str(report))
        self.report = report


@dataclass
class InputCheck:
    """The comparison for one input (or parameter) of the checked function.

    ``index``, ``analytic``, ``numeric``, ``abs_err`` and ``rel_err`` describe
    the worst element (largest error relative to its tolerance); ``problem``
    explains a check that could not compare values (e.g. a shape mismatch).
    """

    name: str
    shape: tuple
    ok: bool
    index: tuple | None = None
    analytic: float = float("nan")
    numeric: float = float("nan")
    abs_err: float = 0.0
    rel_err: float = 0.0
    tolerance: float = 0.0
    elements: int = 0
    problem: str | None = None

    def describe(self, rtol: float, atol: float) -> str:
        status = "ok" if self.ok else "FAILED"
        if self.problem is not None:
            return f"  {self.name} {self.shape}: {status}: {self.problem}"
        return (
            f"  {self.name} {self.shape}: {status} ({self.elements} elements); worst at index "
            f"{self.index}: analytic {self.analytic:.10g}, numeric {self.numeric:.10g}, "
            f"abs err {self.abs_err:.3g}, rel err {self.rel_err:.3g}, "
            f"tolerance {self.tolerance:.3g} = atol {atol:g} + rtol {rtol:g} * |numeric|"
        )


@dataclass
class GradcheckReport:
    """Result of :func:`check_vjp` or :func:`check_module`; ``ok`` is True when all passed."""

    checks: list[InputCheck]
    rtol: float
    atol: float
    eps: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def worst(self) -> InputCheck | None:
        """The failing check with the largest error/tolerance ratio (None when all pass)."""
        failed = [c for c in self.checks if not c.ok]
        if not failed:
            return None
        return max(failed, key=lambda c: float("inf") if c.problem or c.tolerance == 0
                   else c.abs_err / c.tolerance)

    @property
    def max_rel_err(self) -> float:
        return max((c.rel_err for c in self.checks if c.problem is None), default=0.0)

    def __str__(self) -> str:
        worst = self.worst
        if worst is None:
            head = "gradient check passed"
        elif worst.problem is not None:
            head = f"gradient check FAILED for {worst.name}: {worst.problem}"
        else:
            head = (
                f"gradient check FAILED for {worst.name} at index {worst.index}: "
                f"analytic {worst.analytic:.10g} vs numeric {worst.numeric:.10g} "
                f"(abs err {worst.abs_err:.3g}, rel err {worst.rel_err:.3g}, tolerance "
                f"{worst.tolerance:.3g} = atol {self.atol:g} + rtol {self.rtol:g} * |numeric|)"
            )
        lines = [head, f"central differences in float64, eps={self.eps:g}:"]
        lines += [c.describe(self.rtol, self.atol) for c in self.checks]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def finish(report: GradcheckReport, raise_exception: bool) -> GradcheckReport:
    """The report, or :class:`GradcheckError` when asked to raise and a check failed."""
    if raise_exception and not report.ok:
        raise GradcheckError(report)
    return report


def compare(name: str, analytic, numeric_host, rtol: float, atol: float) -> InputCheck:
    """Compare one analytic gradient with its numeric twin; find the worst element.

    ``analytic`` is an array of any namespace (or None); ``numeric_host`` a float64
    NumPy array of the expected shape.
    """
    shape = tuple(numeric_host.shape)
    if analytic is None:
        return InputCheck(name, shape, ok=False, problem="the backward returned None")
    if tuple(analytic.shape) != shape:
        return InputCheck(
            name, shape, ok=False,
            problem=f"analytic gradient has shape {tuple(analytic.shape)}, expected {shape}",
        )
    a = to_numpy(analytic).astype("float64").reshape(-1)  # (size,)
    n = numeric_host.reshape(-1)  # (size,)
    if a.size == 0:
        return InputCheck(name, shape, ok=True, elements=0)
    abs_err = abs(a - n)
    tolerance = atol + rtol * abs(n)
    # error / tolerance, with 0/0 = 0 (exact agreement under a zero tolerance) and NaN -> inf
    ratio = abs_err / (tolerance + (tolerance == 0))
    ratio[(tolerance == 0) & (abs_err > 0)] = float("inf")
    ratio[~(abs_err == abs_err)] = float("inf")  # NaN in the analytic gradient always fails
    j = int(ratio.argmax())
    index = tuple(int(i) for i in _unravel(j, shape))
    return InputCheck(
        name, shape, ok=bool((ratio <= 1.0).all()), index=index,
        analytic=float(a[j]), numeric=float(n[j]), abs_err=float(abs_err[j]),
        rel_err=float(abs_err[j] / max(abs(n[j]), 1e-300)), tolerance=float(tolerance[j]),
        elements=int(a.size),
    )


def _unravel(flat_index: int, shape: tuple) -> list[int]:
    """The C-order multi-index of ``flat_index`` in an array of ``shape``."""
    index = []
    for extent in reversed(shape):
        index.append(flat_index % extent)
        flat_index //= extent
    return index[::-1]
