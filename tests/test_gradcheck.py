"""The gradient checker must pass correct gradients and catch every planted bug.

Mutation tests: each wrong VJP below is a mistake people make in real
backward passes; the checker has to reject all of them and name the worst
element with its index. The correct versions must pass on every backend.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgen
from npgen import nn
from npgen.gradcheck import (
    GradcheckError,
    check_module,
    check_vjp,
    numerical_gradient,
)
from npgen.nn import Module
from npgen.testing import strategies as nst

# A function with two inputs, a reuse of one input (two accumulation terms)
# and a non-square matrix (so a transposed gradient has the wrong shape):
#   y = A @ B + A * s          A (m, k), B (k, k) ... see _f below
# We use:  y = (A @ B) * A     with A (m, k), B (k, k): A appears twice.


def _f(a, b):
    return (a @ b) * a


def _vjp(dy, a, b):
    """dA = (dy * A) @ B^T + dy * (A @ B);  dB = A^T @ (dy * A)."""
    da = (dy * a) @ b.mT + dy * (a @ b)
    db = a.mT @ (dy * a)
    return da, db


MUTANTS = {
    "scaled by 1%": lambda dy, a, b: (_vjp(dy, a, b)[0] * 1.01, _vjp(dy, a, b)[1]),
    "one wrong element": lambda dy, a, b: (_poke(_vjp(dy, a, b)[0]), _vjp(dy, a, b)[1]),
    "transposed": lambda dy, a, b: (_vjp(dy, a, b)[0], _vjp(dy, a, b)[1].mT),
    "missing accumulation term": lambda dy, a, b: ((dy * a) @ b.mT, _vjp(dy, a, b)[1]),
    "wrong shape": lambda dy, a, b: (_vjp(dy, a, b)[0][:, :-1], _vjp(dy, a, b)[1]),
    "NaN": lambda dy, a, b: (_vjp(dy, a, b)[0] * math.nan, _vjp(dy, a, b)[1]),
}


def test_gradient_for_the_wrong_input_is_caught(backend):
    """y = u * u * v with u, v of one shape: a VJP that swaps du and dv must fail."""
    u, v = _inputs(m=3, k=4)[0], _inputs(seed=1, m=3, k=4)[0]
    f = lambda u, v: u * u * v  # noqa: E731
    right = lambda dy, u, v: (2.0 * u * v * dy, u * u * dy)  # noqa: E731
    swapped = lambda dy, u, v: right(dy, u, v)[::-1]  # noqa: E731
    assert check_vjp(f, right, (u, v)).ok
    with pytest.raises(GradcheckError):
        check_vjp(f, swapped, (u, v))


def _poke(g):
    """Add 1e-3 to the element at (1, 2) only."""
    g = g + 0.0
    g[1, 2] = g[1, 2] + 1e-3
    return g


def _inputs(seed=0, m=3, k=4):
    rng = npgen.default_rng(seed, portable=True)
    return rng.normal((m, k), dtype="float64"), rng.normal((k, k), dtype="float64")


def test_correct_vjp_passes(backend):
    report = check_vjp(_f, _vjp, _inputs(), names=("A", "B"))
    assert report.ok and [c.name for c in report.checks] == ["A", "B"]
    assert report.max_rel_err < 1e-6


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_every_planted_bug_is_caught(backend, mutant):
    with pytest.raises(GradcheckError) as info:
        check_vjp(_f, MUTANTS[mutant], _inputs(), names=("A", "B"))
    assert "FAILED" in str(info.value)
    assert isinstance(info.value, AssertionError)


def test_failure_names_the_worst_element_and_its_index(backend):
    with pytest.raises(GradcheckError) as info:
        check_vjp(_f, MUTANTS["one wrong element"], _inputs(), names=("A", "B"))
    message = str(info.value)
    assert "for A at index (1, 2)" in message
    for word in ("analytic", "numeric", "abs err", "rel err", "tolerance", "atol", "rtol"):
        assert word in message
    worst = info.value.report.worst
    assert worst.name == "A" and worst.index == (1, 2)
    assert worst.abs_err == pytest.approx(1e-3, rel=1e-4)


def test_report_mode_returns_instead_of_raising(backend):
    report = check_vjp(_f, MUTANTS["scaled by 1%"], _inputs(), raise_exception=False)
    assert not report.ok and report.worst.name == "x0"
    assert check_vjp(_f, _vjp, _inputs(), raise_exception=False).ok


def test_shape_mismatch_is_reported_not_broadcast(backend):
    report = check_vjp(_f, MUTANTS["wrong shape"], _inputs(), raise_exception=False)
    assert "shape" in report.worst.problem


def test_float32_inputs_are_checked_on_float64_copies(backend):
    a, b = _inputs()
    a32 = backend.xp.astype(a, backend.xp.float32)
    seen = []

    def f(a, b):
        seen.append(npgen.backend.dtype_name(a.dtype))
        return _f(a, b)

    report = check_vjp(f, _vjp, (a32, b))
    assert report.ok and set(seen) == {"float64"}
    assert any("float32" in note for note in report.notes)


def test_f_that_computes_in_float32_is_refused(backend):
    xp = backend.xp
    a, b = _inputs()
    with pytest.raises(TypeError, match="float64"):
        check_vjp(lambda a, b: xp.astype(_f(a, b), xp.float32), _vjp, (a, b))


def test_vjp_returning_the_wrong_number_of_gradients_is_refused(backend):
    with pytest.raises(TypeError, match="one gradient per input"):
        check_vjp(_f, lambda dy, a, b: (_vjp(dy, a, b)[0],), _inputs())


def test_none_gradients_and_integer_inputs_are_skipped(backend):
    xp = backend.xp
    a, _ = _inputs()
    k = npgen.asarray(np.array([2], dtype=np.int64))

    def f(a, k):
        return a * 3.0

    report = check_vjp(f, lambda dy, a, k: (dy * 3.0, None), (a, k))
    assert [c.name for c in report.checks] == ["x0"]
    assert xp.isdtype(k.dtype, "integral")


@given(shape=nst.shapes(max_dims=3, max_side=4), data=st.data())
def test_numerical_gradient_of_a_known_function(backend, shape, data):
    """d/dx sum(sin(x) * x) = cos(x) * x + sin(x), to central-difference accuracy."""
    xp = backend.xp
    x = data.draw(nst.float_arrays(shape))
    g = numerical_gradient(lambda v: xp.sum(xp.sin(v) * v), x)
    expected = xp.cos(x) * x + xp.sin(x)
    np.testing.assert_allclose(npgen.to_numpy(g), npgen.to_numpy(expected), rtol=1e-7, atol=1e-8)
    where = npgen.backend.backend_of(g)
    assert (where.name, str(where.device)) == (backend.name, str(backend.device))


@given(data=st.data())
def test_kink_free_inputs_keep_relu_checks_stable(backend, data):
    """ReLU's VJP passes on inputs drawn away from its kink at 0."""
    xp = backend.xp
    x = data.draw(nst.away_from_kinks((3, 5), kinks=(0.0,), margin=1e-3, min_value=-1e-2,
                                      max_value=1e-2))
    assert float(xp.min(xp.abs(x))) >= 1e-3 - 1e-15
    relu = lambda v: xp.where(v > 0, v, 0.0 * v)  # noqa: E731
    check_vjp(relu, lambda dy, v: (xp.where(v > 0, dy, 0.0 * dy),), (x,))


