"""clip_grad_norm and the learning-rate schedules against their closed forms (no torch needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import npgen
from npgen.optim import SGD, clip_grad_norm, cosine_lr, linear_warmup, step_lr


def _grads(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return {"w": scale * rng.normal(size=(3, 4)), "b": scale * rng.normal(size=(2,)),
            "s": np.array(scale * 0.5)}


@pytest.mark.parametrize("max_norm", [0.0, 0.1, 1.0, 100.0])
def test_clip_grad_norm_closed_form(backend, max_norm):
    host = _grads(1, scale=2.0)
    grads = {k: npgen.asarray(v, dtype="float64") for k, v in host.items()}
    total = clip_grad_norm(grads, max_norm)
    want_total = math.sqrt(sum(float(np.sum(v * v)) for v in host.values()))
    coef = min(1.0, max_norm / (want_total + 1e-6))
    assert tuple(total.shape) == ()
    assert npgen.get_backend().name == npgen.backend.backend_of(total).name
    np.testing.assert_allclose(float(total), want_total, rtol=1e-14)
    for k, v in host.items():
        np.testing.assert_allclose(npgen.to_numpy(grads[k]), coef * v, rtol=1e-14, atol=0)
    clipped = math.sqrt(sum(float(np.sum(npgen.to_numpy(g) ** 2)) for g in grads.values()))
    assert clipped <= max_norm + 1e-12


def test_clip_grad_norm_accepts_a_sequence_and_float32(backend):
    host = _grads(2, scale=10.0)
    arrays = [npgen.asarray(v, dtype="float32") for v in host.values()]
    total = clip_grad_norm(arrays, 1.0)
    assert npgen.backend.dtype_name(total.dtype) == "float32"
    clipped = math.sqrt(sum(float(np.sum(npgen.to_numpy(g).astype(np.float64) ** 2))
                            for g in arrays))
    # float32 scale: rounding of the norm, the coefficient and each element is ~1e-7
    # (eps = 1.2e-7), plus the 1e-6 / total of torch's coefficient; measured 4e-8.
    assert abs(clipped - 1.0) < 1e-6


def test_step_lr_closed_form():
    assert [step_lr(t, 1.0, 3, gamma=0.5) for t in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert step_lr(100, 0.3, 1000) == 0.3


def test_cosine_lr_closed_form():
    base, low, total = 0.2, 0.02, 50
    assert cosine_lr(0, base, total, low) == base
    assert math.isclose(cosine_lr(total // 2, base, total, low), (base + low) / 2, rel_tol=1e-15)
    assert math.isclose(cosine_lr(total, base, total, low), low, rel_tol=1e-15)
    assert cosine_lr(total + 7, base, total, low) == cosine_lr(total, base, total, low)
    values = [cosine_lr(t, base, total, low) for t in range(total + 1)]
    assert all(a > b for a, b in zip(values, values[1:]))  # strictly decreasing
    # Symmetric about the midpoint: lr(t) + lr(T - t) = base + min_lr.
    for t in range(total + 1):
        assert math.isclose(values[t] + values[total - t], base + low, rel_tol=1e-14)


def test_linear_warmup_closed_form():
    assert linear_warmup(0, 0.3, 4, start_factor=0.25) == 0.3 * 0.25
    assert math.isclose(linear_warmup(2, 0.3, 4, start_factor=0.25), 0.3 * 0.625)
    assert linear_warmup(4, 0.3, 4) == linear_warmup(40, 0.3, 4) == 0.3
    # Chained with cosine: a multiplicative factor on the other schedule's value.
    assert linear_warmup(1, cosine_lr(1, 1.0, 10), 2, 0.5) == 0.75 * cosine_lr(1, 1.0, 10)


def test_schedule_drives_optimizer_lr(backend):
    params = {"w": npgen.asarray(np.zeros(2), dtype="float64")}
    grads = {"w": npgen.asarray(np.ones(2), dtype="float64")}
    opt = SGD(params, lr=1.0)
    expected = 0.0
    for t in range(6):
        opt.lr = step_lr(t, 1.0, 2, gamma=0.5)
        expected -= opt.lr
        opt.step(grads)
    np.testing.assert_array_equal(npgen.to_numpy(params["w"]), [expected, expected])


@pytest.mark.parametrize("call, error, match", [
    (lambda: step_lr(-1, 0.1, 2), ValueError, "step_lr: step must be >= 0"),
    (lambda: step_lr(1.5, 0.1, 2), TypeError, "step_lr: step must be an int"),
    (lambda: step_lr(1, 0.1, 0), ValueError, "step_lr: step_size must be >= 1"),
    (lambda: step_lr(1, -0.1, 2), ValueError, "step_lr: base_lr"),
    (lambda: cosine_lr(1, 0.1, 0), ValueError, "cosine_lr: total_steps must be >= 1"),
    (lambda: cosine_lr(1, 0.1, 5, min_lr=-1.0), ValueError, "cosine_lr: min_lr"),
    (lambda: linear_warmup(1, 0.1, 0), ValueError, "linear_warmup: warmup_steps"),
    (lambda: linear_warmup(1, 0.1, 5, start_factor=0.0), ValueError, "start_factor"),
    (lambda: linear_warmup(1, 0.1, 5, start_factor=1.5), ValueError, "start_factor"),
])
def test_schedule_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_clip_grad_norm_returns_a_0d_array_of_the_namespace(backend):
    grads = {"a": npgen.asarray(np.array([3.0, 4.0]), dtype="float64")}
    total = clip_grad_norm(grads, 1.0)
    assert tuple(total.shape) == () and float(total) == 5.0
    assert npgen.backend.backend_of(total).name == backend.name
