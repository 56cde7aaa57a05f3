"""Evaluating a trained VAE: the test negative ELBO (sampled z) and the importance-weighted bound.

Symbols as in :mod:`npgen.models.vae`; in addition

=======  ==========================================================
symbol   meaning
=======  ==========================================================
k        importance samples per example
log w    log p(x | z) + log p(z) - log q(z | x),  z ~ q(z | x)
=======  ==========================================================

With the Gaussian densities written out (D pixels, K latents)::

    log p(z)     = -1/2 sum_j (z_j^2 + log 2 pi)
    log q(z | x) = -1/2 sum_j ((z_j - mu_j)^2 / exp(lv_j) + lv_j + log 2 pi)
    log p(x | z) = -sum_i (softplus(l_i) - x_i l_i)                      (Bernoulli)
                 = -sum_i ((x_i - m_i)^2 / (2 sigma^2) + 1/2 log 2 pi sigma^2)  (Gaussian)

-log mean_k w_k (Burda et al. 2016) is :func:`npgen.metrics.importance_weighted_bound`.
Batches go to the backend with ``npgen.asarray``; the per-example numbers come
back with ``npgen.to_numpy``.
"""

from __future__ import annotations

import math

import numpy as np

from npgen.backend import RNG, asarray, dtype_name, namespace_of, to_numpy
from npgen.data.batches import iterate_batches
from npgen.losses.vae import negative_elbo_terms, reparameterize
from npgen.metrics import importance_weighted_bound
from npgen.models.vae_step import split_posterior

__all__ = ["log_importance_weights", "evaluate_importance_weighted_bound", "evaluate_negative_elbo"]

_LOG_2PI = math.log(2.0 * math.pi)


def _param_dtype(vae) -> str:
    return dtype_name(next(iter(vae.parameters().values())).dtype)


def _log_likelihood(vae, x, decoder_out):
    """log p(x | z) per example, (N,)."""
    xp = namespace_of(x)
    axes = tuple(range(1, x.ndim))
    if vae.likelihood == "bernoulli":
        softplus = xp.maximum(decoder_out, 0.0) + xp.log1p(xp.exp(-xp.abs(decoder_out)))
        return -xp.sum(softplus - x * decoder_out, axis=axes)  # (N,)
    variance = vae.sigma * vae.sigma
    pixels = math.prod(x.shape[1:])
    squares = xp.sum((x - decoder_out) ** 2, axis=axes)  # (N,)
    return -squares / (2.0 * variance) - 0.5 * pixels * math.log(2.0 * math.pi * variance)


def log_importance_weights(vae, x, k: int, rng: RNG):
    """log w for k posterior samples per example: a host float64 array (N, k)."""
    xp = namespace_of(x)
    mu, logvar = split_posterior(vae.encoder(x))  # (N, K) each
    columns = []
    for _ in range(k):
        z = reparameterize(mu, logvar, rng.normal(tuple(mu.shape), dtype=mu.dtype))  # (N, K)
        log_prior = -0.5 * xp.sum(z * z + _LOG_2PI, axis=1)  # (N,)
        log_posterior = -0.5 * xp.sum((z - mu) ** 2 / xp.exp(logvar) + logvar + _LOG_2PI,
                                      axis=1)  # (N,)
        log_lik = _log_likelihood(vae, x, vae.decoder(z))  # (N,)
        columns.append(to_numpy(log_lik + log_prior - log_posterior).astype(np.float64))
    return np.stack(columns, axis=1)  # (N, k)


def evaluate_negative_elbo(vae, data: np.ndarray, rng: RNG, *, batch_size: int = 256,
                       draws: int = 1) -> dict:
    """The negative ELBO on ``data`` (host (N, ...)) with SAMPLED z, averaged over ``draws``.

    Each draw runs the whole set once with fresh eps ~ N(0, I), exactly the
    training objective (one z per example, analytic KL) in eval mode.

    Returns
    -------
    dict
        ``negative_elbo``, ``reconstruction``, ``kl``: means over examples and draws, in nats.
    """
    was_training = vae.training
    vae.eval()
    sums = np.zeros(3)
    dtype = _param_dtype(vae)
    for _ in range(draws):
        for batch in iterate_batches(data, batch_size, rng_or_seed=None, shuffle=False):
            x = asarray(batch, dtype=dtype)
            mu, logvar = split_posterior(vae.encoder(x))  # (B, K)
            eps = rng.normal(tuple(mu.shape), dtype=mu.dtype)
            out = vae.decoder(reparameterize(mu, logvar, eps))  # x's shape
            terms = negative_elbo_terms(x, out, mu, logvar, vae.likelihood, vae.beta, vae.sigma)
            sums += batch.shape[0] * np.array([float(terms.value), float(terms.reconstruction),
                                               float(terms.kl)])
    vae.train(was_training)
    mean = sums / (draws * data.shape[0])
    return {"negative_elbo": float(mean[0]), "reconstruction": float(mean[1]),
            "kl": float(mean[2])}


def evaluate_importance_weighted_bound(vae, data: np.ndarray, rng: RNG, *, k: int = 100,
                                   batch_size: int = 256) -> float:
    """-L_k averaged over ``data`` (host (N, ...)), in nats: an upper bound on -log p(x)."""
    was_training = vae.training
    vae.eval()
    dtype = _param_dtype(vae)
    per_example = []
    for batch in iterate_batches(data, batch_size, rng_or_seed=None, shuffle=False):
        logs = log_importance_weights(vae, asarray(batch, dtype=dtype), k, rng)  # (B, k)
        per_example.append(importance_weighted_bound(logs).per_example)
    vae.train(was_training)
    return float(np.mean(np.concatenate(per_example)))
