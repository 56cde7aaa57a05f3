"""Activations: closed forms, kinks, extreme inputs, central differences and torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgen
from npgen import nn
from npgen.functional import activations as act
from npgen.gradcheck import check_module
from npgen.testing import strategies as nst

SLOPE = 0.2
PAIRS = {
    "relu": (act.relu_forward, act.relu_backward),
    "leaky_relu": (lambda x: act.leaky_relu_forward(x, SLOPE), act.leaky_relu_backward),
    "sigmoid": (act.sigmoid_forward, act.sigmoid_backward),
    "tanh": (act.tanh_forward, act.tanh_backward),
}
EXTREMES = [-1e300, -1e4, -80.0, -1.0, 0.0, 1.0, 80.0, 1e4, 1e300]


# Independent float64 references, written with Python's math (not the code's formulas).
def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _sigmoid_grad(x: float) -> float:  # sigma'(x) = 1 / (4 cosh(x/2)^2)
    return 1.0 / (4.0 * math.cosh(x / 2) ** 2) if abs(x) < 1000 else 0.0


def _tanh_grad(x: float) -> float:  # tanh'(x) = 1 / cosh(x)^2, ~ 4 exp(-2|x|) for large |x|
    return 1.0 / math.cosh(x) ** 2 if abs(x) < 300 else 4.0 * math.exp(-2.0 * abs(x))


REFERENCES = {  # name -> (value, derivative) as functions of one float
    "relu": (lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0),
    "leaky_relu": (lambda x: x if x > 0 else SLOPE * x, lambda x: 1.0 if x > 0 else SLOPE),
    "sigmoid": (_sigmoid, _sigmoid_grad),
    "tanh": (math.tanh, _tanh_grad),
}


@pytest.mark.parametrize("name", list(PAIRS))
@given(data=st.data(), shape=nst.shapes(1, 3, 1, 5))
def test_activation_matches_closed_form(backend, name, data, shape):
    x = data.draw(nst.float_arrays(shape, min_value=-10.0, max_value=10.0))
    _check_against_references(name, x)


@pytest.mark.parametrize("name", list(PAIRS))
def test_activation_extreme_inputs(backend, name):
    """+-1e300, +-1e4, +-80: finite values and gradients equal to the exact closed forms."""
    x = npgen.asarray(np.array(EXTREMES), dtype="float64")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y, dx = _check_against_references(name, x)
    assert np.isfinite(y).all() and np.isfinite(dx).all()


def _check_against_references(name, x):
    forward, backward = PAIRS[name]
    value, derivative = REFERENCES[name]
    y, cache = forward(x)
    dy = npgen.asarray(np.ones(tuple(x.shape)), dtype="float64")
    dx = npgen.to_numpy(backward(dy, cache))
    y = npgen.to_numpy(y)
    host = npgen.to_numpy(x).reshape(-1)
    expected_y = np.array([value(float(v)) for v in host]).reshape(y.shape)
    expected_dx = np.array([derivative(float(v)) for v in host]).reshape(y.shape)
    # relative precision everywhere (exp/cosh/tanh are a few ulps apart), exact zeros stay zero
    np.testing.assert_allclose(y, expected_y, rtol=1e-13, atol=0)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=0)
    return y, dx


def test_kink_convention_at_zero(backend):
    """As PyTorch: ReLU'(0) = 0, LeakyReLU'(0) = negative_slope."""
    x = npgen.asarray(np.zeros(3), dtype="float64")
    dy = npgen.asarray(np.ones(3), dtype="float64")
    np.testing.assert_array_equal(npgen.to_numpy(act.relu_backward(dy, act.relu_forward(x)[1])),
                                  0.0)
    _, cache = act.leaky_relu_forward(x, 0.3)
    np.testing.assert_array_equal(npgen.to_numpy(act.leaky_relu_backward(dy, cache)), 0.3)


MODULES = {
    "relu": lambda: nn.ReLU(),
    "leaky_relu": lambda: nn.LeakyReLU(SLOPE),
    "sigmoid": lambda: nn.Sigmoid(),
    "tanh": lambda: nn.Tanh(),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_activation_module_gradcheck(backend, name):
    values = np.random.default_rng(0).normal(size=(3, 4)) * 2
    values[np.abs(values) < 1e-3] = 0.5  # away from the kink at 0
    check_module(MODULES[name](), npgen.asarray(values, dtype="float64"))


@pytest.mark.parametrize("name", list(MODULES))
def test_activation_module_keeps_dtype(backend, name):
    x = npgen.asarray(np.linspace(-3, 3, 6).reshape(2, 3), dtype="float32")
    layer = MODULES[name]()
    y = layer(x)
    dx = layer.backward(y)
    assert npgen.backend.dtype_name(y.dtype) == "float32"
    assert npgen.backend.dtype_name(dx.dtype) == "float32"


def test_activation_rejects_integer_input(backend):
    x = npgen.asarray(np.arange(4))
    with pytest.raises(TypeError, match="ReLU: expected a floating-point input"):
        nn.ReLU()(x)


def test_leaky_relu_default_slope():
    assert nn.LeakyReLU().negative_slope == 0.01


@pytest.mark.parametrize("name", list(PAIRS))
def test_activations_match_torch(backend, name):
    torch = pytest.importorskip("torch")
    functions = {
        "relu": torch.relu,
        "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, SLOPE),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
    }
    host = np.concatenate([EXTREMES, np.random.default_rng(1).normal(size=8) * 3])
    dy_host = np.random.default_rng(2).normal(size=host.shape)
    forward, backward = PAIRS[name]
    y, cache = forward(npgen.asarray(host, dtype="float64"))
    dx = backward(npgen.asarray(dy_host, dtype="float64"), cache)
    xt = torch.tensor(host, requires_grad=True)
    yt = functions[name](xt)
    yt.backward(torch.from_numpy(dy_host))
    np.testing.assert_allclose(npgen.to_numpy(y), yt.detach().numpy(), rtol=1e-14, atol=0)
    # torch's sigmoid/tanh gradients y(1-y), 1-y^2 round to 0 where ours keep relative
    # precision (|x| >= 80): compare those where torch's are representable
    np.testing.assert_allclose(npgen.to_numpy(dx), xt.grad.numpy(), rtol=1e-12, atol=1e-30)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_activations_propagate_nan(backend, name):
    """A NaN input gives a NaN output (as torch does), so divergence is never hidden."""
    x = npgen.asarray(np.array([np.nan, -1.0, 1.0]), dtype="float64")
    y = npgen.to_numpy(PAIRS[name][0](x)[0])
    assert np.isnan(y[0]) and np.isfinite(y[1:]).all()
