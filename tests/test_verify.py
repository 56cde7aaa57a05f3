"""npgen.verify: correct implementations pass, deliberately wrong ones are caught on small cases.

The correct implementations are independent of npgen's fast ops: the slow loop
twins of npgen.testing.reference, closed forms written here in NumPy, and
torch.nn.functional in float64 where torch is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import npgen
from npgen.testing.reference import (
    batchnorm_reference,
    conv2d_reference,
    conv_transpose2d_reference,
)
from npgen.verify import VerifyError, as_numpy
from npgen.verify import api as verify

FEW = 8  # configurations per passing run (failures shrink on top of that)


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


# ----------------------------------------------------------------------------------------------
# Correct implementations pass
# ----------------------------------------------------------------------------------------------


def test_slow_conv_twins_pass():
    report = verify.verify_conv2d(conv2d_reference, max_examples=FEW)
    assert report.ok and report.examples == FEW
    assert "passed on 8 configurations" in str(report)
    report = verify.verify_conv_transpose2d(conv_transpose2d_reference, max_examples=FEW)
    assert report.ok


def test_numpy_dense_passes_with_backward():
    def forward(x, w, b):
        return x @ w.T + (0.0 if b is None else b)

    def backward(dy, x, w, b):
        return dy @ w, dy.T @ x, None if b is None else dy.sum(axis=0)

    assert verify.verify_dense(forward, backward, max_examples=FEW).ok


def _bn_backward(dy, x, w, b, eps, unbiased=False):
    """Batch-norm VJP written out per channel; ``unbiased`` injects the classic bug."""
    axes = (0, *range(2, x.ndim))
    m = x.size // x.shape[1]
    shape = (1, -1) + (1,) * (x.ndim - 2)
    var = x.var(axis=axes) * (m / (m - 1) if unbiased else 1.0)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - x.mean(axis=axes).reshape(shape)) * inv_std.reshape(shape)
    dweight, dbias = (dy * xhat).sum(axis=axes), dy.sum(axis=axes)
    dx = (w * inv_std / m).reshape(shape) * (
        m * dy - dbias.reshape(shape) - xhat * dweight.reshape(shape))
    return dx, dweight, dbias


def test_batchnorm_twin_with_closed_form_backward_passes():
    def forward(x, w, b, eps):
        return batchnorm_reference(x, w, b, eps)[0]

    assert verify.verify_batchnorm_train(forward, _bn_backward, max_examples=FEW).ok


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "sigmoid", "tanh"])
def test_numpy_activations_pass(name):
    slope = 0.2
    forward, backward = {
        "relu": (lambda x: np.maximum(x, 0), lambda dy, x: dy * (x > 0)),
        "leaky_relu": (lambda x: np.where(x > 0, x, slope * x),
                       lambda dy, x: dy * np.where(x > 0, 1.0, slope)),
        "sigmoid": (_sigmoid, lambda dy, x: dy * _sigmoid(x) * _sigmoid(-x)),
        "tanh": (np.tanh, lambda dy, x: dy * (1 - np.tanh(x) ** 2)),
    }[name]
    report = verify.verify_activation(name, forward, backward, negative_slope=slope,
                                      max_examples=FEW)
    assert report.ok and report.family == name


def test_numpy_losses_pass():
    def bce(l, t):
        return np.mean(np.logaddexp(0.0, l) - t * l)

    assert verify.verify_bce_with_logits(
        bce, lambda l, t: (_sigmoid(l) - t) / l.size, max_examples=FEW).ok
    assert verify.verify_gaussian_kl(
        lambda mu, lv: 0.5 * np.sum(mu**2 + np.exp(lv) - 1 - lv) / len(mu),
        lambda mu, lv: (mu / len(mu), 0.5 * np.expm1(lv) / len(mu)), max_examples=FEW).ok
    assert verify.verify_gan_discriminator_loss(
        lambda r, f: np.mean(np.logaddexp(0, -r)) + np.mean(np.logaddexp(0, f)),
        lambda r, f: (-_sigmoid(-r) / r.size, _sigmoid(f) / f.size), max_examples=FEW).ok
    assert verify.verify_gan_generator_loss(
        lambda f: -np.mean(np.logaddexp(0, f)), lambda f: -_sigmoid(f) / f.size,
        saturating=True, max_examples=FEW).ok


def _elbo(x, out, mu, lv, likelihood, beta, sigma):
    """Closed-form negative ELBO and its direct gradients, written independently of npgen."""
    n = len(x)
    if likelihood == "bernoulli":
        nll, d_out = np.logaddexp(0, out) - x * out, _sigmoid(out) - x
    else:
        nll = (x - out) ** 2 / (2 * sigma**2) + 0.5 * math.log(2 * math.pi * sigma**2)
        d_out = (out - x) / sigma**2
    kl = 0.5 * np.sum(mu**2 + np.exp(lv) - 1 - lv)
    return (np.sum(nll) + beta * kl) / n, (d_out / n, beta * mu / n, beta * np.expm1(lv) / (2 * n))


def test_closed_form_elbo_passes():
    report = verify.verify_negative_elbo(lambda *a: _elbo(*a)[0], lambda *a: _elbo(*a)[1],
                                         max_examples=FEW)
    assert report.ok


def _adam(param, grad, m, v, step, lr, betas, eps, weight_decay, bias_correction=True):
    """torch.optim.Adam's update, written out (``bias_correction=False`` is the bug)."""
    grad = grad + weight_decay * param
    m = betas[0] * m + (1 - betas[0]) * grad
    v = betas[1] * v + (1 - betas[1]) * grad**2
    c1, c2 = (1 - betas[0] ** step, 1 - betas[1] ** step) if bias_correction else (1.0, 1.0)
    return param - lr * (m / c1) / (np.sqrt(v / c2) + eps), m, v


