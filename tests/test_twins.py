"""Every registered op's forward against its slow twin (the definition, the entry's
``twin`` in npgen.registry), on every backend row.

float64: the fast op equals the twin to 1e-12 (both are exact up to summation order).
float32: the same inputs rounded to float32 give the twin's float64 value to the entry's
float32 tolerances (npgen.registry.TOLERANCES: rtol = atol = 2e-5): a few units of
float32's 6e-8 rounding per term, times sums of up to a few dozen terms in the conv and
dense cases.

The optimizer steps are checked the same way over several steps with the state carried.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgen
from npgen import functional as F
from npgen import losses, optim
from npgen.gradcheck_suite import OPS, Case, FunctionOp
from npgen.testing import reference_objectives as ro
from npgen.testing import strategies as nst

# The `*_double_backward` rows' "forward" is the op's first-order backward (checked by the
# first-order gradient check); every other function row carries its twin in the registry.
FUNCTION_OPS = [name for name, op in OPS.items()
                if isinstance(op, FunctionOp) and not name.endswith("_double_backward")]
TWINNED = [name for name, op in OPS.items() if op.twin is not None]


def test_every_registered_op_has_a_twin():
    assert sorted(FUNCTION_OPS) == sorted(TWINNED)


def _base_names():
    return {name.split("[")[0] for name in OPS}


@pytest.mark.parametrize("pair", [n for n in F.__all__ if n.endswith("_forward")])
def test_every_exported_functional_op_is_registered(pair):
    assert pair.removesuffix("_forward") in _base_names()


NOT_OPS = {"LIKELIHOODS", "ELBOTerms", "NegativeELBO", "negative_elbo_terms",
           "reconstruction_nll", "reparameterize_backward"}  # constants, result types, parts


@pytest.mark.parametrize("name", [n for n in losses.__all__ if n not in NOT_OPS])
def test_every_exported_loss_is_registered(name):
    assert name in _base_names()


def _close(actual, expected, rtol, atol):
    actual, expected = npgen.to_numpy(actual).astype(np.float64), np.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def _check_against_twin(op, case, xp):
    """float64 forward == twin to 1e-12; float32 forward == twin on the rounded inputs, to
    the entry's float32 tolerances."""
    host = [npgen.to_numpy(a) for a in case.inputs]
    _close(op.forward(case.config, *case.inputs), op.twin(case.config, *host),
           rtol=1e-12, atol=1e-12)
    single = [xp.astype(a, xp.float32) for a in case.inputs]
    rounded = [npgen.to_numpy(a).astype(np.float64) for a in single]
    y32 = op.forward(case.config, *single)
    assert npgen.to_numpy(y32).dtype == np.float32
    rtol, atol = op.tolerances["float32"]
    _close(y32, op.twin(case.config, *rounded), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", TWINNED)
def test_forward_matches_twin(backend, name):
    op = OPS[name]

    @given(op.cases())
    def check(case):
        _check_against_twin(op, case, backend.xp)

    check()


def test_a_planted_forward_bug_is_caught():
    """The same check on a ReLU that leaks (slope 0.01 below 0) fails."""
    buggy = OPS["relu"]._replace(forward=lambda c, x: F.leaky_relu_forward(x, 0.01)[0])
    case = Case((npgen.asarray(-np.ones((2, 3)), dtype="float64"),), ("x",), {})
    with pytest.raises(AssertionError):
        _check_against_twin(buggy, case, npgen.get_backend().xp)


# Optimizer steps ---------------------------------------------------------------

SGD_HYPER = st.fixed_dictionaries({
    "lr": st.sampled_from([0.1, 0.01]), "momentum": st.sampled_from([0.0, 0.9]),
    "dampening": st.sampled_from([0.0, 0.3]), "nesterov": st.booleans(),
    "weight_decay": st.sampled_from([0.0, 0.05])})
ADAM_HYPER = st.fixed_dictionaries({
    "lr": st.sampled_from([0.1, 1e-3]), "betas": st.sampled_from([(0.9, 0.999), (0.0, 0.9)]),
    "eps": st.sampled_from([1e-8, 1e-3]), "weight_decay": st.sampled_from([0.0, 0.05]),
    "amsgrad": st.booleans()})
STEPS = 3


@given(shape=nst.shapes(max_dims=2, max_side=4), hyper=SGD_HYPER, data=st.data())
def test_sgd_steps_match_twin(backend, shape, hyper, data):
    if hyper["nesterov"] and (hyper["momentum"] == 0 or hyper["dampening"] != 0):
        hyper["nesterov"] = False  # torch refuses Nesterov without momentum or with dampening
    param = data.draw(nst.float_arrays(shape))
    expected, buffer, state = npgen.to_numpy(param), None, optim.sgd_init(param)
    for _ in range(STEPS):
        grad = data.draw(nst.float_arrays(shape))
        param, state = optim.sgd_update(param, grad, state, **hyper)
        expected, buffer = ro.sgd_step_reference(expected, npgen.to_numpy(grad), buffer, **hyper)
        _close(param, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("decoupled", [False, True], ids=["Adam", "AdamW"])
@given(shape=nst.shapes(max_dims=2, max_side=4), hyper=ADAM_HYPER, data=st.data())
def test_adam_steps_match_twin(backend, decoupled, shape, hyper, data):
    param = data.draw(nst.float_arrays(shape))
    state = optim.adam_init(param, amsgrad=hyper["amsgrad"])
    expected = npgen.to_numpy(param)
    m = v = np.zeros(shape)
    v_max = np.zeros(shape) if hyper["amsgrad"] else None
    for step in range(STEPS):
        grad = data.draw(nst.float_arrays(shape))
        param, state = optim.adam_update(param, grad, state, decoupled_weight_decay=decoupled,
                                         **hyper)
        expected, m, v, v_max = ro.adam_step_reference(
            expected, npgen.to_numpy(grad), m, v, v_max, step, decoupled=decoupled, **hyper)
        _close(param, expected, rtol=1e-12, atol=1e-12)
        _close(state.exp_avg_sq, v, rtol=1e-12, atol=1e-15)
