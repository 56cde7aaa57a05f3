"""The numeric side of a gradient check: float64 central differences, in one place.

For a scalar ``L`` and an input ``x``, element ``j`` of the gradient is

    dL/dx_j ~= (L(x + eps e_j) - L(x - eps e_j)) / (2 eps),

whose truncation error is ``eps^2 |L'''| / 6`` (and whose rounding error is about
``u |L| / eps`` with ``u = 2^-53`` in float64); for values of order one the default
eps = 1e-6 keeps both near 1e-10 or below. A vector
output ``y`` is made scalar by projecting it onto a fixed random direction ``r``
(:func:`projection`): ``L = <y, r> = sum(y * r)``.
"""

from __future__ import annotations

from collections.abc import Callable

from npgen._gradcheck.misuse import check_float_input, scalar
from npgen.backend import RNG, asarray, backend_of, dtype_name, namespace_of, to_numpy

__all__ = [
    "DEFAULT_EPS",
    "DEFAULT_TOLERANCES",
    "central_differences",
    "check_eps",
    "float64_copy",
    "numerical_gradient",
    "projection",
    "tolerances",
]

# (rtol, atol) by the dtype the check runs in. Only float64 is checked:
# float32 inputs are upcast to a float64 copy (check_vjp) or refused (check_module).
DEFAULT_TOLERANCES = {"float64": (1e-5, 1e-7)}
DEFAULT_EPS = 1e-6


def central_differences(f: Callable, x, eps: float):
    """d f / d x by central differences; ``x`` float64, result a float64 NumPy array.

    ``f(x) -> scalar``; ``x`` of any shape is perturbed one element at a time on a copy.
    """
    xp = namespace_of(x)
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
    check_eps(eps)
    check_float_input(where, x, "x")
    if not callable(f):
        raise TypeError(f"{where}: f must be a callable f(x) -> scalar; got {type(f).__name__}")
    x64 = float64_copy(x)
    value = f(x64)
    if hasattr(value, "dtype") and dtype_name(value.dtype) != "float64":
        raise TypeError(
            f"{where}: f returned {dtype_name(value.dtype)} for a float64 input; "
            "central differences need f to compute in float64"
        )
    scalar(where, value)
    return asarray(central_differences(f, x64, eps), backend=backend_of(x64))


def float64_copy(x):
    """A float64 copy of ``x`` in its namespace and on its device (perturbed in place)."""
    xp = namespace_of(x)
    return xp.asarray(xp.astype(x, xp.float64), copy=True)


def projection(y, seed: int):
    """The fixed random direction r ~ N(0, I) with y's shape, in y's namespace, float64."""
    rng = RNG(seed, portable=True, backend=backend_of(y))
    return rng.normal(tuple(y.shape), dtype="float64")


def tolerances(rtol, atol, eps):
    """The defaults filled in; negative tolerances or a non-positive step are refused."""
    default_rtol, default_atol = DEFAULT_TOLERANCES["float64"]
    rtol = default_rtol if rtol is None else float(rtol)
    atol = default_atol if atol is None else float(atol)
    if rtol < 0 or atol < 0:
        raise ValueError(f"gradcheck: rtol and atol must be >= 0; got rtol={rtol}, atol={atol}")
    check_eps(eps)
    return rtol, atol


def check_eps(eps) -> None:
    """The step of the central difference must be positive."""
    if not eps > 0:
        raise ValueError(f"gradcheck: the step eps must be > 0; got {eps!r}")