def test_written_out_adam_passes():
    assert verify.verify_adam_step(_adam, max_examples=FEW).ok


def _adamw(param, grad, m, v, step, lr, betas, eps, weight_decay):
    """torch.optim.AdamW's update: decay the parameter, then the plain Adam step."""
    return _adam(param * (1 - lr * weight_decay), grad, m, v, step, lr, betas, eps, 0.0)


def test_written_out_adamw_passes():
    assert verify.verify_adamw_step(_adamw, max_examples=FEW).ok


def test_adamw_with_l2_decay_is_caught_and_shrunk():
    """The classic AdamW mistake: weight decay added to the gradient (that is Adam's L2)."""
    report = verify.verify_adamw_step(_adam, max_examples=12, raise_exception=False)
    assert not report.ok and report.failure.name == "new_param"
    assert report.config["weight_decay"] > 0 and report.config["shape"] == (1,)


# ----------------------------------------------------------------------------------------------
# Deliberately wrong implementations are caught, on a shrunk configuration
# ----------------------------------------------------------------------------------------------


def test_padding_on_one_side_only_is_caught_and_shrunk():
    def one_sided(x, w, b, stride, padding, dilation):
        (ph, pw) = padding  # all the padding goes to the top and the left
        x = np.pad(x, ((0, 0), (0, 0), (2 * ph, 0), (2 * pw, 0)))
        return conv2d_reference(x, w, b, stride, 0, dilation)

    with pytest.raises(VerifyError) as info:
        verify.verify_conv2d(one_sided, max_examples=12)
    report = info.value.report
    assert not report.ok and report.failure.name == "y"
    config = report.config
    assert config["padding"] != (0, 0)
    assert (config["batch"], config["in_channels"], config["out_channels"]) == (1, 1, 1)
    assert config["kernel_size"] == (1, 1) and config["stride"] == (1, 1)
    failure = report.failure
    assert failure.index is not None and len(failure.index) == 4
    assert abs(failure.theirs - failure.reference) > failure.tolerance > 0
    message = str(info.value)
    assert "minimal failing configuration" in message and "padding=" in message


