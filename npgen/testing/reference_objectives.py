"""Slow twins of the losses, the reparameterization and the optimizer steps.

Each is the definition written with plain Python sums over the elements, on
the host in float64 (NumPy arrays only as containers). Values are Python
floats; arrays come back as float64 NumPy arrays. The notation is that of
``docs/objectives/*.md`` and ``docs/optim.md``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "adam_step_reference",
    "bce_with_logits_reference",
    "gan_discriminator_loss_reference",
    "gan_generator_loss_reference",
    "gaussian_kl_reference",
    "gradient_penalty_reference",
    "mse_reference",
    "negative_elbo_reference",
    "r1_penalty_reference",
    "reparameterize_reference",
    "sgd_step_reference",
    "wasserstein_critic_loss_reference",
    "wasserstein_generator_loss_reference",
]


def _values(x) -> list:
    """Every element of x as a Python float, in C order."""
    return [float(v) for v in np.asarray(x, dtype=np.float64).reshape(-1)]


def _softplus(v: float) -> float:
    """log(1 + e^v), written so that no exponential of a positive number is taken."""
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _mean(terms: list) -> float:
    return sum(terms) / len(terms)


def _reduce(terms: list, reduction: str) -> float:
    return sum(terms) if reduction == "sum" else _mean(terms)


# Losses ----------------------------------------------------------------------


def mse_reference(pred, target, reduction: str = "mean") -> float:
    """mean over elements (or sum) of (pred - target)^2."""
    return _reduce([(p - t) ** 2 for p, t in zip(_values(pred), _values(target))], reduction)


def bce_with_logits_reference(logits, target, reduction: str = "mean") -> float:
    """mean (or sum) of -[t log s(l) + (1 - t) log(1 - s(l))] = softplus(l) - t l."""
    terms = [_softplus(l) - t * l for l, t in zip(_values(logits), _values(target))]
    return _reduce(terms, reduction)


def _per_example(x) -> list:
    """Rows of x (N, ...): each example's elements as a list of floats."""
    x = np.asarray(x, dtype=np.float64)
    return [_values(row) for row in x.reshape(x.shape[0], -1)]


def gaussian_kl_reference(mu, logvar) -> float:
    """(1/N) sum_n 1/2 sum_k (mu^2 + e^lv - 1 - lv)."""
    per_example = [0.5 * sum(m * m + math.exp(lv) - 1.0 - lv for m, lv in zip(m_row, lv_row))
                   for m_row, lv_row in zip(_per_example(mu), _per_example(logvar))]
    return _mean(per_example)


def reparameterize_reference(mu, logvar, eps):
    """z = mu + exp(lv / 2) eps, element by element."""
    mu = np.asarray(mu, dtype=np.float64)
    z = [m + math.exp(lv / 2.0) * e for m, lv, e in zip(_values(mu), _values(logvar),
                                                      _values(eps))]
    return np.asarray(z).reshape(mu.shape)


def _nll(x: float, out: float, likelihood: str, sigma: float) -> float:
    """-log p(x | z) for one element: Bernoulli logits or a Gaussian mean."""
    if likelihood == "bernoulli":
        return _softplus(out) - x * out
    return (x - out) ** 2 / (2.0 * sigma**2) + 0.5 * math.log(2.0 * math.pi * sigma**2)


def negative_elbo_reference(x, decoder_out, mu, logvar, likelihood: str = "bernoulli",
                            beta: float = 1.0, sigma: float = 1.0) -> float:
    """(1/N) sum_n [ sum_d -log p(x_nd | z_n) + beta KL_n ], in nats."""
    per_example = []
    for x_row, out_row, m_row, lv_row in zip(_per_example(x), _per_example(decoder_out),
                                             _per_example(mu), _per_example(logvar)):
        nll = sum(_nll(xv, ov, likelihood, sigma) for xv, ov in zip(x_row, out_row))
        kl = 0.5 * sum(m * m + math.exp(lv) - 1.0 - lv for m, lv in zip(m_row, lv_row))
        per_example.append(nll + beta * kl)
    return _mean(per_example)


