"""Batch norm: slow twin, running statistics by hand and vs torch, central differences."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import host
from hypothesis import given, settings
from hypothesis import strategies as st

import npgen
from npgen import nn
from npgen.functional.batchnorm import batchnorm_backward, batchnorm_forward
from npgen.gradcheck import check_module, check_vjp
from npgen.testing import strategies as nst
from npgen.testing.reference import batchnorm_reference

EPS = 1e-5


@st.composite
def bn_shapes(draw):
    """(N, C), (N, C, L) or (N, C, H, W) with at least 2 values per channel, <= 48 elements."""
    rank = draw(st.sampled_from([2, 3, 4]))
    channels = draw(st.integers(1, 3))
    rest = draw(st.lists(st.integers(1, 3), min_size=rank - 2, max_size=rank - 2))
    batch = draw(st.integers(2 if not rest or np.prod(rest) == 1 else 1, 4))
    return (batch, channels, *rest)


def _bn_fn(training, affine, running=(None, None)):
    """f(x, [w, b]) and its VJP for check_vjp (running stats fixed, as in the module)."""
    def f(x, *wb):
        w, b = wb if affine else (None, None)
        return batchnorm_forward(x, w, b, *running, training=training, eps=EPS)[0]

    def vjp(dy, x, *wb):
        w, b = wb if affine else (None, None)
        cache = batchnorm_forward(x, w, b, *running, training=training, eps=EPS)[1]
        dx, dw, db = batchnorm_backward(dy, cache)
        return (dx, dw, db) if affine else (dx,)
    return f, vjp


@given(shape=bn_shapes(), affine=st.booleans(), data=st.data())
def test_batchnorm_train_vjp(backend, shape, affine, data):
    x = data.draw(nst.float_arrays(shape))
    wb = (data.draw(nst.float_arrays(shape[1:2])), data.draw(nst.float_arrays(shape[1:2])))
    f, vjp = _bn_fn(True, affine)
    check_vjp(f, vjp, (x, *wb) if affine else (x,), names=["x", "weight", "bias"])


@given(shape=bn_shapes(), affine=st.booleans(), data=st.data())
def test_batchnorm_forward_matches_slow_twin(backend, shape, affine, data):
    x = data.draw(nst.float_arrays(shape))
    w = data.draw(nst.float_arrays(shape[1:2])) if affine else None
    b = data.draw(nst.float_arrays(shape[1:2])) if affine else None
    y, cache, _, _ = batchnorm_forward(x, w, b, None, None, training=True, eps=EPS)
    expected, _, var = batchnorm_reference(*map(host, (x, w, b)), eps=EPS)
    np.testing.assert_allclose(npgen.to_numpy(y), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(npgen.to_numpy(cache.inv_std), 1 / np.sqrt(var + EPS), rtol=1e-12)


def test_batchnorm_backward_compact_form_vs_closed_form(backend):
    """dx equals the full Jacobian-transpose product of the slow twin (built column by column)."""
    rng = np.random.default_rng(4)
    x_host, dy_host, w_host = rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 2, 2)), [1.5, -0.7]
    x, dy, w = (npgen.asarray(a, dtype="float64") for a in (x_host, dy_host, w_host))
    _, cache, _, _ = batchnorm_forward(x, w, None, None, None, training=True, eps=EPS)
    dx = npgen.to_numpy(batchnorm_backward(dy, cache)[0])
    # per channel: dy_j/dx_i = gamma/sigma (delta_ij - 1/M - xhat_i xhat_j / M)
    expected = np.empty_like(x_host)
    _, mean, var = batchnorm_reference(x_host, None, None, EPS)
    for c in range(2):
        xhat = ((x_host[:, c] - mean[c]) / np.sqrt(var[c] + EPS)).reshape(-1)
        m = xhat.size
        sigma = np.sqrt(var[c] + EPS)
        jacobian = (np.eye(m) - 1 / m - np.outer(xhat, xhat) / m) * w_host[c] / sigma
        expected[:, c] = (jacobian.T @ dy_host[:, c].reshape(-1)).reshape(x_host[:, c].shape)
    np.testing.assert_allclose(dx, expected, rtol=1e-10, atol=1e-12)


def _batches(shape, steps, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(loc=1.5, scale=2.0, size=shape) for _ in range(steps)]


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_running_stats_by_hand(backend, momentum):
    layer = nn.BatchNorm1d(3, momentum=momentum, dtype="float64")
    mean, var = np.zeros(3), np.ones(3)
    for t, batch in enumerate(_batches((5, 3, 2), 4), start=1):
        layer(npgen.asarray(batch, dtype="float64"))
        factor = 1.0 / t if momentum is None else momentum
        values = batch.transpose(1, 0, 2).reshape(3, -1)  # (C, N * L)
        mean = (1 - factor) * mean + factor * values.mean(axis=1)
        var = (1 - factor) * var + factor * values.var(axis=1, ddof=1)  # unbiased
        buffers = {k: npgen.to_numpy(v) for k, v in layer.buffers().items()}
        np.testing.assert_allclose(buffers["running_mean"], mean, rtol=1e-12)
        np.testing.assert_allclose(buffers["running_var"], var, rtol=1e-12)
        assert int(buffers["num_batches_tracked"]) == t
        assert buffers["num_batches_tracked"].dtype == np.int64


def test_eval_uses_running_stats_and_freezes_them(backend):
    layer = nn.BatchNorm2d(2, dtype="float64")
    for batch in _batches((3, 2, 2, 2), 2):
        layer(npgen.asarray(batch, dtype="float64"))
    layer.parameters()["weight"][...] = npgen.asarray([2.0, -1.0], dtype="float64")
    layer.parameters()["bias"][...] = npgen.asarray([0.5, 0.25], dtype="float64")
    before = layer.state_dict()
    layer.eval()
    x_host = _batches((1, 2, 3, 1), 1, seed=9)[0]  # one sample is fine in eval
    y = npgen.to_numpy(layer(npgen.asarray(x_host, dtype="float64")))
    rm, rv = before["running_mean"], before["running_var"]
    expected = ((x_host - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + EPS)
                * np.array([2.0, -1.0])[None, :, None, None]
                + np.array([0.5, 0.25])[None, :, None, None])
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    after = layer.state_dict()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])
    # eval backward is the per-channel affine map gamma / sigma
    dx = npgen.to_numpy(layer.backward(npgen.asarray(np.ones_like(x_host), dtype="float64")))
    expected_dx = (np.array([2.0, -1.0]) / np.sqrt(rv + EPS))[None, :, None, None]
    np.testing.assert_allclose(dx, np.broadcast_to(expected_dx, dx.shape), rtol=1e-12)


def test_track_running_stats_false_uses_batch_stats_in_eval(backend):
    layer = nn.BatchNorm1d(2, affine=False, track_running_stats=False, dtype="float64").eval()
    assert layer.state_dict() == {} and layer.parameters() == {}
    x_host = _batches((4, 2), 1)[0]
    y = npgen.to_numpy(layer(npgen.asarray(x_host, dtype="float64")))
    np.testing.assert_allclose(y, batchnorm_reference(x_host, None, None, EPS)[0], rtol=1e-10)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (4, 3)), (nn.BatchNorm1d, (3, 2, 3)),
                                        (nn.BatchNorm2d, (2, 2, 2, 3))])
def test_batchnorm_module_gradcheck(backend, cls, shape, mode):
    layer = cls(shape[1], dtype="float64")
    for batch in _batches(shape, 2, seed=1):  # move the running stats off (0, 1)
        layer(npgen.asarray(batch, dtype="float64"))
    rng = np.random.default_rng(2)
    layer.parameters()["weight"][...] = npgen.asarray(rng.normal(size=shape[1]), dtype="float64")
    layer.parameters()["bias"][...] = npgen.asarray(rng.normal(size=shape[1]), dtype="float64")
    layer.train(mode == "train")
    before = layer.state_dict()
    check_module(layer, npgen.asarray(rng.normal(size=shape), dtype="float64"))
    for key, value in layer.state_dict().items():  # gradcheck restores the buffers
        np.testing.assert_array_equal(value, before[key])


@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (1, 3)), (nn.BatchNorm1d, (1, 3, 1)),
                                        (nn.BatchNorm2d, (1, 3, 1, 1))])
def test_one_value_per_channel_is_an_error_in_training(backend, cls, shape):
    layer = cls(3, dtype="float64")
    x = npgen.asarray(np.ones(shape), dtype="float64")
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(x)
    assert int(layer.state_dict()["num_batches_tracked"]) == 0
    layer.eval()
    layer(x)  # fine with running statistics


def test_functional_errors(backend):
    x = npgen.asarray(np.ones((4, 3)), dtype="float64")
    with pytest.raises(ValueError, match="batchnorm_forward: weight must have shape"):
        batchnorm_forward(x, npgen.asarray(np.ones(2), dtype="float64"), None, None, None, True)
    with pytest.raises(ValueError, match="batchnorm_forward: evaluation"):
        batchnorm_forward(x, None, None, None, None, training=False)
    with pytest.raises(TypeError, match="batchnorm_forward: momentum"):
        batchnorm_forward(x, None, None, None, None, training=True, momentum=None)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("cls_name, shape", [("BatchNorm1d", (4, 3)), ("BatchNorm1d", (3, 3, 2)),
                                             ("BatchNorm2d", (2, 3, 2, 2))])
def test_batchnorm_matches_torch(backend, cls_name, shape, momentum):
    torch = pytest.importorskip("torch")
    layer = getattr(nn, cls_name)(3, momentum=momentum, dtype="float64")
    reference = getattr(torch.nn, cls_name)(3, momentum=momentum, dtype=torch.float64)
    rng = np.random.default_rng(3)
    affine = {"weight": rng.normal(size=3), "bias": rng.normal(size=3)}
    layer.load_state_dict({**layer.state_dict(), **affine})
    reference.load_state_dict({k: torch.as_tensor(v) for k, v in layer.state_dict().items()})
    for step, batch in enumerate(_batches(shape, 3, seed=5) + _batches(shape, 1, seed=6)):
        if step == 3:
            layer.eval()
            reference.eval()
        dy = rng.normal(size=shape)
        layer.zero_grad()
        y = layer(npgen.asarray(batch, dtype="float64"))
        dx = layer.backward(npgen.asarray(dy, dtype="float64"))
        reference.zero_grad()
        xt = torch.tensor(batch, requires_grad=True)
        yt = reference(xt)
        yt.backward(torch.from_numpy(dy))
        np.testing.assert_allclose(npgen.to_numpy(y), yt.detach().numpy(), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(npgen.to_numpy(dx), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        for key, p in (("weight", reference.weight), ("bias", reference.bias)):
            np.testing.assert_allclose(npgen.to_numpy(layer.gradients()[key]), p.grad.numpy(),
                                       rtol=1e-10, atol=1e-12)
        ours, theirs = layer.state_dict(), reference.state_dict()
        assert list(ours) == list(theirs)
        for key in ours:
            np.testing.assert_allclose(ours[key], theirs[key].numpy(), rtol=1e-12, atol=0)


@settings(max_examples=6)
@given(shape=bn_shapes(), data=st.data())
def test_batchnorm_float32_stays_float32(backend, shape, data):
    x = data.draw(nst.float_arrays(shape, dtype="float32"))
    layer = (nn.BatchNorm1d if len(shape) < 4 else nn.BatchNorm2d)(shape[1])
    y = layer(x)
    dx = layer.backward(y)
    for a in (y, dx, *layer.parameters().values(), *layer.gradients().values(),
              layer.buffers()["running_var"]):
        assert npgen.backend.dtype_name(a.dtype) == "float32"


@given(value=st.sampled_from([1e30, -3.3e30, 7.77e20, 1e5, -123456.789, 0.1]),
       batch=st.integers(2, 9), dtype=st.sampled_from(["float32", "float64"]))
def test_constant_input_far_from_zero_normalizes_to_exactly_zero(backend, value, batch, dtype):
    """Two-pass centring: y = beta, running_var moves towards 0 and dx = gamma/sqrt(eps) times
    the centred dy, even at 1e30 where a one-pass mean leaves ulp noise that normalizes to +-1."""
    host = np.full((batch, 2), value, dtype=dtype)
    x = npgen.asarray(host, dtype=dtype)
    ones = npgen.asarray(np.ones(2), dtype=dtype)
    beta = npgen.asarray(np.array([0.5, -2.0]), dtype=dtype)
    zeros = npgen.asarray(np.zeros(2), dtype=dtype)
    y, cache, mean, var = batchnorm_forward(x, ones, beta, zeros, ones, training=True,
                                            eps=EPS)
    np.testing.assert_array_equal(npgen.to_numpy(y), np.broadcast_to([0.5, -2.0], (batch, 2)))
    np.testing.assert_allclose(npgen.to_numpy(var), 0.9, rtol=1e-6)
    np.testing.assert_allclose(npgen.to_numpy(mean), 0.1 * np.float64(host[0, 0]), rtol=1e-6)
    dy_host = np.random.default_rng(batch).normal(size=(batch, 2))
    dx = batchnorm_backward(npgen.asarray(dy_host, dtype=dtype), cache)[0]
    expected = (dy_host - dy_host.mean(axis=0)) / np.sqrt(np.float64(EPS))
    # float32: dx ~ dy / sqrt(eps) ~ 300 |dy|, a few float32 roundings of that size
    np.testing.assert_allclose(npgen.to_numpy(dx), expected, rtol=1e-4 if dtype == "float32"
                               else 1e-9, atol=1e-3 if dtype == "float32" else 1e-9)