def test_ignored_output_padding_is_caught_and_shrunk():
    def no_output_padding(x, w, b, stride, padding, output_padding, dilation):
        return conv_transpose2d_reference(x, w, b, stride, padding, 0, dilation)

    report = verify.verify_conv_transpose2d(no_output_padding, max_examples=12,
                                            raise_exception=False)
    assert not report.ok
    config = report.config
    assert config["output_padding"] != (0, 0)
    assert (config["batch"], config["in_channels"], config["out_channels"]) == (1, 1, 1)
    assert "shape" in report.failure.problem


def test_unbiased_variance_in_batchnorm_backward_is_caught_and_shrunk():
    def forward(x, w, b, eps):
        return batchnorm_reference(x, w, b, eps)[0]

    def backward(dy, x, w, b, eps):
        return _bn_backward(dy, x, w, b, eps, unbiased=True)

    report = verify.verify_batchnorm_train(forward, backward, max_examples=12,
                                           raise_exception=False)
    assert not report.ok and report.failure.name in ("dx", "dweight")
    config = report.config
    assert config["channels"] == 1
    assert config["batch"] * math.prod(config["spatial"]) <= 3  # M values per channel


def test_adam_without_bias_correction_is_caught_and_shrunk():
    def no_correction(*args):
        return _adam(*args, bias_correction=False)

    report = verify.verify_adam_step(no_correction, max_examples=12, raise_exception=False)
    assert not report.ok and report.failure.name == "new_param"
    assert report.config["step"] == 1 and report.config["shape"] == (1,)


def test_naive_bce_fails_on_extreme_logits():
    def naive(l, t):
        with np.errstate(all="ignore"):
            s = 1 / (1 + np.exp(-l))
            return -np.mean(t * np.log(s) + (1 - t) * np.log(1 - s))

    report = verify.verify_bce_with_logits(naive, max_examples=12, raise_exception=False)
    assert not report.ok and report.config["scale"] >= 30.0


def test_same_seed_same_search():
    def one_sided_bias(x, w, b):
        return x @ w.T + 1e-3

    runs = [verify.verify_dense(one_sided_bias, max_examples=10, seed=3, raise_exception=False)
            for _ in range(2)]
    assert runs[0].config == runs[1].config and runs[0].examples == runs[1].examples
    assert runs[0].config["batch"] == 1 and runs[0].config["out_features"] == 1


# ----------------------------------------------------------------------------------------------
# The boundary: errors, exceptions in their code, other array libraries
# ----------------------------------------------------------------------------------------------


def test_their_exception_is_reported_with_the_configuration():
    def crashes_with_bias(x, w, b):
        if b is not None:
            raise RuntimeError("bias not implemented")
        return x @ w.T

    report = verify.verify_dense(crashes_with_bias, max_examples=10, raise_exception=False)
    assert report.config["bias"] is True and report.config["batch"] == 1
    assert "RuntimeError: bias not implemented" in report.failure.problem


def test_wrong_number_of_gradients_is_reported():
    report = verify.verify_dense(lambda x, w, b: x @ w.T + (0 if b is None else b),
                                 lambda dy, x, w, b: (dy @ w, dy.T @ x), max_examples=5,
                                 raise_exception=False)
    assert "tuple of 3" in report.failure.problem


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        verify.verify_activation("gelu", np.tanh)
    with pytest.raises(ValueError, match="not both"):
        verify.verify_conv2d(conv2d_reference, array_library="numpy", to_theirs=np.asarray)
    with pytest.raises(ValueError, match="both rtol and atol"):
        verify.verify_conv2d(conv2d_reference, rtol=1e-3)
    with pytest.raises(TypeError, match="forward must be callable"):
        verify.verify_dense(None)
    with pytest.raises(ValueError, match="max_examples"):
        verify.verify_dense(lambda *a: 0, max_examples=0)


class _OnlyArrayProtocol:
    """Stands in for a library npgen does not know (e.g. JAX): only ``__array__``."""

    def __init__(self, values):
        self._values = np.asarray(values)

    def __array__(self, dtype=None, copy=None):
        return self._values if dtype is None else self._values.astype(dtype)


