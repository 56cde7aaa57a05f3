"""Element-wise comparison of two arrays and the report of a differential test.

A value ``theirs`` passes against ``reference`` when, element by element::

    |theirs - reference| <= atol + rtol * |reference|

The *worst* element is the one with the largest ratio of its error to its
tolerance. A NaN or infinity where the reference is finite fails with an
infinite ratio; a shape mismatch fails without element values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "TOLERANCES",
    "ArrayComparison",
    "Case",
    "VerifyError",
    "VerifyReport",
    "compare_arrays",
    "default_tolerances",
]

# (rtol, atol) recommended by the precision of the implementation under test. npgen's
# reference is float64; a float64 implementation agrees to ~1e-14 on these small inputs,
# a float32 one to a few ulps of 6e-8 times the size of the sums involved.
TOLERANCES = {"float64": (1e-7, 1e-9), "float32": (1e-4, 1e-5)}


def default_tolerances(dtype) -> tuple[float, float]:
    """(rtol, atol) for an output of ``dtype``: float64's for float64, else float32's."""
    return TOLERANCES["float64" if np.dtype(dtype) == np.float64 else "float32"]


@dataclass
class ArrayComparison:
    """One named array compared with its reference; the worst element when values were compared.

    ``problem`` explains a comparison that could not look at values (missing
    array, shape mismatch). ``index`` is None when the arrays agree or are empty.
    """

    name: str
    ok: bool
    shape: tuple = ()
    index: tuple | None = None
    theirs: float = float("nan")
    reference: float = float("nan")
    abs_err: float = 0.0  # the largest |theirs - reference|
    rel_err: float = 0.0  # the largest |theirs - reference| / |reference| where |reference| > atol
    tolerance: float = 0.0  # atol + rtol * |reference| at the worst element
    problem: str | None = None

    def describe(self) -> str:
        status = "ok" if self.ok else "FAILED"
        if self.problem is not None:
            return f"{self.name}: {status}: {self.problem}"
        if self.index is None:
            return f"{self.name} {self.shape}: {status} (empty)"
        errors = f"max abs err {self.abs_err:.3g}, max rel err {self.rel_err:.3g}"
        if self.ok:
            return f"{self.name} {self.shape}: ok; {errors}"
        return (f"{self.name} {self.shape}: FAILED; {errors}; worst at index {self.index}: theirs "
                f"{self.theirs:.12g}, reference {self.reference:.12g}, tolerance "
                f"{self.tolerance:.3g}")


def compare_arrays(name: str, theirs, reference, rtol: float, atol: float) -> ArrayComparison:
    """Compare two NumPy arrays element-wise (see the module docstring for the rule)."""
    theirs = np.asarray(theirs, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if reference.ndim == 0 and theirs.size == 1:
        theirs = theirs.reshape(())  # a loss returned as shape (1,) or a Python float
    if theirs.shape != reference.shape:
        return ArrayComparison(name, False, shape=reference.shape, problem=(
            f"shape {theirs.shape} differs from the reference shape {reference.shape}"))
    if reference.size == 0:
        return ArrayComparison(name, True, shape=reference.shape)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        error = np.abs(theirs - reference)
        same = (theirs == reference) | (np.isnan(theirs) & np.isnan(reference))
        error = np.where(same, 0.0, np.where(np.isnan(error), np.inf, error))
        tolerance = atol + rtol * np.abs(reference)
        ratio = np.where(error == 0.0, 0.0, error / np.maximum(tolerance, 1e-300))
        # Relative errors where |reference| > atol; below it atol decides (inf if exceeded).
        large = np.abs(reference) > atol
        relative = np.where(large, error / np.where(large, np.abs(reference), 1.0),
                            np.where(error > atol, np.inf, 0.0))
    flat = int(np.argmax(ratio))
    index = tuple(int(i) for i in np.unravel_index(flat, reference.shape))
    return ArrayComparison(
        name, bool(np.all(error <= tolerance)), shape=reference.shape, index=index,
        theirs=float(theirs[index]), reference=float(reference[index]),
        abs_err=float(np.max(error)), rel_err=float(np.max(relative)),
        tolerance=float(tolerance[index]))


@dataclass
class Case:
    """One example of a differential test, enough to rerun it exactly.

    ``config`` is the configuration, ``data_seed`` the integer the arrays were
    drawn from, ``decimals`` the places they were rounded to (None: not
    rounded), ``inputs`` the NumPy float64 arrays given to their code (None for
    an absent input) and ``upstream`` the upstream gradient (``dy``, or the
    scalar ``dloss`` of a loss; None for optimizer steps).
    """

    config: dict
    data_seed: int
    decimals: int | None
    inputs: dict
    upstream: object = None


@dataclass
class VerifyReport:
    """The outcome of one ``npgen.verify.verify_*`` run.

    Attributes
    ----------
    family : str
        The op family, e.g. ``"conv2d"``.
    ok : bool
        True when every tried configuration agreed.
    examples : int
        How many configurations (with their inputs) were run, shrinking included.
    config : dict or None
        On failure, the minimal failing configuration Hypothesis's shrinking reached.
    failure : ArrayComparison or None
        On failure, which output or gradient disagreed, its worst element and index,
        both values and the tolerance (or the problem: a shape mismatch, an exception).
    comparisons : list of ArrayComparison
        Every array compared on the failing configuration.
    stage : str or None
        On failure, where: ``"forward"`` (checked first: shape, dtype, values),
        ``"backward"``, ``"unsupported"`` (their code raised NotImplementedError)
        or ``"reproducibility"``.
    case : Case or None
        On failure, the exact example (configuration, data seed, input arrays,
        upstream): :meth:`replay` reruns it, :meth:`save` writes it as a golden file.
    rtol, atol : float or None
        The tolerances used (None: chosen per output dtype, see ``TOLERANCES``).
    seed : int
        Seed of Hypothesis's search.
    supports : dict or None
        The declared support the configurations were restricted to.
    notes : list of str
        What the run could not check (e.g. an upstream ignored by a grad-form backward).
    """

    family: str
    ok: bool
    examples: int
    config: dict | None = None
    failure: ArrayComparison | None = None
    comparisons: list = field(default_factory=list)
    rtol: float | None = None
    atol: float | None = None
    seed: int = 0
    stage: str | None = None
    case: Case | None = None
    supports: dict | None = None
    notes: list = field(default_factory=list)
    replay_spec: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def inputs(self) -> dict | None:
        """The failing case's input arrays (NumPy float64), or None after a pass."""
        return None if self.case is None else self.case.inputs

    def __str__(self) -> str:
        restricted = "" if not self.supports else f" within supports={_show(self.supports)}"
        if self.ok:
            lines = [f"npgen.verify {self.family}: passed on {self.examples} configurations "
                     f"(seed={self.seed}){restricted}"]
            return "\n".join(lines + [f"  note: {n}" for n in self.notes])
        config = ", ".join(f"{k}={v!r}" for k, v in (self.config or {}).items())
        if self.stage == "unsupported":
            head = (f"npgen.verify {self.family}: UNSUPPORTED configuration (their code raised "
                    f"NotImplementedError) after {self.examples} configurations "
                    f"(seed={self.seed}){restricted}")
        elif self.stage == "reproducibility":
            head = (f"npgen.verify {self.family}: NOT REPRODUCIBLE after {self.examples} "
                    f"configurations (seed={self.seed}){restricted}")
        else:
            head = (f"npgen.verify {self.family}: MISMATCH in the {self.stage} "
                    f"({self.failure.name}) after {self.examples} configurations "
                    f"(seed={self.seed}){restricted}")
        lines = [head, f"minimal failing configuration: {config}"]
        if self.case is not None:
            rounding = ("not rounded" if self.case.decimals is None
                        else f"rounded to {self.case.decimals} decimal places")
            lines.append(f"inputs: data_seed={self.case.data_seed}, {rounding} "
                         "(report.inputs; report.replay(forward, backward) reruns this case)")
        lines += [f"  {self.failure.describe()}"]
        lines += [f"  {c.describe()}" for c in self.comparisons if c is not self.failure]
        if self.stage == "unsupported":
            keys = ", ".join(f"{k!r}: ..." for k in (self.config or {}))
            lines.append("  hint: if this configuration is outside what the implementation "
                         f"supports, declare it: supports={{{keys}}} (only the keys it needs)")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])

    def replay(self, forward, backward=None, **options) -> VerifyReport:
        """Rerun exactly the failing case (same configuration and input arrays).

        ``options``: ``array_library=``/``to_theirs=``, ``rtol=``/``atol=``,
        ``backward_form=`` as for the ``verify_*`` call. Returns a new report
        (``ok`` once the implementation is fixed); raises nothing on a mismatch.
        """
        from npgen.verify._replay import replay

        return replay(self, forward, backward, **options)

    def save(self, directory) -> str:
        """Write the failing case as a golden file (``.npz`` plus ``manifest.json``).

        ``npgen compare DIRECTORY THEIRS_DIR`` (or the file pair) then checks an
        implementation against it, in any language. Returns the ``.npz`` path.
        """
        from npgen.verify._replay import save

        return save(self, directory)


def _show(supports: dict) -> str:
    from npgen.verify._support import describe_supports

    return describe_supports(supports)


class VerifyError(AssertionError):
    """A differential test found a mismatch; ``.report`` is the :class:`VerifyReport`."""

    def __init__(self, report: VerifyReport):
        super().__init__(str(report))
        self.report = report
