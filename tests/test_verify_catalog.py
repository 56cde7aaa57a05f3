"""A catalog of planted bugs (each must be caught) and correct implementations (each must pass).

Every entry is an implementation of the kind people write (NumPy, CS231n-style
pairs, torch ``autograd.Function``s and optimizers, JAX ``custom_vjp``s), run
through the public ``npgen.verify`` API. Run this file as a script for the
counts: ``python tests/test_verify_catalog.py`` prints caught / planted bugs and
false alarms / correct implementations (the JAX entries run only there: their
property is tested, with less JAX start-up time, in tests/test_interop_jax.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from npgen.testing.reference import conv2d_reference, conv_transpose2d_reference
from npgen.verify import adapters
from npgen.verify import api as verify

FEW = 8


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


# NumPy implementations -----------------------------------------------------------------------


def bce(l, t):
    return np.mean(np.logaddexp(0.0, l) - t * l)


def bce_vjp(dloss, l, t):
    return dloss * (_sigmoid(l) - t) / l.size


def bce_vjp_ignoring_upstream(dloss, l, t):
    return (_sigmoid(l) - t) / l.size


def dense(x, w, b):
    return x @ w.T + (0.0 if b is None else b)


def dense_vjp(dy, x, w, b):
    return dy @ w, dy.T @ x, None if b is None else dy.sum(axis=0)


def dense_transposed_output(x, w, b):  # forward of the wrong shape: (out, N)
    return (x @ w.T + (0.0 if b is None else b)).T


def reparameterize(mu, logvar, eps):
    return mu + np.exp(0.5 * logvar) * eps


def reparameterize_vjp(dz, mu, logvar, eps):
    return dz, dz * eps * 0.5 * np.exp(0.5 * logvar)


def reparameterize_std_exp(mu, logvar, eps):  # std = exp(logvar): consistent but wrong
    return mu + np.exp(logvar) * eps


def reparameterize_std_exp_vjp(dz, mu, logvar, eps):
    return dz, dz * eps * np.exp(logvar)


def kl_mean_over_latents(mu, lv):  # averaged over latents as well: consistent but wrong
    return 0.5 * np.mean(mu**2 + np.exp(lv) - 1 - lv)


def kl_mean_over_latents_vjp(dloss, mu, lv):
    return dloss * mu / mu.size, dloss * 0.5 * np.expm1(lv) / mu.size


def mse(p, t):
    return np.mean((p - t) ** 2)


def mse_vjp(dloss, p, t, factor=2.0):
    return dloss * factor * (p - t) / p.size


def gan_d(real_label):
    def forward(r, f):
        return np.mean(np.logaddexp(0, r) - real_label * r) + np.mean(np.logaddexp(0, f))

    def backward(dloss, r, f):
        return dloss * (_sigmoid(r) - real_label) / r.size, dloss * _sigmoid(f) / f.size

    return forward, backward


def gan_d_smoothing_both_terms(r, f):  # label smoothing applied to the fake term too
    return (np.mean(np.logaddexp(0, r) - 0.9 * r)
            + np.mean(np.logaddexp(0, f) - 0.1 * f))


def bn_eval(x, w, b, rm, rv, eps, batch_stats=False):
    axes, shape = (0, *range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)
    mean, var = (x.mean(axis=axes), x.var(axis=axes)) if batch_stats else (rm, rv)
    return w.reshape(shape) * (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) \
        + b.reshape(shape)


def dropout(x, keep, p, scale=None):
    return x * keep / (1 - p if scale is None else scale) if p < 1 else x * 0.0


def dropout_vjp(dy, x, keep, p):
    return dy * keep / (1 - p) if p < 1 else dy * 0.0


def flatten(x, start, end):
    end = end % x.ndim
    return x.reshape(*x.shape[:start], -1, *x.shape[end + 1:])


def flatten_exclusive_end(x, start, end):  # end_dim treated as exclusive
    end = end % x.ndim
    return x.reshape(*x.shape[:start], -1, *x.shape[end:])


def clip(grads, max_norm, separately=False):
    norms = [np.linalg.norm(g) for g in grads]
    total = math.sqrt(sum(n * n for n in norms))
    if separately:
        return total, [g * min(1.0, max_norm / (n + 1e-6)) for g, n in zip(grads, norms)]
    return total, [g * min(1.0, max_norm / (total + 1e-6)) for g in grads]


def sgd_step(param, grad, buf, lr, momentum, dampening, nesterov, weight_decay,
             dampen_first=False):
    grad = grad + weight_decay * param
    if momentum:
        first = (1 - dampening) * grad if dampen_first else grad
        buf = first.copy() if buf is None else momentum * buf + (1 - dampening) * grad
        grad = grad + momentum * buf if nesterov else buf
    return param - lr * grad, (buf if momentum else None)


def adam_amsgrad_step(param, grad, m, v, vmax, step, lr, betas, eps, weight_decay,
                      keep_max=True):
    grad = grad + weight_decay * param
    m = betas[0] * m + (1 - betas[0]) * grad
    v = betas[1] * v + (1 - betas[1]) * grad**2
    vmax = np.maximum(vmax, v) if keep_max else v
    denom = np.sqrt(vmax) / math.sqrt(1 - betas[1] ** step) + eps
    return param - lr / (1 - betas[0] ** step) * m / denom, m, v, vmax


class NumpyAdam:
    """An npgen-like stateful Adam(W); ``store_corrected`` keeps m_hat as the state (the bug)."""

    def __init__(self, params, lr, betas, eps, weight_decay, amsgrad, decoupled=False,
                 store_corrected=False):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.wd, self.amsgrad, self.decoupled = weight_decay, amsgrad, decoupled
        self.store_corrected, self.t, self.state = store_corrected, 0, {}

    def step(self, grads):
        self.t += 1
        (b1, b2), t = self.betas, self.t
        for k, p in self.params.items():
            m, v, vmax = self.state.get(k, (0.0 * p, 0.0 * p, 0.0 * p))
            g = grads[k] if self.decoupled else grads[k] + self.wd * p
            p *= (1 - self.lr * self.wd) if self.decoupled else 1.0
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            vmax = np.maximum(vmax, v) if self.amsgrad else v
            m_hat = m / (1 - b1**t)
            p -= self.lr * m_hat / (np.sqrt(vmax / (1 - b2**t)) + self.eps)
            self.state[k] = (m_hat if self.store_corrected else m, v, vmax)


def cs231n_conv_forward(x, w, b, conv_param):
    """A CS231n-style conv (stride and pad only, no dilation), loops over the output."""
    s, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    (n, _, h, wd), (f, _, hh, ww) = xp.shape, w.shape
    out = np.zeros((n, f, 1 + (h - hh) // s, 1 + (wd - ww) // s))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = xp[:, :, i * s:i * s + hh, j * s:j * s + ww]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def cs231n_conv_backward(dout, cache):
    x, w, b, conv_param = cache
    s, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    hh, ww = w.shape[2:]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = xp[:, :, i * s:i * s + hh, j * s:j * s + ww]
            dw += np.tensordot(dout[:, :, i, j], window, axes=([0], [0]))
            dxp[:, :, i * s:i * s + hh, j * s:j * s + ww] += np.tensordot(
                dout[:, :, i, j], w, axes=([1], [0]))
    h, wd = x.shape[2:]
    return dxp[:, :, pad:pad + h, pad:pad + wd], dw, dout.sum(axis=(0, 2, 3))


def cs231n_affine_forward(x, w, b):  # w stored (in, out)
    return x @ w + b, (x, w, b)


def cs231n_affine_backward(dout, cache, transpose_bug=False):
    x, w, _ = cache
    dw = x.T @ dout
    return dout @ w.T, (dw.T if transpose_bug else dw), dout.sum(axis=0)


def cs231n_adam(w, dw, config):
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    b1, b2 = config["beta1"], config["beta2"]
    config["t"] += 1
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw**2
    m_hat = config["m"] / (1 - b1 ** config["t"])
    v_hat = config["v"] / (1 - b2 ** config["t"])
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


def conv_ceil_mode(x, w, b, stride, padding, dilation):
    """Output size rounded up (ceil mode): the last partial window is padded and kept."""
    extra = [(-(size + 2 * p - d * (k - 1) - 1)) % s for size, k, s, p, d in zip(
        x.shape[2:], w.shape[2:], stride, padding, dilation)]
    x = np.pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    return conv2d_reference(x, w, b, stride, padding, dilation)


def conv_transpose_output_padding_top_left(x, w, b, stride, padding, output_padding, dilation):
    """The output_padding rows and columns added at the top-left instead of the bottom-right."""
    y = conv_transpose2d_reference(x, w, None, stride, padding, (0, 0), dilation)
    (oh, ow) = output_padding
    y = np.pad(y, ((0, 0), (0, 0), (oh, 0), (ow, 0)))
    return y + (0.0 if b is None else b[:, None, None])


def cs231n_relu_forward(x):
    return np.maximum(x, 0), x


def cs231n_relu_backward(dout, cache):
    return dout * (cache > 0)


def cs231n_batchnorm_forward(x, gamma, beta, bn_param):
    mu, var = x.mean(axis=0), x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + bn_param["eps"])
    return gamma * xhat + beta, (xhat, gamma, var, bn_param["eps"])


def cs231n_batchnorm_backward(dout, cache):
    xhat, gamma, var, eps = cache
    n = len(xhat)
    dgamma, dbeta = (dout * xhat).sum(axis=0), dout.sum(axis=0)
    dx = gamma / np.sqrt(var + eps) / n * (n * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def cs231n_sgd_momentum(w, dw, config):
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def dense_in_out(x, w, b):  # plain form, w (in, out)
    return x @ w + (0.0 if b is None else b)


def dense_in_out_vjp(dy, x, w, b):
    return dy @ w.T, x.T @ dy, None if b is None else dy.sum(axis=0)


# The catalog: (name, planted bug?, run) where run() returns a VerifyReport -------------------


def _numpy_entries():
    o = dict(max_examples=FEW, raise_exception=False)
    d_ok, d_ok_vjp = gan_d(0.9)
    return [
        ("bce vjp (numpy)", False, lambda: verify.verify_bce_with_logits(bce, bce_vjp, **o)),
        ("bce ignoring dloss (numpy)", True,
         lambda: verify.verify_bce_with_logits(bce, bce_vjp_ignoring_upstream, **o)),
        ("dense", False, lambda: verify.verify_dense(dense, dense_vjp, **o)),
        ("dense forward of the wrong shape", True,
         lambda: verify.verify_dense(dense_transposed_output, dense_vjp, **o)),
        ("reparameterize", False,
         lambda: verify.verify_reparameterize(reparameterize, reparameterize_vjp, **o)),
        ("reparameterize std = exp(logvar)", True, lambda: verify.verify_reparameterize(
            reparameterize_std_exp, reparameterize_std_exp_vjp, **o)),
        ("kl averaged over latents", True, lambda: verify.verify_gaussian_kl(
            kl_mean_over_latents, kl_mean_over_latents_vjp, **o)),
        ("mse", False, lambda: verify.verify_mse(mse, mse_vjp, **o)),
        ("mse backward without the 2", True, lambda: verify.verify_mse(
            mse, lambda dl, p, t: mse_vjp(dl, p, t, factor=1.0), **o)),
        ("gan d label smoothing 0.9", False, lambda: verify.verify_gan_discriminator_loss(
            d_ok, d_ok_vjp, real_label=0.9, **o)),
        ("gan d smoothing the fake term too", True,
         lambda: verify.verify_gan_discriminator_loss(gan_d_smoothing_both_terms,
                                                      real_label=0.9, **o)),
        ("batchnorm eval", False, lambda: verify.verify_batchnorm_eval(bn_eval, **o)),
        ("batchnorm eval with batch statistics", True, lambda: verify.verify_batchnorm_eval(
            lambda *a: bn_eval(*a, batch_stats=True), **o)),
        ("dropout", False, lambda: verify.verify_dropout(dropout, dropout_vjp, **o)),
        ("dropout scaled by 1/p", True, lambda: verify.verify_dropout(
            lambda x, k, p: dropout(x, k, p, scale=p if p > 0 else 1.0), **o)),
        ("flatten", False, lambda: verify.verify_flatten(flatten, **o)),
        ("flatten with an exclusive end_dim", True,
         lambda: verify.verify_flatten(flatten_exclusive_end, **o)),
        ("wasserstein critic", False, lambda: verify.verify_wasserstein_critic_loss(
            lambda r, f: np.mean(f) - np.mean(r),
            lambda dl, r, f: (-dl * np.ones_like(r) / r.size, dl * np.ones_like(f) / f.size),
            **o)),
        ("wasserstein critic with the sign flipped", True,
         lambda: verify.verify_wasserstein_critic_loss(lambda r, f: np.mean(r) - np.mean(f),
                                                       **o)),
        ("clip_grad_norm", False, lambda: verify.verify_clip_grad_norm(clip, **o)),
        ("clip_grad_norm per array", True, lambda: verify.verify_clip_grad_norm(
            lambda g, m: clip(g, m, separately=True), **o)),
        ("sgd step", False, lambda: verify.verify_sgd_step(sgd_step, **o)),
        ("sgd step dampening the first buffer", True, lambda: verify.verify_sgd_step(
            lambda *a: sgd_step(*a, dampen_first=True), **o)),
        ("adam amsgrad step", False, lambda: verify.verify_adam_step(
            adam_amsgrad_step, amsgrad=True, **o)),
        ("adam amsgrad without the running max", True, lambda: verify.verify_adam_step(
            lambda *a: adam_amsgrad_step(*a, keep_max=False), amsgrad=True, **o)),
        ("adam, 4 steps, state inside", False, lambda: verify.verify_optimizer_steps(
            "adam", **adapters.optimizer_class(NumpyAdam), **o)),
        ("adamw, 4 steps, state inside", False, lambda: verify.verify_optimizer_steps(
            "adamw", **adapters.optimizer_class(
                lambda p, **h: NumpyAdam(p, decoupled=True, **h)), **o)),
        ("adam storing m_hat (wrong from step 2)", True, lambda: verify.verify_optimizer_steps(
            "adam", **adapters.optimizer_class(
                lambda p, **h: NumpyAdam(p, store_corrected=True, **h)), **o)),
        ("conv2d in ceil mode", True, lambda: verify.verify_conv2d(conv_ceil_mode, **o)),
        ("conv_transpose2d output_padding at the top-left", True,
         lambda: verify.verify_conv_transpose2d(conv_transpose_output_padding_top_left, **o)),
        ("conv2d loop twin", False, lambda: verify.verify_conv2d(conv2d_reference, **o)),
        ("cs231n conv (no dilation, declared)", False, lambda: verify.verify_conv2d(
            **adapters.cs231n_conv(cs231n_conv_forward, cs231n_conv_backward), **o)),
        ("cs231n affine, w (in, out)", False, lambda: verify.verify_dense(
            **adapters.cs231n_affine(cs231n_affine_forward, cs231n_affine_backward), **o)),
        ("cs231n affine returning dw transposed", True, lambda: verify.verify_dense(
            **adapters.cs231n_affine(cs231n_affine_forward, lambda d, c: cs231n_affine_backward(
                d, c, transpose_bug=True)), **o)),
        ("cs231n relu pair", False, lambda: verify.verify_activation(
            "relu", **adapters.cached_pair(cs231n_relu_forward, cs231n_relu_backward), **o)),
        ("cs231n batchnorm pair", False, lambda: verify.verify_batchnorm_train(
            **adapters.cs231n_batchnorm(cs231n_batchnorm_forward, cs231n_batchnorm_backward),
            **o)),
        ("cs231n sgd_momentum, k steps", False, lambda: verify.verify_optimizer_steps(
            "sgd", **adapters.cs231n_sgd_momentum(cs231n_sgd_momentum), **o)),
        ("dense with w (in, out)", False, lambda: verify.verify_dense(
            **adapters.weights_in_out(dense_in_out, dense_in_out_vjp), **o)),
        ("dense with w (in, out), unadapted", True, lambda: verify.verify_dense(
            dense_in_out, dense_in_out_vjp, **o)),
        ("cs231n adam, 4 steps", False, lambda: verify.verify_optimizer_steps(
            "adam", **adapters.cs231n_adam(cs231n_adam), **o)),
    ]


def _torch_entries():
    torch = pytest.importorskip("torch")
    from npgen.interop.torch import torch_optimizer, torch_vjp

    class BCE(torch.autograd.Function):
        ignore_upstream = False

        @staticmethod
        def forward(ctx, l, t):
            ctx.save_for_backward(l, t)
            return torch.nn.functional.softplus(l).sub(t * l).mean()

        @staticmethod
        def backward(ctx, grad_output):
            l, t = ctx.saved_tensors
            g = (torch.sigmoid(l) - t) / l.numel()
            return (g if BCE.ignore_upstream else grad_output * g), None

    class IgnoringBCE(BCE):
        @staticmethod
        def backward(ctx, grad_output):
            l, t = ctx.saved_tensors
            return (torch.sigmoid(l) - t) / l.numel(), None

    F = torch.nn.functional

    def bn_eval(x, w, b, rm, rv, eps):
        return F.batch_norm(x, rm, rv, w, b, training=False, eps=eps)

    def reparameterize_torch(mu, lv, eps):
        return mu + torch.exp(0.5 * lv) * eps

    def clip_torch(grads, max_norm):
        params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        return torch.nn.utils.clip_grad_norm_(params, max_norm), [p.grad for p in params]

    def sgd_torch(param, grad, buf, lr, momentum, dampening, nesterov, weight_decay):
        p = torch.nn.Parameter(param.clone())
        opt = torch.optim.SGD([p], lr=lr, momentum=momentum, dampening=dampening,
                              nesterov=nesterov, weight_decay=weight_decay)
        if buf is not None:
            opt.state[p] = {"momentum_buffer": buf.clone()}
        p.grad = grad.clone()
        opt.step()
        return p.detach(), opt.state[p].get("momentum_buffer")

    def adam_amsgrad_torch(param, grad, m, v, v_max, step, lr, betas, eps, weight_decay):
        p = torch.nn.Parameter(param.clone())
        opt = torch.optim.Adam([p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                               amsgrad=True)
        opt.state[p] = {"step": torch.tensor(float(step - 1)), "exp_avg": m.clone(),
                        "exp_avg_sq": v.clone(), "max_exp_avg_sq": v_max.clone()}
        p.grad = grad.clone()
        opt.step()
        state = opt.state[p]
        return p.detach(), state["exp_avg"], state["exp_avg_sq"], state["max_exp_avg_sq"]

    def smoothed_d(r, f):
        return (F.binary_cross_entropy_with_logits(r, torch.full_like(r, 0.9))
                + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))

    o = dict(max_examples=FEW, raise_exception=False, array_library="torch")
    return [
        ("torch batch_norm eval", False, lambda: verify.verify_batchnorm_eval(
            bn_eval, torch_vjp(bn_eval, 3), **o)),
        ("torch flatten", False, lambda: verify.verify_flatten(
            torch.flatten, torch_vjp(torch.flatten, 1), **o)),
        ("torch unflatten", False, lambda: verify.verify_unflatten(
            torch.unflatten, torch_vjp(torch.unflatten, 1), **o)),
        ("torch reparameterize", False, lambda: verify.verify_reparameterize(
            reparameterize_torch, torch_vjp(reparameterize_torch, 2), **o)),
        ("torch clip_grad_norm_", False, lambda: verify.verify_clip_grad_norm(clip_torch, **o)),
        ("torch.optim.SGD one step", False, lambda: verify.verify_sgd_step(sgd_torch, **o)),
        ("torch.optim.Adam amsgrad one step", False, lambda: verify.verify_adam_step(
            adam_amsgrad_torch, amsgrad=True, **o)),
        ("torch.optim.AdamW, k steps", False, lambda: verify.verify_optimizer_steps(
            "adamw", torch_optimizer(torch.optim.AdamW), **o)),
        ("torch label-smoothed D loss", False, lambda: verify.verify_gan_discriminator_loss(
            smoothed_d, torch_vjp(smoothed_d, 2, loss=True), real_label=0.9, **o)),
        ("bce autograd.Function", False, lambda: verify.verify_bce_with_logits(
            BCE.apply, torch_vjp(BCE.apply, 1, loss=True), **o)),
        ("bce autograd.Function ignoring grad_output", True,
         lambda: verify.verify_bce_with_logits(
             IgnoringBCE.apply, torch_vjp(IgnoringBCE.apply, 1, loss=True), **o)),
        ("torch.optim.SGD, k steps", False, lambda: verify.verify_optimizer_steps(
            "sgd", torch_optimizer(torch.optim.SGD), **o)),
        ("torch.optim.Adam, k steps", False, lambda: verify.verify_optimizer_steps(
            "adam", torch_optimizer(torch.optim.Adam), **o)),
        ("torch mse_loss", False, lambda: verify.verify_mse(
            torch.nn.functional.mse_loss, torch_vjp(torch.nn.functional.mse_loss, 1, loss=True),
            **o)),
    ]


def _jax_entries():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    from npgen.interop.jax import jax_vjp

    def make_bce(ignore):
        @jax.custom_vjp
        def loss(l, t):
            return jnp.mean(jnp.logaddexp(0.0, l) - t * l)

        def fwd(l, t):
            return loss(l, t), (l, t)

        def bwd(res, g):
            l, t = res
            grad = (jax.nn.sigmoid(l) - t) / l.size
            return (grad if ignore else g * grad), None

        loss.defvjp(fwd, bwd)
        return loss

    o = dict(max_examples=4, raise_exception=False, array_library="jax")
    good, bad = make_bce(False), make_bce(True)
    return [
        ("bce custom_vjp", False, lambda: verify.verify_bce_with_logits(
            good, jax_vjp(good, 1, loss=True), **o)),
        ("bce custom_vjp ignoring the cotangent", True, lambda: verify.verify_bce_with_logits(
            bad, jax_vjp(bad, 1, loss=True), **o)),
    ]


NUMPY = _numpy_entries()


@pytest.mark.parametrize("name, planted, run", NUMPY, ids=[e[0] for e in NUMPY])
def test_numpy_catalog(name, planted, run):
    report = run()
    assert report.ok != planted, str(report)


def test_torch_catalog():
    for name, planted, run in _torch_entries():
        report = run()
        assert report.ok != planted, f"{name}: {report}"


def count(entries) -> tuple:
    """(caught, planted, false alarms, correct) over ``entries``."""
    results = [(planted, run().ok) for _, planted, run in entries]
    caught = sum(planted and not ok for planted, ok in results)
    alarms = sum(not planted and not ok for planted, ok in results)
    planted = sum(p for p, _ in results)
    return caught, planted, alarms, len(results) - planted


if __name__ == "__main__":
    entries = NUMPY + _torch_entries() + _jax_entries()
    caught, planted, alarms, correct = count(entries)
    print(f"planted bugs caught: {caught} / {planted}; false alarms: {alarms} / {correct} "
          "correct implementations")
