"""Module checks, each reduced to :func:`check_vjp` on a function of the input and parameters.

A module ``m`` with parameters ``theta_1, ..., theta_k`` is the function
``F(x, theta_1, ..., theta_k) = m(x)`` (the parameters written into ``m`` first); its VJP
for a cotangent ``r`` is ``(m.backward(r), *m.gradients())`` after one forward.
:func:`check_module` hands that pair to :func:`check_vjp` and adds what only a module has:
the refusal of float32 or non-deterministic modules, the check that backwards accumulate, and the
restoring of parameters and buffers. :func:`check_double_backward` does the same one
order up, with the backward as the function and ``double_backward`` as its VJP.
"""

from __future__ import annotations

from npgen._gradcheck.misuse import check_float_input
from npgen._gradcheck.numeric import DEFAULT_EPS, float64_copy, projection, tolerances
from npgen._gradcheck.report import GradcheckReport, InputCheck, compare, finish
from npgen._gradcheck.vjp import check_vjp
from npgen.backend import dtype_name, namespace_of, to_numpy

__all__ = ["check_double_backward", "check_module"]


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
    rtol, atol = tolerances(rtol, atol, eps)
    _require_module(module)
    check_float_input("check_module", x, "x")
    params = _float64_parameters(module, "check_module",
                                 "gradient checks need float64 parameters: ")
    keys, saved, x = list(params), module.state_dict(), float64_copy(x)
    module.zero_grad()
    r = projection(_deterministic_output(module, x, saved), seed)  # check_vjp's r too
    analytic = {}  # the parameter gradients of the one analytic backward

    def forward(x, *theta):  # F(x, theta) = m(x) with the parameters set to theta
        _assign(params, keys, theta)
        return module(x)

    def vjp(dy, x, *theta):  # (dx, *d theta): the module's backward after one forward
        forward(x, *theta)
        module.zero_grad()
        dx = module.backward(dy)  # x's shape
        analytic.update((key, _copy(g)) for key, g in module.gradients().items())
        return (dx, *(analytic[key] for key in keys))

    theta = [_copy(p) for p in params.values()]
    # wrt names every input: a backward returning None is reported, not skipped
    report = check_vjp(forward, vjp, (x, *theta), names=("input", *keys),
                       wrt=list(range(1 + len(keys))), eps=eps, rtol=rtol, atol=atol,
                       seed=seed, raise_exception=False)
    _assign(params, keys, theta)  # the differences left the last perturbed values behind
    if check_accumulation and params:
        report.checks += _check_accumulation(module, x, r, analytic)
    module.load_state_dict(saved)
    for key, g in module.gradients().items():  # leave one backward's gradients behind
        g[...] = analytic[key]
    return finish(report, raise_exception)


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
    params = _float64_parameters(module, "check_double_backward", "")
    saved, keys = module.state_dict(), list(params)
    x = float64_copy(x)
    y = module(x)
    dy = projection(y, seed + 1) if dy is None else float64_copy(dy)

    def backward(x, dy, *theta):  # F: the module's input gradient, a function of all three
        _assign(params, keys, theta)
        module(x)
        return module.backward(dy)

    def second_order(ddx, x, dy, *theta):  # its VJP, by the module's double_backward
        backward(x, dy, *theta)
        module.zero_grad()
        d_dy, d_x = module.double_backward(ddx)
        grads = module.gradients()
        return (d_x, d_dy, *(_copy(grads[key]) for key in keys))

    theta = [_copy(p) for p in params.values()]
    try:
        report = check_vjp(backward, second_order, (x, dy, *theta),
                           names=("input", "dy", *keys), eps=eps, rtol=rtol, atol=atol,
                           seed=seed, raise_exception=False)
    finally:
        module.load_state_dict(saved)
    return finish(report, raise_exception)


def _require_module(module) -> None:
    """An npgen Module, not a function (functions and their VJPs go to check_vjp)."""
    if not all(callable(getattr(module, m, None)) for m in ("backward", "parameters",
                                                            "gradients", "state_dict")):
        raise TypeError(f"check_module: module must be an npgen Module (with forward, backward, "
                        f"parameters, gradients); got {type(module).__name__}: for a function "
                        "and its VJP use check_vjp")


def _float64_parameters(module, where: str, why: str) -> dict:
    """``module.parameters()``, refused unless every parameter is float64."""
    params = module.parameters()
    for key, p in params.items():
        if dtype_name(p.dtype) != "float64":
            raise TypeError(f"{where}: {type(module).__name__} parameter {key!r} is "
                            f"{dtype_name(p.dtype)}; {why}build the module with dtype='float64'")
    return params


def _deterministic_output(module, x, saved: dict):
    """``module(x)``, refused (state restored) when a second call gives another output."""
    y = module(x)
    xp = namespace_of(y)
    again = module(x)
    same = (again == y) | (xp.isnan(again) & xp.isnan(y))  # NaN equals NaN here
    if not bool(xp.all(same)):  # the same input must give the same output
        module.load_state_dict(saved)
        raise ValueError(
            f"check_module: {type(module).__name__} gives different outputs for the same input "
            "(a Dropout in training mode?); central differences need a deterministic module: "
            "call eval() or check the functional pair with a fixed mask through check_vjp"
        )
    return y


def _check_accumulation(module, x, r, analytic: dict) -> list[InputCheck]:
    """Two forward/backward passes must leave twice the gradient in ``gradients()``."""
    module.zero_grad()
    for _ in range(2):
        module(x)
        module.backward(r)
    checks = []
    for key, g in module.gradients().items():
        twice = to_numpy(analytic[key]) * 2.0
        checks.append(compare(f"{key} (accumulated twice)", g, twice, 1e-12, 1e-12))
    return checks


def _assign(params: dict, keys: list, theta) -> None:
    """Write the values ``theta`` into the module's parameters, in place."""
    for key, value in zip(keys, theta):
        params[key][...] = value


def _copy(a):
    """A copy of ``a`` in its namespace (parameters and gradients are updated in place)."""
    return namespace_of(a).asarray(a, copy=True)
