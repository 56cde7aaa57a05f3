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


# npgen.verify for someone's penalty code --------------------------------------------------


def _their_gradient_penalty(grads, *, divide_safely=True, target=1.0, weight=10.0):
    """A NumPy WGAN-GP penalty in VJP form; ``divide_safely=False`` is the 0/0 bug."""
    n = grads.shape[0]
    norms = np.sqrt((grads.reshape(n, -1) ** 2).sum(axis=1))

    def forward(g):
        return weight * np.mean((np.sqrt((g.reshape(n, -1) ** 2).sum(axis=1)) - target) ** 2)

    def backward(dloss, g):
        safe = np.where(norms > 0, norms, 1.0) if divide_safely else norms
        scale = np.where(norms > 0, 1 - target / safe, 0.0) if divide_safely else 1 - target / safe
        return dloss * (2 * weight / n) * scale.reshape(n, *[1] * (g.ndim - 1)) * g

    return forward, backward


def _verify_theirs(divide_safely):
    def forward(g):
        return _their_gradient_penalty(g, divide_safely=divide_safely)[0](g)

    def backward(dloss, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _their_gradient_penalty(g, divide_safely=divide_safely)[1](dloss, g)

    return npgen.verify.verify_gradient_penalty(forward, backward, max_examples=30,
                                                raise_exception=False)


def test_verify_gradient_penalty_passes_a_correct_one_and_catches_0_over_0():
    assert _verify_theirs(divide_safely=True).ok
    report = _verify_theirs(divide_safely=False)
    assert not report.ok and report.config["zero_row"]  # shrunk to the all-zero example


def test_verify_r1_penalty_catches_a_missing_half():
    def forward(g, half=0.5):
        return half * 10.0 * np.mean((g.reshape(g.shape[0], -1) ** 2).sum(axis=1))

    def backward(dloss, g, factor=1.0):
        return dloss * factor * 10.0 * g / g.shape[0]

    assert npgen.verify.verify_r1_penalty(forward, backward, max_examples=20).ok
    report = npgen.verify.verify_r1_penalty(lambda g: forward(g, 1.0),
                                            lambda d, g: backward(d, g, 2.0), max_examples=20,
                                            raise_exception=False)
    assert not report.ok  # consistent forward and backward, but not R1's gamma/2: forward caught
