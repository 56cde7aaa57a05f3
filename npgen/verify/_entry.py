"""The entry of every ``verify_*`` call: option checks, a loss backward's form, JAX precision."""

from __future__ import annotations

import inspect
import math
import warnings

from npgen.verify._convert import resolve_converter
from npgen.verify._runner import OpSpec, run_differential
from npgen.verify.report import VerifyError, VerifyReport

__all__ = ["GRAD_FORM_NOTE", "verify_spec"]

GRAD_FORM_NOTE = ("grad-form loss backward (backward(*inputs), no upstream): a backward that "
                  "ignores its upstream gradient cannot be detected in this form; write "
                  "backward(dloss, *inputs) (or pass backward_form='vjp')")


def _check_tolerance(where: str, name: str, value) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{where}: {name} must be a number >= 0; got {value!r}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"{where}: {name} must be >= 0; got {value!r}")


def _backward_form(where: str, spec: OpSpec, backward, backward_form):
    """'vjp' (backward(dloss, *inputs)) or 'grad' (backward(*inputs)) for a loss's backward."""
    if spec.kind != "loss" or backward is None:
        return "vjp"
    form = backward_form or getattr(backward, "npgen_backward_form", None)
    if form is None:
        form = _form_from_signature(backward, len(spec.inputs) + len(spec.config_args))
    if form not in ("vjp", "grad"):
        raise ValueError(f"{where}: backward_form must be 'vjp' or 'grad'; got {form!r}")
    return form


def _form_from_signature(backward, n: int) -> str:
    """'vjp' when only ``n + 1`` positional arguments fit the signature; else 'grad'."""
    try:
        parameters = inspect.signature(backward).parameters.values()
    except (TypeError, ValueError):
        return "grad"
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(p.default is p.empty for p in positional)
    varargs = any(p.kind == p.VAR_POSITIONAL for p in parameters)

    def fits(count):
        return required <= count and (varargs or count <= len(positional))

    return "vjp" if fits(n + 1) and not fits(n) else "grad"


def _jax_note(array_library) -> list:
    """Loud when JAX would compute in float32 (jax_enable_x64 off): float32 tolerances apply."""
    if array_library != "jax":
        return []
    import jax

    if jax.config.jax_enable_x64:
        return []
    note = ("jax_enable_x64 is off: JAX computes in float32 and float32 tolerances apply; call "
            "jax.config.update('jax_enable_x64', True) first to verify in float64")
    warnings.warn(f"npgen.verify: {note}", UserWarning, stacklevel=4)
    return [note]


def verify_spec(spec: OpSpec, forward, backward, *, max_examples=50, rtol=None, atol=None, seed=0,
            array_library=None, to_theirs=None, supports=None, backward_form=None,
            raise_exception=True) -> VerifyReport:
    where = spec.where
    if not callable(forward):
        raise TypeError(f"{where}: forward must be callable; got {forward!r}")
    if backward is not None and not callable(backward):
        raise TypeError(f"{where}: backward must be callable or None; got {backward!r}")
    if backward is not None and not spec.gradients:
        raise ValueError(f"{where}: this op has no backward to verify")
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1:
        raise ValueError(f"{where}: max_examples must be a positive int; got {max_examples!r}")
    if (rtol is None) != (atol is None):
        raise ValueError(f"{where}: pass both rtol and atol, or neither (dtype defaults)")
    _check_tolerance(where, "rtol", rtol)
    _check_tolerance(where, "atol", atol)
    convert = resolve_converter(where, array_library, to_theirs)
    form = _backward_form(where, spec, backward, backward_form)
    notes = _jax_note(array_library) + ([GRAD_FORM_NOTE] if form == "grad" else [])
    report = run_differential(spec, forward, backward, convert=convert,
                              max_examples=max_examples, seed=seed, rtol=rtol, atol=atol,
                              form=form, supports=supports, notes=notes)
    if raise_exception and not report.ok:
        raise VerifyError(report)
    return report