def test_relu_at_its_kink_is_what_the_strategies_avoid(backend):
    """An input exactly at 0 makes the central difference 0.5: a false failure."""
    xp = backend.xp
    x = npgen.asarray(np.array([0.0, 1.0]), dtype="float64")
    relu = lambda v: xp.where(v > 0, v, 0.0 * v)  # noqa: E731
    report = check_vjp(relu, lambda dy, v: (xp.where(v > 0, dy, 0.0 * dy),), (x,),
                       raise_exception=False)
    assert not report.ok and report.worst.index == (0,)


# ---------------------------------------------------------------------------
# check_module on a minimal module written here (independent of npgen.nn layers)
# ---------------------------------------------------------------------------


class _Scale(Module):
    """y = x * w + b (per feature): small enough to read, with two parameters."""

    def __init__(self, features, *, bug=None, dtype="float64"):
        super().__init__()
        rng = npgen.default_rng(3, portable=True)
        self._add_parameter("weight", rng.normal((features,), dtype=dtype))
        self._add_parameter("bias", rng.normal((features,), dtype=dtype))
        self.bug = bug

    def forward(self, x):
        self._cache = x
        return x * self._parameters["weight"] + self._parameters["bias"]

    def backward(self, dy):
        x = self._require_cache()
        xp = npgen.backend.backend_of(x).xp
        dw = xp.sum(dy * x, axis=0)
        db = xp.sum(dy, axis=0)
        if self.bug == "overwrite":  # forgets to ACCUMULATE into the gradient
            self._gradients["weight"][...] = dw
        else:
            self._gradients["weight"][...] = self._gradients["weight"] + dw
        self._gradients["bias"][...] = self._gradients["bias"] + db * (
            1.01 if self.bug == "bias" else 1.0
        )
        return dy * self._parameters["weight"]


