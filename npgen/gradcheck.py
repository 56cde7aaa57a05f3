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

Where each step lives (in :mod:`npgen._gradcheck`): the central differences, ``r`` and
the tolerances in ``numeric``; the comparison of step 4 and the report in ``report``;
the one comparison loop in ``vjp`` (:func:`check_vjp`); :func:`check_module` and
:func:`check_double_backward` in ``module``, both reduced to :func:`check_vjp`.
"""

from __future__ import annotations

from npgen._gradcheck.module import check_double_backward, check_module
from npgen._gradcheck.numeric import DEFAULT_EPS, DEFAULT_TOLERANCES, numerical_gradient  # noqa: F401
from npgen._gradcheck.report import GradcheckError, GradcheckReport, InputCheck
from npgen._gradcheck.vjp import check_vjp

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

# The public names say they live here (help(), reprs and pickles name npgen.gradcheck).
for _public in (GradcheckError, GradcheckReport, InputCheck, check_double_backward,
                check_module, check_vjp, numerical_gradient):
    _public.__module__ = __name__
del _public
