"""Misuse of the gradient checker, refused with errors that name the checker function.

Kept apart from the checks themselves so that :mod:`npgen.gradcheck` reads as the
definition of "verified".
"""

from __future__ import annotations

from npgen.backend import asarray, backend_of, dtype_name, namespace_of

__all__ = ["as_output", "check_float_input", "check_vjp_arguments", "is_float", "scalar"]


def is_float(x) -> bool:
    """True for an array with a real floating dtype."""
    xp = namespace_of(x)
    return xp.isdtype(x.dtype, "real floating")


def check_float_input(where: str, x, name: str) -> None:
    """An array of a supported library with a real floating dtype (integers cannot be nudged)."""
    try:
        xp = namespace_of(x)
    except TypeError:
        raise TypeError(f"{where}: {name} must be an array (numpy, torch, array_api_strict, "
                        f"...); got {type(x).__name__}: wrap it with npgen.asarray") from None
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"{where}: {name} is {dtype_name(x.dtype)}; central differences need a "
                        "floating-point input (an integer one would be perturbed by "
                        "truncation): cast it, or leave it out of wrt")


def scalar(where: str, value) -> float:
    """A scalar f value as a Python float: a Python number, a 0-d array or a one-item list."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if hasattr(value, "shape") and tuple(value.shape) not in ((), (1,)):
        raise ValueError(f"{where}: f must return a scalar (a float or a 0-d array); got an "
                         f"array of shape {tuple(value.shape)}: sum or project it first")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: f must return a scalar (a float or a 0-d array); got "
                        f"{type(value).__name__}") from None


def check_vjp_arguments(f, vjp, inputs, wrt) -> None:
    """Misuse of check_vjp named clearly: callables, a tuple of arrays, float inputs in wrt."""
    where = "check_vjp"
    for name, fn in (("f", f), ("vjp", vjp)):
        if not callable(fn):
            raise TypeError(f"{where}: {name} must be callable; got {type(fn).__name__}")
    if not isinstance(inputs, (tuple, list)):
        raise TypeError(f"{where}: inputs must be a tuple of arrays, e.g. (x,) for one input; "
                        f"got {type(inputs).__name__}")
    for i, x in enumerate(inputs):
        try:
            namespace_of(x)
        except TypeError:
            raise TypeError(f"{where}: inputs[{i}] must be an array; got {type(x).__name__}: "
                            "wrap it with npgen.asarray") from None
    for i in wrt or ():
        if not (isinstance(i, int) and 0 <= i < len(inputs)):
            raise ValueError(f"{where}: wrt index {i!r} is not an input index "
                             f"(there are {len(inputs)} inputs)")
        check_float_input(where, inputs[i], f"inputs[{i}] (in wrt)")


def as_output(y, inputs):
    """f's output as an array; a float or list (a scalar loss) moves to the inputs' backend."""
    if hasattr(y, "dtype") and hasattr(y, "shape"):
        return y
    floats = [x for x in inputs if is_float(x)]
    try:
        return asarray(y, dtype="float64", backend=backend_of(floats[0] if floats else inputs[0]))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"check_vjp: f must return an array or a float; got "
                        f"{type(y).__name__} ({exc})") from None