def _x(features=4):
    return npgen.default_rng(5, portable=True).normal((3, features), dtype="float64")


def test_check_module_passes_a_correct_module(backend):
    module = _Scale(4)
    before = {k: npgen.to_numpy(v).copy() for k, v in module.parameters().items()}
    report = check_module(module, _x())
    assert report.ok
    assert [c.name for c in report.checks][:3] == ["input", "weight", "bias"]
    for key, value in module.parameters().items():  # parameters restored exactly
        np.testing.assert_array_equal(npgen.to_numpy(value), before[key])


@pytest.mark.parametrize("bug", ["bias", "overwrite"])
def test_check_module_catches_wrong_parameter_gradients(backend, bug):
    with pytest.raises(GradcheckError) as info:
        check_module(_Scale(4, bug=bug), _x())
    expected = "bias" if bug == "bias" else "weight (accumulated twice)"
    assert info.value.report.worst.name == expected


def test_check_module_refuses_float32_modules(backend):
    with pytest.raises(TypeError, match="dtype='float64'"):
        check_module(_Scale(4, dtype="float32"), _x())


# ---------------------------------------------------------------------------
# The checker's own arguments
# ---------------------------------------------------------------------------


def test_zero_tolerance_passes_exact_zeros_and_fails_any_error(backend):
    """atol=0: elements that are exactly 0 on both sides (dead ReLUs) pass, 0/0 is not NaN."""
    xp = backend.xp
    x = npgen.asarray(np.array([-1.0, 0.5, 2.0]), dtype="float64")
    relu = lambda v: xp.where(v > 0, v, 0.0 * v)  # noqa: E731
    exact = lambda dy, v: (xp.where(v > 0, dy, 0.0 * dy),)  # noqa: E731
    assert check_vjp(relu, exact, (x,), atol=0.0, rtol=1e-6).ok
    report = check_vjp(relu, lambda dy, v: (exact(dy, v)[0] + 1e-3,), (x,), atol=0.0,
                       raise_exception=False)
    assert not report.ok and report.worst.index == (0,)  # the dead unit, tolerance 0


@pytest.mark.parametrize("options", [{"rtol": -1.0}, {"atol": -1e-9}, {"eps": 0.0},
                                     {"eps": -1e-6}])
def test_bad_checker_options_are_refused(backend, options):
    with pytest.raises(ValueError, match="gradcheck"):
        check_vjp(_f, _vjp, _inputs(), **options)


def test_a_check_with_nothing_to_check_is_an_error(backend):
    a, b = _inputs()
    with pytest.raises(ValueError, match="nothing to check"):
        check_vjp(_f, lambda dy, a, b: (None, None), (a, b))
    with pytest.raises(ValueError, match="wrt"):
        check_vjp(_f, _vjp, (a, b), wrt=[5])


def test_numerical_gradient_refuses_an_f_computing_in_float32(backend):
    xp = backend.xp
    x = _inputs()[0]
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda v: xp.sum(xp.astype(v, xp.float32) ** 2), x)
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda v: xp.sum(v), x, eps=0.0)


def test_check_module_refuses_a_non_deterministic_module(backend):
    """Dropout in training mode draws a new mask per forward: the check says so clearly."""
    layer = nn.Sequential(nn.Dense(4, 4, dtype="float64", seed=0), nn.Dropout(0.5, seed=1))
    with pytest.raises(ValueError, match="different outputs for the same input"):
        check_module(layer, _x())
    assert check_module(layer.eval(), _x()).ok


def test_default_tolerances_are_the_documented_ones(backend):
    """DESIGN.md: float64 defaults no looser than rtol=1e-5, atol=1e-7; eps = 1e-6."""
    report = check_vjp(_f, _vjp, _inputs())
    assert report.rtol <= 1e-5 and report.atol <= 1e-7 and report.eps == 1e-6


def test_a_bug_just_above_the_tolerance_is_caught(backend):
    """A 1e-4 relative error (10x rtol) fails; central differences themselves stay ~1e-9."""
    almost = lambda dy, a, b: (_vjp(dy, a, b)[0] * (1 + 1e-4), _vjp(dy, a, b)[1])  # noqa: E731
    with pytest.raises(GradcheckError):
        check_vjp(_f, almost, _inputs())
