"""Gradient checking: hand-written backward passes against float64 central differences.

What "verified" means in npgen, in full:

1. Project the output onto a fixed random direction. For ``y = f(x_1, ..., x_m)``
   draw ``r ~ N(0, I)`` with ``y``'s shape (seeded) and define the scalar
   ``L(x_1, ..., x_m) = <f(x_1, ..., x_m), r> = sum(y * r)``.
2. The analytic side is the vector-Jacobian product ``dx_i = vjp(r, x_1, ..., x_m)[i]``,
   which equals ``dL/dx_i`` when the backward is right.
3. The numeric side differentiates ``L`` element by element with central
   differences in float64: ``(L(x + eps e_j) - L(x - eps e_j)) / (2 eps)``.
4. Element ``j`` passes when ``|analytic_j - numeric_j| <= atol + rtol * |numeric_j|``.
   A failure names the worst element: the ratio of its error to its tolerance is largest.

Kinks (ReLU at 0, LeakyReLU at 0, max ties) make step 3 meaningless when an
input lies within ``eps`` of one: keep generated inputs away from them with
:func:`npgen.testing.strategies.away_from_kinks` (see docs/gradcheck.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import array_api_compat

from npgen._gradcheck_checks import as_output, check_float_input, check_vjp_arguments, scalar
from npgen.backend import RNG, asarray, backend_of, dtype_name, to_numpy

__all__ = [
    "DEFAULT_TOLERANCES",
    "GradcheckError",
    "GradcheckReport",
    "InputCheck",
    "check_double_backward",
    "check_module",
    "check_vjp",
    "numerical_gradient",
]

# (rtol, atol) by the dtype the check runs in. Only float64 is checked:
# float32 inputs are upcast to a float64 copy (check_vjp) or refused (check_module).
DEFAULT_TOLERANCES = {"float64": (1e-5, 1e-7)}
DEFAULT_EPS = 1e-6


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


# ----------------------------------------------------------------------------
# Numerical differentiation
# ----------------------------------------------------------------------------


def _float64_copy(x):
    xp = array_api_compat.array_namespace(x)
    return xp.asarray(xp.astype(x, xp.float64), copy=True)


def _numerical_gradient_host(f: Callable, x, eps: float):
    """d f / d x by central differences; ``x`` float64, result a float64 NumPy array."""
    xp = array_api_compat.array_namespace(x)
    shape = tuple(x.shape)
    flat = xp.reshape(xp.asarray(x, copy=True), (-1,))  # (size,)
    grad = [0.0] * flat.shape[0]
    for j in range(flat.shape[0]):
        original = xp.asarray(flat[j], copy=True)  # a copy: torch indexing returns a view
        flat[j] = original + eps
        f_plus = scalar("numerical_gradient", f(xp.reshape(flat, shape)))
        flat[j] = original - eps
        f_minus = scalar("numerical_gradient", f(xp.reshape(flat, shape)))
        flat[j] = original
        grad[j] = (f_plus - f_minus) / (2.0 * eps)
    return to_numpy(grad).reshape(shape)  # a list of floats becomes a float64 host array


def numerical_gradient(f: Callable, x, eps: float = DEFAULT_EPS):
    """Gradient of a scalar function by central differences in float64.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` (a 0-d array or a Python float).
    x : array, any shape
        Point of evaluation; float32 inputs are differentiated on a float64 copy.
    eps : float
        Step of the central difference ``(f(x + eps e_j) - f(x - eps e_j)) / (2 eps)``.

    Returns
    -------
    array, x's shape, float64, in x's namespace and on x's device.
    """
    where = "numerical_gradient"
    _check_eps(eps)
    check_float_input(where, x, "x")
    if not callable(f):
        raise TypeError(f"{where}: f must be a callable f(x) -> scalar; got {type(f).__name__}")
    x64 = _float64_copy(x)
    value = f(x64)
    if hasattr(value, "dtype") and dtype_name(value.dtype) != "float64":
        raise TypeError(
            f"{where}: f returned {dtype_name(value.dtype)} for a float64 input; "
            "central differences need f to compute in float64"
        )
    scalar(where, value)
    return asarray(_numerical_gradient_host(f, x64, eps), backend=backend_of(x64))


def _tolerances(rtol, atol, eps):
    """The defaults filled in; negative tolerances or a non-positive step are refused."""
    default_rtol, default_atol = DEFAULT_TOLERANCES["float64"]
    rtol = default_rtol if rtol is None else float(rtol)
    atol = default_atol if atol is None else float(atol)
    if rtol < 0 or atol < 0:
        raise ValueError(f"gradcheck: rtol and atol must be >= 0; got rtol={rtol}, atol={atol}")
    _check_eps(eps)
    return rtol, atol


def _check_eps(eps) -> None:
    if not eps > 0:
        raise ValueError(f"gradcheck: the step eps must be > 0; got {eps!r}")


def _compare(name: str, analytic, numeric_host, rtol: float, atol: float) -> InputCheck:
    """Compare one analytic gradient with its numeric twin; find the worst element."""
    shape = tuple(numeric_host.shape)
    if analytic is None:
        return InputCheck(name, shape, ok=False, problem="the backward returned None")
    if tuple(analytic.shape) != shape:
        return InputCheck(
            name, shape, ok=False,
            problem=f"analytic gradient has shape {tuple(analytic.shape)}, expected {shape}",
        )
    a = to_numpy(analytic).astype("float64").reshape(-1)
    n = numeric_host.reshape(-1)
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
    index = []
    for extent in reversed(shape):
        index.append(flat_index % extent)
        flat_index //= extent
    return index[::-1]


def _projection(y, seed: int):
    """The fixed random direction r ~ N(0, I) with y's shape, in y's namespace, float64."""
    rng = RNG(seed, portable=True, backend=backend_of(y))
    return rng.normal(tuple(y.shape), dtype="float64")


def _is_float(x) -> bool:
    xp = array_api_compat.array_namespace(x)
    return xp.isdtype(x.dtype, "real floating")


def _through_host(inputs, f: Callable, vjp: Callable):
    """JAX arrays are immutable (central differences assign elements): check NumPy copies.

    ``f`` and ``vjp`` then receive NumPy arrays (JAX functions accept them) and
    their results are copied back to NumPy.
    """
    if not any(array_api_compat.is_jax_array(x) for x in inputs):
        return inputs, f, vjp, []

    def f_host(*args):
        return to_numpy(f(*args))

    def vjp_host(dy, *args):
        grads = vjp(dy, *args)
        if not isinstance(grads, (tuple, list)):
            return grads
        return tuple(None if g is None else to_numpy(g) for g in grads)

    host = [to_numpy(x) if array_api_compat.is_jax_array(x) else x for x in inputs]
    return host, f_host, vjp_host, ["JAX inputs were checked on NumPy copies (JAX arrays are "
                                    "immutable)"]


def _finish(report: GradcheckReport, raise_exception: bool) -> GradcheckReport:
    if raise_exception and not report.ok:
        raise GradcheckError(report)
    return report


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
    rtol, atol = _tolerances(rtol, atol, eps)
    check_vjp_arguments(f, vjp, inputs, wrt)
    names = list(names) if names is not None else [f"x{i}" for i in range(len(inputs))]
    inputs, f, vjp, notes = _through_host(inputs, f, vjp)
    if any(_is_float(x) and dtype_name(x.dtype) == "float32" for x in inputs):
        notes.append("float32 inputs were checked on float64 copies")
    inputs = [_float64_copy(x) if _is_float(x) else x for x in inputs]

    y = as_output(f(*inputs), inputs)
    if dtype_name(y.dtype) != "float64":
        raise TypeError(
            f"check_vjp: f returned {dtype_name(y.dtype)} for float64 inputs; central "
            "differences need f to compute in float64 (JAX: jax.config.update("
            "'jax_enable_x64', True))"
        )
    r = _projection(y, seed)
    xp = array_api_compat.array_namespace(y)
    grads = vjp(r, *inputs)
    if not isinstance(grads, (tuple, list)) or len(grads) != len(inputs):
        raise TypeError(
            f"check_vjp: vjp must return a tuple with one gradient per input "
            f"({len(inputs)}); got {type(grads).__name__}"
            + (f" of length {len(grads)}" if isinstance(grads, (tuple, list)) else "")
        )

    checks = []
    for i, x in enumerate(inputs):
        if wrt is not None and i not in wrt:
            continue
        if wrt is None and (not _is_float(x) or grads[i] is None):
            continue

        def projected(xi, i=i):
            args = list(inputs)
            args[i] = xi
            return xp.sum(as_output(f(*args), args) * r)

        numeric = _numerical_gradient_host(projected, x, eps)
        checks.append(_compare(names[i], grads[i], numeric, rtol, atol))
    if not checks:
        raise ValueError(
            "check_vjp: nothing to check: no floating input with a gradient"
            + (f" among wrt={list(wrt)} (there are {len(inputs)} inputs)" if wrt is not None
               else " (the vjp returned None for every floating input)")
        )
    return _finish(GradcheckReport(checks, rtol, atol, eps, notes), raise_exception)


def check_module(
    module,
    x,
    *,
    eps: float = DEFAULT_EPS,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    check_accumulation: bool = True,
    raise_exception: bool = True,
) -> GradcheckReport:
    """Check a module's ``backward``: the input gradient and every parameter gradient.

    The module must hold float64 parameters (build it with ``dtype="float64"``);
    ``x`` is used in float64. The check runs in the module's current mode
    (``train()`` or ``eval()``); parameters and buffers (e.g. batch-norm
    running statistics) are restored afterwards, and ``gradients()`` then
    holds the analytic gradients of one backward.

    With ``check_accumulation`` it also verifies that a second backward ADDS
    to the parameter gradients (two backwards give twice the gradient).
    """
    rtol, atol = _tolerances(rtol, atol, eps)
    if not all(callable(getattr(module, m, None)) for m in ("backward", "parameters",
                                                            "gradients", "state_dict")):
        raise TypeError(f"check_module: module must be an npgen Module (with forward, backward, "
                        f"parameters, gradients); got {type(module).__name__}: for a function "
                        "and its VJP use check_vjp")
    check_float_input("check_module", x, "x")
    label = type(module).__name__
    params = module.parameters()
    for key, p in params.items():
        if dtype_name(p.dtype) != "float64":
            raise TypeError(
                f"check_module: {label} parameter {key!r} is {dtype_name(p.dtype)}; gradient "
                "checks need float64 parameters: build the module with dtype='float64'"
            )
    saved = module.state_dict()
    x = _float64_copy(x)

    module.zero_grad()
    y = module(x)
    xp = array_api_compat.array_namespace(y)
    again = module(x)
    same = (again == y) | (xp.isnan(again) & xp.isnan(y))  # NaN equals NaN here
    if not bool(xp.all(same)):  # the same input must give the same output
        module.load_state_dict(saved)
        raise ValueError(
            f"check_module: {label} gives different outputs for the same input (a Dropout in "
            "training mode?); central differences need a deterministic module: call eval() "
            "or check the functional pair with a fixed mask through check_vjp"
        )
    r = _projection(y, seed)
    dx = module.backward(r)
    analytic = {key: xp.asarray(g, copy=True) for key, g in module.gradients().items()}

    numeric_dx = _numerical_gradient_host(lambda xi: xp.sum(module(xi) * r), x, eps)
    checks = [_compare("input", dx, numeric_dx, rtol, atol)]
    for key, p in params.items():

        def projected(p_new, p=p):
            p[...] = p_new
            return xp.sum(module(x) * r)

        original = xp.asarray(p, copy=True)
        numeric = _numerical_gradient_host(projected, original, eps)
        p[...] = original
        checks.append(_compare(key, analytic[key], numeric, rtol, atol))

    if check_accumulation and params:
        checks += _check_accumulation(module, x, r, analytic)
    module.load_state_dict(saved)
    for key, g in module.gradients().items():  # leave one backward's gradients behind
        g[...] = analytic[key]
    return _finish(GradcheckReport(checks, rtol, atol, eps), raise_exception)


def _check_accumulation(module, x, r, analytic) -> list[InputCheck]:
    """Two forward/backward passes must leave twice the gradient in ``gradients()``."""
    module.zero_grad()
    for _ in range(2):
        module(x)
        module.backward(r)
    checks = []
    for key, g in module.gradients().items():
        twice = to_numpy(analytic[key]) * 2.0
        check = _compare(f"{key} (accumulated twice)", g, twice, 1e-12, 1e-12)
        checks.append(check)
    return checks


def check_double_backward(
    module,
    x,
    *,
    dy=None,
    eps: float = DEFAULT_EPS,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    raise_exception: bool = True,
) -> GradcheckReport:
    """Check a module's ``double_backward`` against central differences of its own backward.

    The checked function is the backward itself, ``F(x, dy, theta) = m.backward(dy)`` right
    after ``m(x)``; its VJP for a cotangent ``ddx`` is what the second order gives:
    ``(d_dy, d_x) = m.double_backward(ddx)`` and the d<ddx, dx>/dtheta it ADDS into
    ``gradients()``. :func:`check_vjp` compares all of them with float64 central
    differences of <F, r>. ``zero_grad()`` runs between the backward and the double
    backward, so a module whose zero_grad loses what double_backward reads fails too.

    Parameters
    ----------
    module : Module
        With float64 parameters (``dtype="float64"``). Batch norm has no second order.
    x : array
        The input (kept away from ReLU/LeakyReLU kinks, where F jumps).
    dy : array, optional
        The upstream gradient of the checked backward; default a seeded N(0, I) draw of
        y's shape. (A critic's gradient penalty uses ones.)
    eps, rtol, atol, seed, raise_exception
        As in :func:`check_vjp`. Parameters are restored afterwards.
    """
    label = type(module).__name__
    params = module.parameters()
    for key, p in params.items():
        if dtype_name(p.dtype) != "float64":
            raise TypeError(f"check_double_backward: {label} parameter {key!r} is "
                            f"{dtype_name(p.dtype)}; build the module with dtype='float64'")
    saved, keys = module.state_dict(), list(params)
    x = _float64_copy(x)
    y = module(x)
    xp = array_api_compat.array_namespace(y)
    dy = _projection(y, seed + 1) if dy is None else _float64_copy(dy)

    def backward(x, dy, *theta):  # F: the module's input gradient, a function of all three
        for key, value in zip(keys, theta):
            params[key][...] = value
        module(x)
        return module.backward(dy)

    def second_order(ddx, x, dy, *theta):  # its VJP, by the module's double_backward
        backward(x, dy, *theta)
        module.zero_grad()
        d_dy, d_x = module.double_backward(ddx)
        grads = module.gradients()
        return (d_x, d_dy, *(xp.asarray(grads[key], copy=True) for key in keys))

    theta = [xp.asarray(p, copy=True) for p in params.values()]
    try:
        report = check_vjp(backward, second_order, (x, dy, *theta),
                           names=("input", "dy", *keys), eps=eps, rtol=rtol, atol=atol,
                           seed=seed, raise_exception=False)
    finally:
        module.load_state_dict(saved)
    return _finish(report, raise_exception)
