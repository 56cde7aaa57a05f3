"""Second order: every op's double backward is the VJP of its own backward (check_vjp applied
to the backward; the registry's ``*_double_backward`` rows in tests/test_registry.py check
conv2d, conv_transpose2d and the activations, this file what they cannot: dense on any
leading axes, flatten/unflatten around wide axes), modules and Sequential chains through
check_double_backward, planted second-order bugs caught, and a conv critic's penalty
gradient against finite differences and against torch's ``create_graph=True``.

The checked function is always a backward, F(dy, x, theta) = dx; its VJP for a cotangent
ddx is what ``op_double_backward(ddx, dy, cache)`` returns. Every element costs two
forward+backward passes, so the geometries are small and conv examples are capped.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import npgen
from npgen import nn
from npgen.functional import activations as act
from npgen.functional import conv, dense
from npgen.gradcheck import GradcheckError, check_double_backward, check_vjp
from npgen.losses import gradient_penalty
from npgen.nn.module import Sequential
from npgen.testing import strategies as nst


def _second_order_check(forward, backward, double_backward, x, params, dy, options=()):
    """check_vjp of F(dy, x, *params) = backward(dy, forward(x, *params)) by double_backward."""
    options = dict(options)

    def f(dy, x, *params):
        return backward(dy, forward(x, *params, **options)[1])[0]

    def vjp(ddx, dy, x, *params):  # (d_dy, d_x, dweight, dbias), dbias None without a bias
        return double_backward(ddx, dy, forward(x, *params, **options)[1])[:2 + len(params)]

    names = ("dy", "x", "weight", "bias")[:2 + len(params)]
    check_vjp(f, vjp, (dy, x, *params), names=names)


# ----------------------------------------------------------------------------
# Functional double backward, on every backend row
# ----------------------------------------------------------------------------


@given(leading=nst.shapes(0, 2, max_side=3), c_in=st.integers(1, 4), c_out=st.integers(1, 4),
       bias=st.booleans(), data=st.data())
def test_dense_double_backward_is_the_vjp_of_its_backward(backend, leading, c_in, c_out, bias,
                                                          data):
    x = data.draw(nst.float_arrays((*leading, c_in)), label="x")
    params = [data.draw(nst.float_arrays((c_out, c_in)), label="weight")]
    if bias:
        params.append(data.draw(nst.float_arrays((c_out,)), label="bias"))
    dy = data.draw(nst.float_arrays((*leading, c_out)), label="dy")
    _second_order_check(dense.dense_forward, dense.dense_backward, dense.dense_double_backward,
                        x, params, dy)


def test_double_backward_input_errors_name_the_op(backend):
    xp = backend.xp
    x = npgen.asarray(np.ones((2, 1, 4, 4)), dtype="float64")
    w = npgen.asarray(np.ones((3, 1, 2, 2)), dtype="float64")
    y, cache = conv.conv2d_forward(x, w)
    with pytest.raises(ValueError, match=r"conv2d_double_backward: expected ddx of the input's "
                                         r"shape \(2, 1, 4, 4\); got shape \(2, 1, 3, 3\)"):
        conv.conv2d_double_backward(xp.ones_like(y[:, :1, ...]), xp.ones_like(y), cache)
    _, t_cache = act.tanh_forward(x)
    with pytest.raises(ValueError, match="tanh_double_backward"):
        act.tanh_double_backward(xp.ones_like(y), xp.ones_like(x), t_cache)


# ----------------------------------------------------------------------------
# Modules and the Sequential chain: check_double_backward
# ----------------------------------------------------------------------------


def _mlp(activation, seed):
    return Sequential(nn.Dense(3, 4, dtype="float64", seed=seed), activation(),
                      nn.Dense(4, 3, dtype="float64", seed=seed + 1), nn.Tanh(),
                      nn.Dense(3, 2, dtype="float64", seed=seed + 2))


@settings(max_examples=8)
@given(activation=st.sampled_from([nn.Sigmoid, nn.Tanh, nn.ReLU]), seed=st.integers(0, 99),
       data=st.data())
def test_sequential_second_order_includes_the_forward_path(backend, activation, seed, data):
    x = data.draw(nst.float_arrays((3, 3)), label="x")
    module = _mlp(activation, seed)
    pre_activation = npgen.to_numpy(module[0](x))
    assume(activation is not nn.ReLU or np.abs(pre_activation).min() > 1e-3)  # off the kink
    check_double_backward(module, x)


def _conv_critic(seed, tanh=False, width=3):
    """A three-conv critic without batch norm: (N, 1, 8, 8) -> (N, 1) (6 x 6 -> (N, 1) too)."""
    return Sequential(
        nn.Conv2d(1, width, 4, 2, 1, dtype="float64", seed=seed), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 4, 3, 2, 1, dtype="float64", seed=seed + 1),
        nn.Tanh() if tanh else nn.LeakyReLU(0.2),
        nn.Conv2d(4, 1, 2, 1, 0, dtype="float64", seed=seed + 2), nn.Flatten())


def test_conv_critic_and_every_layer_pass_check_double_backward(backend):
    # small: every one of the ~120 elements costs two forward+backward passes of the critic
    x = npgen.asarray(np.random.default_rng(0).normal(size=(1, 1, 6, 6)), dtype="float64")
    report = check_double_backward(_conv_critic(0, tanh=True, width=2), x)
    assert {c.name for c in report.checks} >= {"input", "dy", "0.weight", "4.bias"}
    rng = np.random.default_rng(1)
    z = npgen.asarray(rng.normal(size=(1, 2, 2, 2)), dtype="float64")
    check_double_backward(nn.ConvTranspose2d(2, 2, 3, 2, 1, 1, dtype="float64", seed=1), z)
    check_double_backward(nn.Unflatten(1, (3, 9)), npgen.asarray(rng.normal(size=(2, 27))))
    dropout = nn.Dropout(0.5).eval()
    check_double_backward(dropout, z)


def test_zero_grad_keeps_what_double_backward_needs_and_order_is_enforced(backend):
    layer = nn.Dense(3, 2, dtype="float64", seed=0)
    with pytest.raises(RuntimeError, match=r"Dense.double_backward called before backward"):
        layer.double_backward(npgen.asarray(np.ones((4, 3))))
    x = npgen.asarray(np.random.default_rng(0).normal(size=(4, 3)))
    layer(x)
    dy = npgen.asarray(np.ones((4, 2)))
    layer.backward(dy)
    layer.zero_grad()
    ddx = npgen.asarray(np.random.default_rng(1).normal(size=(4, 3)))
    layer.double_backward(ddx)
    expected = npgen.to_numpy(dy).T @ npgen.to_numpy(ddx)  # dW = dy^T ddx
    np.testing.assert_allclose(npgen.to_numpy(layer.gradients()["weight"]), expected,
                               rtol=1e-14, atol=0)


def test_batch_norm_has_no_second_order(backend):
    bn = nn.BatchNorm2d(2, dtype="float64")
    x = npgen.asarray(np.random.default_rng(0).normal(size=(3, 2, 2, 2)))
    bn.backward(bn(x))
    with pytest.raises(NotImplementedError, match=r"BatchNorm2d.double_backward: the second "
                                                  r"order of batch norm is not implemented"):
        Sequential(bn).double_backward(x)


# ----------------------------------------------------------------------------
# Mutation tests: planted second-order bugs are caught
# ----------------------------------------------------------------------------


def _without_forward_path(self, ddx):
    """Sequential.double_backward with step 2 (the forward-path cotangent) left out."""
    d_g, d_x_first = ddx, None
    for i, layer in enumerate(self):
        d_g, d_x = layer.double_backward(d_g)
        d_x_first = d_x if i == 0 else d_x_first
    return d_g, d_x_first


def test_check_double_backward_catches_a_missing_forward_path_term(monkeypatch):
    module = _mlp(nn.Sigmoid, 3)
    x = npgen.asarray(np.random.default_rng(0).normal(size=(3, 3)))
    check_double_backward(module, x)  # the real chain passes
    monkeypatch.setattr(Sequential, "double_backward", _without_forward_path)
    with pytest.raises(GradcheckError, match="gradient check FAILED"):
        check_double_backward(module, x)


def test_check_double_backward_catches_a_conv_second_order_without_stride(monkeypatch):
    layer = nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype="float64", seed=0)
    x = npgen.asarray(np.random.default_rng(0).normal(size=(2, 2, 6, 6)))
    check_double_backward(layer, x)
    real = conv.conv2d_double_backward

    def strideless(ddx, dy, cache):  # the same shapes, the wrong taps
        return real(ddx, dy, cache._replace(stride=(1, 1)))

    monkeypatch.setattr(npgen.nn.conv, "conv2d_double_backward", strideless)
    with pytest.raises(GradcheckError) as caught:
        check_double_backward(layer, x)
    assert caught.value.report.worst.name in {"dy", "weight"}


# ----------------------------------------------------------------------------
# A conv critic's penalty gradient: finite differences, and torch's create_graph=True
# ----------------------------------------------------------------------------


def _penalty_and_gradients(critic, x_hat):
    """P = gradient_penalty(dD/dx_hat) and dP/dtheta by the double backward (NumPy dicts)."""
    critic.zero_grad()
    scores = critic(x_hat)
    grads = critic.backward(npgen.asarray(np.ones(tuple(scores.shape))))
    critic.zero_grad()
    penalty, d_grads = gradient_penalty(grads)
    critic.double_backward(d_grads)
    return float(penalty), {k: npgen.to_numpy(g).copy() for k, g in critic.gradients().items()}


def test_conv_critic_penalty_gradient_matches_finite_differences_and_torch():
    critic = _conv_critic(7)
    x_hat = npgen.asarray(np.random.default_rng(2).normal(size=(3, 1, 8, 8)))
    penalty, analytic = _penalty_and_gradients(critic, x_hat)
    params = critic.parameters()

    def penalty_at(key, value):
        params[key][...] = value
        return _penalty_and_gradients(critic, x_hat)[0]

    for key in ("0.weight", "2.bias", "4.weight"):
        original = npgen.to_numpy(params[key]).copy()
        numeric = npgen.gradcheck.numerical_gradient(lambda v, k=key: penalty_at(k, v),
                                                     params[key])
        params[key][...] = npgen.asarray(original)
        np.testing.assert_allclose(analytic[key], npgen.to_numpy(numeric), rtol=1e-6,
                                   atol=1e-8, err_msg=key)

    if importlib.util.find_spec("torch") is None:
        return  # the finite-difference half above always runs
    torch_penalty, torch_grads = _torch_penalty(critic, npgen.to_numpy(x_hat))
    assert abs(penalty - torch_penalty) <= 1e-9 * max(1.0, abs(torch_penalty))
    for key, expected in torch_grads.items():
        np.testing.assert_allclose(analytic[key], expected, rtol=1e-9, atol=1e-12, err_msg=key)


def _torch_penalty(critic, x_hat):
    """The same critic in torch, float64; dP/dtheta through create_graph=True."""
    import torch

    state = critic.state_dict()
    layers = torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 4, 2, 1), torch.nn.LeakyReLU(0.2), torch.nn.Conv2d(3, 4, 3, 2, 1),
        torch.nn.LeakyReLU(0.2), torch.nn.Conv2d(4, 1, 2, 1, 0), torch.nn.Flatten()).double()
    layers.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    x = torch.from_numpy(x_hat).requires_grad_(True)
    (g,) = torch.autograd.grad(layers(x).sum(), x, create_graph=True)
    penalty = 10.0 * ((g.flatten(1).norm(dim=1) - 1.0) ** 2).mean()
    penalty.backward()
    # a parameter the penalty does not reach (the last bias) has grad None: zero
    return float(penalty), {k: np.zeros(tuple(p.shape)) if p.grad is None else p.grad.numpy()
                            for k, p in layers.named_parameters()}


# ----------------------------------------------------------------------------
# npgen.verify.verify_double_backward: other people's second order
# ----------------------------------------------------------------------------


def _their_dense_double_backward(ddx, dy, x, w, b):
    """A hand-written NumPy dense second order, as someone's gradient-penalty code has it."""
    return ddx @ w.T, None, dy.T @ ddx, None


