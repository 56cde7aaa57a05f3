"""Replaying and saving the failing case of a :class:`~npgen.verify.VerifyReport`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from npgen.verify._convert import resolve_converter
from npgen.verify._runner import _Mismatch, run_case
from npgen.verify.report import VerifyReport

__all__ = ["replay", "save"]


def _spec_of(report: VerifyReport, where: str):
    if report.case is None or report.replay_spec is None:
        raise ValueError(f"{where}: the report holds no failing case (it passed, or the "
                         "implementation was not reproducible)")
    return report.replay_spec


def replay(report: VerifyReport, forward, backward=None, *, array_library=None, to_theirs=None,
           rtol=None, atol=None, backward_form=None) -> VerifyReport:
    """Rerun ``report.case`` on ``forward``/``backward``; a one-example report."""
    where = f"npgen.verify: {report.family} report.replay"
    spec, form = _spec_of(report, where)
    form = backward_form or form
    convert = resolve_converter(where, array_library, to_theirs)
    fields = dict(family=spec.name, examples=1, rtol=rtol, atol=atol, seed=report.seed,
                  supports=report.supports, notes=list(report.notes), replay_spec=(spec, form))
    try:
        comparisons = run_case(spec, report.case, forward, backward, convert, form, rtol, atol)
    except _Mismatch as exc:
        return VerifyReport(ok=False, config=exc.case.config, failure=exc.failure,
                            comparisons=exc.comparisons, stage=exc.stage, case=exc.case,
                            **fields)
    return VerifyReport(ok=True, comparisons=comparisons, **fields)


def save(report: VerifyReport, directory) -> str:
    """Write ``report.case`` as ``<op>__replay_<data_seed>.npz`` and add it to the manifest."""
    from npgen.verify.golden import write_case

    spec, form = _spec_of(report, f"npgen.verify: {report.family} report.save")
    case = report.case
    inputs = {k: v for k, v in case.inputs.items() if v is not None}
    arrays = dict(inputs)
    upstream = case.upstream if (spec.kind == "layer" or form == "vjp") else None
    if upstream is not None:
        arrays[spec.upstream] = np.asarray(upstream, dtype=np.float64)
    full = {**dict.fromkeys(spec.inputs), **inputs}
    reference = spec.reference(full, case.config, upstream)
    if spec.kind == "loss" and upstream is not None:
        reference.update({g: None if reference[g] is None else reference[g] * upstream
                          for g in spec.gradients})
    arrays.update({k: np.asarray(v, dtype=np.float64) for k, v in reference.items()
                   if v is not None})
    name = re.sub(r"[^A-Za-z0-9_]+", "_", f"replay_{case.data_seed}")
    description = (f"failing case saved by npgen.verify ({report.stage} mismatch in "
                   f"{report.failure.name})")
    path = write_case(Path(directory), spec, name, description,
                      {**case.config, **spec.options}, arrays)
    return str(path)
