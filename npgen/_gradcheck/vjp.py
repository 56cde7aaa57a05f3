"""check_vjp: a vector-Jacobian product against float64 central differences of <f, r>."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from npgen._gradcheck.misuse import as_output, check_vjp_arguments, is_float
from npgen._gradcheck.numeric import (
    DEFAULT_EPS,
    central_differences,
    float64_copy,
    projection,
    tolerances,
)
from npgen._gradcheck.report import GradcheckReport, compare, finish
from npgen.backend import dtype_name, is_jax_array, namespace_of, to_numpy

__all__ = ["check_vjp"]


def check_vjp(
    f: Callable,
    vjp: Callable,
    inputs: Sequence,
    *,
    names: Sequence[str] | None = None,
    wrt: Sequence[int] | None = None,
    eps: float = DEFAULT_EPS,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    raise_exception: bool = True,
) -> GradcheckReport:
    """Check a vector-Jacobian product against central differences in float64.

    Parameters
    ----------
    f : callable
        ``f(*inputs) -> y``, one array.
    vjp : callable
        ``vjp(dy, *inputs) -> tuple`` with one gradient per input (``None``
        where an input has none, e.g. integer targets).
    inputs : tuple of arrays
        Any namespace and device; float32 inputs are checked on float64
        copies (``f`` and ``vjp`` then receive float64 arrays). JAX arrays are
        checked on NumPy copies (JAX needs ``jax_enable_x64`` for float64).
    names : sequence of str, optional
        Names for the report (default ``x0, x1, ...``).
    wrt : sequence of int, optional
        Indices of the inputs to check (default: every floating input whose
        gradient is not None).
    eps, rtol, atol : float
        Step and tolerances; defaults from :data:`DEFAULT_TOLERANCES`.
    seed : int
        Seed of the random projection ``r``.
    raise_exception : bool
        Raise :class:`GradcheckError` on failure (default) or return the report.
    """
    rtol, atol = tolerances(rtol, atol, eps)
    check_vjp_arguments(f, vjp, inputs, wrt)
    names = list(names) if names is not None else [f"x{i}" for i in range(len(inputs))]
    inputs, f, vjp, notes = _in_float64(inputs, f, vjp)
    y = _float64_output(f, inputs)
    r = projection(y, seed)  # y's shape: L = <f(inputs), r>
    xp = namespace_of(y)
    grads = _analytic(vjp, r, inputs)
    checks = []
    for i in _checked(inputs, grads, wrt):

        def projected(xi, i=i):  # L as a function of input i alone
            args = list(inputs)
            args[i] = xi
            return xp.sum(as_output(f(*args), args) * r)

        numeric = central_differences(projected, inputs[i], eps)
        checks.append(compare(names[i], grads[i], numeric, rtol, atol))
    return finish(GradcheckReport(checks, rtol, atol, eps, notes), raise_exception)


def _in_float64(inputs, f: Callable, vjp: Callable):
    """The inputs as float64 copies (NumPy ones for JAX), with f, vjp and notes to match."""
    inputs, f, vjp, notes = _through_host(inputs, f, vjp)
    if any(is_float(x) and dtype_name(x.dtype) == "float32" for x in inputs):
        notes.append("float32 inputs were checked on float64 copies")
    inputs = [float64_copy(x) if is_float(x) else x for x in inputs]
    return inputs, f, vjp, notes


def _float64_output(f: Callable, inputs):
    """y = f(*inputs), refused unless it is float64 (a float32 f defeats the differences)."""
    y = as_output(f(*inputs), inputs)
    if dtype_name(y.dtype) != "float64":
        raise TypeError(
            f"check_vjp: f returned {dtype_name(y.dtype)} for float64 inputs; central "
            "differences need f to compute in float64 (JAX: jax.config.update("
            "'jax_enable_x64', True))"
        )
    return y


def _analytic(vjp: Callable, r, inputs) -> Sequence:
    """The analytic side, ``vjp(r, *inputs)``: one gradient (or None) per input."""
    grads = vjp(r, *inputs)
    if not isinstance(grads, (tuple, list)) or len(grads) != len(inputs):
        raise TypeError(
            f"check_vjp: vjp must return a tuple with one gradient per input "
            f"({len(inputs)}); got {type(grads).__name__}"
            + (f" of length {len(grads)}" if isinstance(grads, (tuple, list)) else "")
        )
    return grads


def _checked(inputs, grads, wrt) -> list[int]:
    """Indices of the inputs to check: ``wrt``, or every floating input with a gradient."""
    if wrt is not None:
        checked = [i for i in range(len(inputs)) if i in wrt]
    else:
        checked = [i for i, x in enumerate(inputs) if is_float(x) and grads[i] is not None]
    if not checked:
        raise ValueError(
            "check_vjp: nothing to check: no floating input with a gradient"
            + (f" among wrt={list(wrt)} (there are {len(inputs)} inputs)" if wrt is not None
               else " (the vjp returned None for every floating input)")
        )
    return checked


def _through_host(inputs, f: Callable, vjp: Callable):
    """JAX arrays are immutable (central differences assign elements): check NumPy copies.

    ``f`` and ``vjp`` then receive NumPy arrays (JAX functions accept them) and
    their results are copied back to NumPy.
    """
    if not any(is_jax_array(x) for x in inputs):
        return inputs, f, vjp, []

    def f_host(*args):
        return to_numpy(f(*args))

    def vjp_host(dy, *args):
        grads = vjp(dy, *args)
        if not isinstance(grads, (tuple, list)):
            return grads
        return tuple(None if g is None else to_numpy(g) for g in grads)

    host = [to_numpy(x) if is_jax_array(x) else x for x in inputs]
    return host, f_host, vjp_host, ["JAX inputs were checked on NumPy copies (JAX arrays are "
                                    "immutable)"]
