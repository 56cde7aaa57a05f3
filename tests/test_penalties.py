"""gradient_penalty and r1_penalty: values against the formulas, gradients against central
differences on every backend row, the zero-norm case, torch, and input errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgen
from npgen.gradcheck import check_vjp
from npgen.losses import gradient_penalty, r1_penalty
from npgen.testing import strategies as nst


def _norms(g):
    return np.sqrt((g.reshape(g.shape[0], -1) ** 2).sum(axis=1))


@given(shape=nst.shapes(1, 4, max_side=4), target=st.floats(0.0, 2.0),
       weight=st.floats(0.0, 20.0), data=st.data())
def test_gradient_penalty_value_and_gradient(backend, shape, target, weight, data):
    grads = data.draw(nst.float_arrays(shape), label="grads")
    g = npgen.to_numpy(grads)
    value, _ = gradient_penalty(grads, target, weight)
    expected = weight * np.mean((_norms(g) - target) ** 2)
    assert float(value) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    # keep every row's norm off 0, the cone's tip (drawn norms are at least 1e-3 there)
    if _norms(g).min() > 1e-3:
        check_vjp(lambda g: gradient_penalty(g, target, weight)[0],
                  lambda r, g: (r * gradient_penalty(g, target, weight)[1],), (grads,))


@given(shape=nst.shapes(1, 4, max_side=4), gamma=st.floats(0.0, 20.0), data=st.data())
def test_r1_penalty_value_and_gradient(backend, shape, gamma, data):
    grads = data.draw(nst.float_arrays(shape), label="grads")
    g = npgen.to_numpy(grads)
    value, _ = r1_penalty(grads, gamma)
    assert float(value) == pytest.approx(gamma / 2 * np.mean(_norms(g) ** 2), rel=1e-12,
                                         abs=1e-12)
    check_vjp(lambda g: r1_penalty(g, gamma)[0],
              lambda r, g: (r * r1_penalty(g, gamma)[1],), (grads,))


def test_gradient_penalty_is_finite_at_a_zero_norm(backend):
    grads = npgen.asarray(np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0]]))
    value, d_grads = gradient_penalty(grads)  # target 1, weight 10
    assert float(value) == pytest.approx(10.0 * ((0 - 1) ** 2 + (5 - 1) ** 2) / 2)
    d = npgen.to_numpy(d_grads)
    np.testing.assert_array_equal(d[0], 0.0)  # the smallest subgradient at the cone's tip
    np.testing.assert_allclose(d[1], 10.0 * (1 - 1 / 5) * np.array([3.0, 0.0, 4.0]),
                               rtol=1e-14)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_penalties_match_torch_including_a_zero_row():
    import torch

    g = np.random.default_rng(0).normal(size=(4, 2, 3))
    g[1] = 0.0
    t = torch.from_numpy(g).requires_grad_(True)
    (10.0 * ((t.flatten(1).norm(dim=1) - 1.0) ** 2).mean()).backward()
    value, d = gradient_penalty(npgen.asarray(g))
    np.testing.assert_allclose(npgen.to_numpy(d), t.grad.numpy(), rtol=1e-13, atol=1e-15)
    t.grad = None
    (2.5 * (t.flatten(1) ** 2).sum(dim=1).mean()).backward()  # gamma/2 with gamma = 5
    np.testing.assert_allclose(npgen.to_numpy(r1_penalty(npgen.asarray(g), 5.0)[1]),
                               t.grad.numpy(), rtol=1e-13, atol=0)


def test_penalty_errors_are_clear(backend):
    g = npgen.asarray(np.ones((2, 3)))
    cases = [
        (lambda: gradient_penalty(npgen.asarray(np.ones((2, 3), dtype=np.int64))), TypeError,
         "gradient_penalty"),
        (lambda: gradient_penalty(npgen.asarray(np.float64(1.0))), ValueError,
         r"gradient_penalty: expected grads with at least 1 dimension"),
        (lambda: gradient_penalty(g, target=-1.0), ValueError,
         r"gradient_penalty: target must lie in \[0, inf\]; got -1.0"),
        (lambda: gradient_penalty(g, weight=float("nan")), ValueError, "weight"),
        (lambda: r1_penalty(g, -2.0), ValueError, r"r1_penalty: gamma must lie in \[0, inf\]"),
        (lambda: r1_penalty(npgen.asarray(np.ones((0, 3))), 1.0), ValueError,
         "r1_penalty: grads has an empty batch axis"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