def test_as_numpy_accepts_other_libraries():
    assert as_numpy(_OnlyArrayProtocol([1.0, 2.0])).tolist() == [1.0, 2.0]
    assert as_numpy(2.5).shape == ()
    with pytest.raises(TypeError, match="real numeric"):
        as_numpy(["a", "b"])


def _host_conv2d_on(backend, scale=1.0):
    """The NumPy loop twin behind ``backend``'s arrays: in from the backend, out onto it.

    Independent of npgen's fast conv (the verify reference); ``scale`` injects an error.
    """
    seen = []

    def forward(x, w, b, stride, padding, dilation):
        seen.append(npgen.backend.backend_of(x).name)
        host = [None if a is None else npgen.to_numpy(a) for a in (x, w, b)]
        y = conv2d_reference(*host, stride, padding, dilation) * scale
        return npgen.asarray(y, backend=backend)

    return forward, seen


def test_backend_arrays_pass_through_the_boundary(backend):
    """An independent conv fed arrays of the backend under test passes; a 1e-3 error does not.

    There is no reference conv backward, so the forward only is verified.
    """
    def to_theirs(a):
        return npgen.asarray(a, backend=backend)

    forward, seen = _host_conv2d_on(backend)
    assert verify.verify_conv2d(forward, max_examples=4, to_theirs=to_theirs).ok
    assert seen and set(seen) == {backend.name}  # it really received this row's arrays

    off, _ = _host_conv2d_on(backend, scale=1 + 1e-3)
    report = verify.verify_conv2d(off, max_examples=4, to_theirs=to_theirs,
                                  raise_exception=False)
    assert not report.ok and report.failure.name == "y"


# ----------------------------------------------------------------------------------------------
# torch.nn.functional in float64 (and float32 with float32 tolerances)
# ----------------------------------------------------------------------------------------------


def test_torch_functional_passes():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    from npgen.interop.torch import torch_vjp

    def conv_t(x, w, b, s, p, op, d):
        return F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op, dilation=d)

    def batch_norm(x, w, b, eps):
        return F.batch_norm(x, None, None, w, b, training=True, eps=eps)

    torch_options = dict(array_library="torch", max_examples=6)
    assert verify.verify_conv2d(F.conv2d, torch_vjp(F.conv2d, 3), **torch_options).ok
    assert verify.verify_conv_transpose2d(conv_t, torch_vjp(conv_t, 3), **torch_options).ok
    assert verify.verify_batchnorm_train(batch_norm, torch_vjp(batch_norm, 3),
                                         **torch_options).ok
    assert verify.verify_dense(F.linear, torch_vjp(F.linear, 3), **torch_options).ok
    bce = F.binary_cross_entropy_with_logits
    assert verify.verify_bce_with_logits(bce, torch_vjp(bce, 1, loss=True), **torch_options).ok
    float32 = dict(to_theirs=lambda a: torch.tensor(a, dtype=torch.float32), max_examples=6)
    assert verify.verify_conv2d(F.conv2d, torch_vjp(F.conv2d, 3), **float32).ok


def _torch_optimizer_step(optimizer_class):
    """One step of a torch.optim optimizer in verify_adam_step's calling convention."""
    import torch

    def step_function(param, grad, m, v, step, lr, betas, eps, weight_decay):
        p = torch.nn.Parameter(param.clone())
        opt = optimizer_class([p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        opt.state[p] = {"step": torch.tensor(float(step - 1)), "exp_avg": m.clone(),
                        "exp_avg_sq": v.clone()}
        p.grad = grad.clone()
        opt.step()
        state = opt.state[p]
        return p.detach(), state["exp_avg"], state["exp_avg_sq"]

    return step_function


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_torch_adam_and_adamw_steps_pass(name):
    torch = pytest.importorskip("torch")
    verifier = verify.verify_adam_step if name == "Adam" else verify.verify_adamw_step
    step_function = _torch_optimizer_step(getattr(torch.optim, name))
    assert verifier(step_function, array_library="torch", max_examples=FEW).ok