def test_verify_double_backward_passes_correct_code_and_catches_a_bug():
    from npgen.verify import VerifyError, verify_double_backward

    report = verify_double_backward("dense", _their_dense_double_backward, max_examples=10)
    assert report.ok and report.examples == 10

    def first_order_weight(ddx, dy, x, w, b):  # dW = dy^T x: the FIRST-order weight gradient
        return ddx @ w.T, None, dy.T @ x, None

    with pytest.raises(VerifyError, match=r"dweight .*FAILED"):
        verify_double_backward("dense", first_order_weight, max_examples=10)

    def sigmoid_without_curvature(ddx, dy, x):  # forgets that sigma' depends on x
        s = 1.0 / (1.0 + np.exp(-x))
        return ddx * s * (1 - s), None

    with pytest.raises(VerifyError, match="d_x"):
        verify_double_backward("sigmoid", sigmoid_without_curvature, max_examples=10)
    with pytest.raises(ValueError, match=r"verify_double_backward: unknown op 'batchnorm'"):
        verify_double_backward("batchnorm", _their_dense_double_backward)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_verify_double_backward_accepts_torch_create_graph():
    import torch
    import torch.nn.functional as F

    from npgen.verify import verify_double_backward

    def conv_double_backward(ddx, dy, x, w, b, stride, padding, dilation):
        x, w, dy = (t.requires_grad_() for t in (x, w, dy))
        (dx,) = torch.autograd.grad(F.conv2d(x, w, b, stride, padding, dilation), x, dy,
                                    create_graph=True)
        return torch.autograd.grad((dx * ddx).sum(), (dy, x, w), allow_unused=True) + (None,)

    assert verify_double_backward("conv2d", conv_double_backward, array_library="torch",
                                  max_examples=10).ok


def test_a_new_forward_forgets_the_old_upstream_gradient(backend):
    layer = nn.Tanh()
    x = npgen.asarray(np.ones((2, 2)))
    layer(x)
    layer.backward(x)
    layer(x)  # a new forward, no backward yet: double_backward would mix two passes
    with pytest.raises(RuntimeError, match=r"Tanh.double_backward called before backward"):
        layer.double_backward(x)
