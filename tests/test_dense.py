"""Dense: the functional pair against a NumPy closed form, central differences and torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgen
from npgen import nn
from npgen.functional.dense import dense_backward, dense_forward
from npgen.gradcheck import check_module, check_vjp
from npgen.testing import strategies as nst


def _dense_f(x, w, b=None):
    return dense_forward(x, w, b)[0]


def _dense_vjp(dy, x, w, b=None):
    dx, dw, db = dense_backward(dy, dense_forward(x, w, b)[1])
    return (dx, dw) if b is None else (dx, dw, db)


@given(n=st.integers(1, 4), f_in=st.integers(1, 5), f_out=st.integers(1, 4), data=st.data())
def test_dense_forward_and_backward_match_closed_form(backend, n, f_in, f_out, data):
    x, w = data.draw(nst.float_arrays((n, f_in))), data.draw(nst.float_arrays((f_out, f_in)))
    b, dy = data.draw(nst.float_arrays((f_out,))), data.draw(nst.float_arrays((n, f_out)))
    y, cache = dense_forward(x, w, b)
    dx, dw, db = dense_backward(dy, cache)
    xh, wh, bh, dyh = (npgen.to_numpy(a) for a in (x, w, b, dy))
    np.testing.assert_allclose(npgen.to_numpy(y), xh @ wh.T + bh, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(npgen.to_numpy(dx), dyh @ wh, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(npgen.to_numpy(dw), dyh.T @ xh, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(npgen.to_numpy(db), dyh.sum(axis=0), rtol=1e-13, atol=1e-13)


def test_dense_without_bias_returns_none(backend):
    x = npgen.asarray(np.ones((2, 3)), dtype="float64")
    w = npgen.asarray(np.ones((4, 3)), dtype="float64")
    _, _, db = dense_backward(npgen.asarray(np.ones((2, 4)), dtype="float64"),
                              dense_forward(x, w)[1])
    assert db is None


@pytest.mark.parametrize("bias", [True, False])
def test_dense_module_gradcheck(backend, bias):
    layer = nn.Dense(4, 3, bias=bias, dtype="float64", seed=1)
    x = npgen.asarray(np.random.default_rng(2).normal(size=(5, 4)), dtype="float64")
    check_module(layer, x)
    assert list(layer.parameters()) == (["weight", "bias"] if bias else ["weight"])


def test_linear_is_dense():
    assert nn.Linear is nn.Dense


def test_dense_default_dtype_and_shapes(backend):
    layer = nn.Dense(6, 2, seed=0)
    assert npgen.backend.dtype_name(layer.parameters()["weight"].dtype) == "float32"
    assert tuple(layer.parameters()["weight"].shape) == (2, 6)
    assert tuple(layer.parameters()["bias"].shape) == (2,)
    y = layer(npgen.asarray(np.zeros((3, 6)), dtype="float32"))
    assert tuple(y.shape) == (3, 2) and npgen.backend.dtype_name(y.dtype) == "float32"


def test_dense_default_init_bounds(backend):
    """U(-1/sqrt(in), 1/sqrt(in)) for weight and bias, as torch.nn.Linear."""
    f_in, f_out = 50, 400
    bound = 1.0 / math.sqrt(f_in)
    params = nn.Dense(f_in, f_out, seed=3).parameters()
    for key in ("weight", "bias"):
        values = npgen.to_numpy(params[key])
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.95 * bound  # the full interval is used
        assert abs(values.mean()) < 0.1 * bound
    torch = pytest.importorskip("torch")
    with torch.random.fork_rng(devices=[]):  # a fixed draw, without touching the global RNG
        torch.manual_seed(0)
        reference = torch.nn.Linear(f_in, f_out)
    for p in (reference.weight, reference.bias):
        assert p.abs().max().item() <= bound and p.abs().max().item() > 0.95 * bound


def test_dense_seed_reproducible(backend):
    a = nn.Dense(3, 2, seed=7).state_dict()
    b = nn.Dense(3, 2, rng=npgen.RNG(7, portable=True)).state_dict()
    with npgen.use_backend("numpy"):  # seeds draw on the host: the same weights everywhere
        c = nn.Dense(3, 2, seed=7).state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
        np.testing.assert_array_equal(a[key], c[key])


def test_dense_matches_torch(backend):
    torch = pytest.importorskip("torch")
    layer = nn.Dense(4, 3, dtype="float64", seed=5)
    reference = torch.nn.Linear(4, 3, dtype=torch.float64)
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    rng = np.random.default_rng(6)
    x_host, dy_host = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    y = layer(npgen.asarray(x_host, dtype="float64"))
    dx = layer.backward(npgen.asarray(dy_host, dtype="float64"))
    xt = torch.tensor(x_host, requires_grad=True)
    yt = reference(xt)
    yt.backward(torch.from_numpy(dy_host))
    np.testing.assert_allclose(npgen.to_numpy(y), yt.detach().numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(npgen.to_numpy(dx), xt.grad.numpy(), rtol=1e-13, atol=1e-13)
    grads = layer.gradients()
    for key, p in (("weight", reference.weight), ("bias", reference.bias)):
        np.testing.assert_allclose(npgen.to_numpy(grads[key]), p.grad.numpy(),
                                   rtol=1e-13, atol=1e-13)


def test_dense_functional_bad_inputs(backend):
    x = npgen.asarray(np.ones((2, 3)), dtype="float64")
    with pytest.raises(ValueError, match="dense_forward.*3 features"):
        dense_forward(x, npgen.asarray(np.ones((4, 5)), dtype="float64"))
    with pytest.raises(ValueError, match="dense_forward: bias must have shape"):
        dense_forward(x, npgen.asarray(np.ones((4, 3)), dtype="float64"),
                      npgen.asarray(np.ones((3,)), dtype="float64"))
    with pytest.raises(ValueError, match="dense_forward: expected an input .* at least 1 axis"):
        dense_forward(npgen.asarray(np.float64(1.0), dtype="float64"),
                      npgen.asarray(np.ones((4, 3)), dtype="float64"))


# ----------------------------------------------------------------------------
# Leading axes (*, C_in), as torch.nn.Linear
# ----------------------------------------------------------------------------


@given(leading=nst.shapes(min_dims=0, max_dims=3, max_side=3), f_in=st.integers(1, 4),
       f_out=st.integers(1, 3), data=st.data())
def test_dense_vjp_with_any_leading_axes(backend, leading, f_in, f_out, data):
    """x (*, C_in): none (a single vector), one (N) or several leading axes."""
    x = data.draw(nst.float_arrays((*leading, f_in)))
    w, b = data.draw(nst.float_arrays((f_out, f_in))), data.draw(nst.float_arrays((f_out,)))
    assert tuple(_dense_f(x, w, b).shape) == (*leading, f_out)
    check_vjp(_dense_f, _dense_vjp, (x, w, b), names=["x", "weight", "bias"])


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4), (2, 1, 3, 4)])
def test_dense_leading_axes_match_torch(backend, shape):
    torch = pytest.importorskip("torch")
    layer = nn.Dense(4, 3, dtype="float64", seed=5)
    reference = torch.nn.Linear(4, 3, dtype=torch.float64)
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    rng = np.random.default_rng(7)
    x_host, dy_host = rng.normal(size=shape), rng.normal(size=(*shape[:-1], 3))
    y = layer(npgen.asarray(x_host, dtype="float64"))
    dx = layer.backward(npgen.asarray(dy_host, dtype="float64"))
    xt = torch.tensor(x_host, requires_grad=True)
    reference(xt).backward(torch.from_numpy(dy_host))
    np.testing.assert_allclose(npgen.to_numpy(y), reference(xt).detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(npgen.to_numpy(dx), xt.grad.numpy(), rtol=1e-13, atol=1e-13)
    for key, p in (("weight", reference.weight), ("bias", reference.bias)):
        np.testing.assert_allclose(npgen.to_numpy(layer.gradients()[key]), p.grad.numpy(),
                                   rtol=1e-13, atol=1e-13)


def test_dense_module_gradcheck_on_3d_input(backend):
    layer = nn.Dense(3, 2, dtype="float64", seed=1)
    check_module(layer, npgen.asarray(np.random.default_rng(3).normal(size=(2, 4, 3)),
                                      dtype="float64"))


def test_dense_refuses_a_0d_input(backend):
    with pytest.raises(ValueError, match=r"Dense\(in_features=1, out_features=1\).*0-d"):
        nn.Dense(1, 1)(npgen.asarray(np.float32(1.0), dtype="float32"))