def gan_discriminator_loss_reference(real_logits, fake_logits, real_label: float = 1.0) -> float:
    """mean over real elements of BCE(r, real_label) + mean over fake elements of BCE(f, 0)."""
    real = [_softplus(r) - real_label * r for r in _values(real_logits)]
    fake = [_softplus(f) for f in _values(fake_logits)]
    return _mean(real) + _mean(fake)


def gan_generator_loss_reference(fake_logits, saturating: bool = False) -> float:
    """Non-saturating mean softplus(-f) = -E log D(G(z)); saturating -mean softplus(f)."""
    if saturating:
        return -_mean([_softplus(f) for f in _values(fake_logits)])
    return _mean([_softplus(-f) for f in _values(fake_logits)])


def wasserstein_critic_loss_reference(real_scores, fake_scores) -> float:
    """mean(C(G(z))) - mean(C(x))."""
    return _mean(_values(fake_scores)) - _mean(_values(real_scores))


def wasserstein_generator_loss_reference(fake_scores) -> float:
    """-mean(C(G(z)))."""
    return -_mean(_values(fake_scores))


def gradient_penalty_reference(grads, target: float = 1.0, weight: float = 10.0) -> float:
    """weight * (1/N) sum_n (||g_n||_2 - target)^2, the norm over each example's elements."""
    norms = [math.sqrt(sum(v * v for v in row)) for row in _per_example(grads)]
    return weight * _mean([(norm - target) ** 2 for norm in norms])


def r1_penalty_reference(grads, gamma: float) -> float:
    """gamma / 2 * (1/N) sum_n ||g_n||_2^2."""
    return gamma / 2.0 * _mean([sum(v * v for v in row) for row in _per_example(grads)])


# Optimizer steps (one parameter array, element by element) -----------------------


def sgd_step_reference(param, grad, momentum_buffer=None, *, lr, momentum=0.0, dampening=0.0,
                       nesterov=False, weight_decay=0.0):
    """One torch.optim.SGD step; returns (new_param, new_momentum_buffer or None)::

        g = g + lambda theta;  b = g (first step) or mu b + (1 - tau) g
        d = g + mu b (Nesterov) or b;  theta = theta - gamma d
    """
    shape = np.shape(param)
    new_param, new_buffer = [], []
    buffers = _values(momentum_buffer) if momentum_buffer is not None else None
    for k, (theta, g) in enumerate(zip(_values(param), _values(grad))):
        g = g + weight_decay * theta
        if momentum != 0:
            b = g if buffers is None else momentum * buffers[k] + (1 - dampening) * g
            new_buffer.append(b)
            g = g + momentum * b if nesterov else b
        new_param.append(theta - lr * g)
    buffer = np.asarray(new_buffer).reshape(shape) if momentum != 0 else None
    return np.asarray(new_param).reshape(shape), buffer


def adam_step_reference(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step: int, *, lr,
                        betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                        decoupled=False):
    """One torch.optim.Adam (decoupled=False) or AdamW (decoupled=True) step at t = step + 1.

    Returns (new_param, m, v, v_max) as float64 arrays (v_max is None without AMSGrad)::

        theta = theta (1 - gamma lambda) (AdamW)  or  g = g + lambda theta (Adam)
        m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2;   v_max = max(v_max, v)
        theta = theta - gamma / (1 - beta1^t) * m / (sqrt(v_max) / sqrt(1 - beta2^t) + eps)
    """
    beta1, beta2 = betas
    t = step + 1
    shape = np.shape(param)
    maxima = _values(max_exp_avg_sq) if amsgrad else None
    out = {"param": [], "m": [], "v": [], "v_max": []}
    for k, (theta, g, m, v) in enumerate(zip(_values(param), _values(grad), _values(exp_avg),
                                             _values(exp_avg_sq))):
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(maxima[k], v) if amsgrad else v
        denominator = math.sqrt(v_max) / math.sqrt(1 - beta2**t) + eps
        out["param"].append(theta - lr / (1 - beta1**t) * m / denominator)
        for key, value in (("m", m), ("v", v), ("v_max", v_max)):
            out[key].append(value)
    arrays = {key: np.asarray(values).reshape(shape) for key, values in out.items()}
    return arrays["param"], arrays["m"], arrays["v"], arrays["v_max"] if amsgrad else None
