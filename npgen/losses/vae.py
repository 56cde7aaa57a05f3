"""The reparameterized VAE objective: Gaussian KL, the reparameterization, the negative ELBO.

Symbols (as in ``docs/objectives/elbo.md``):

========  =================  ==================================================
symbol    argument           meaning
========  =================  ==================================================
x         ``x``              data, shape (N, ...)
l / m     ``decoder_out``    Bernoulli logits / Gaussian mean of p(x | z), x's shape
mu        ``mu``             mean of q(z | x), (N, K)
lv        ``logvar``         log variance of q(z | x), (N, K)
eps       ``eps``            standard normal noise, (N, K)
z         ``z``              mu + exp(lv / 2) eps, (N, K)
beta      ``beta``           weight of the KL term (beta-VAE; 1 is the ELBO)
sigma     ``sigma``          fixed standard deviation of the Gaussian likelihood
========  =================  ==================================================

-ELBO(x) = E_q[-log p(x | z)] + beta KL(q(z | x) || N(0, I)), estimated with one
z per example (Kingma & Welling 2014, "Auto-Encoding Variational Bayes", eq. 7
and 10). Values are batch means in nats.

Ranges: ``exp(logvar)`` is finite for logvar < 88 in float32 and < 709 in
float64; the tests cover logvar in [-30, 30] in both.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from npgen._checks.losses import (
    LIKELIHOODS,
    check_negative_elbo,
    check_noise,
    check_pair,
    check_posterior,
    check_reconstruction,
)
from npgen.losses._common import as_0d, bce_terms

__all__ = [
    "LIKELIHOODS",
    "ELBOTerms",
    "NegativeELBO",
    "gaussian_kl",
    "negative_elbo",
    "negative_elbo_terms",
    "reconstruction_nll",
    "reparameterize",
    "reparameterize_backward",
]

# ----------------------------------------------------------------------------
# KL(q || p) for q = N(mu, diag exp(lv)), p = N(0, I)
# ----------------------------------------------------------------------------


def gaussian_kl(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)), summed over latents, averaged over the batch.

    Parameters
    ----------
    mu, logvar : array (N, K) (or (N, K, ...): every non-batch axis is summed)

    Returns
    -------
    kl : 0-d array
        ``(1/N) sum_n 1/2 sum_k (mu^2 + exp(lv) - 1 - lv)``, in nats.
    dmu : array (N, K)
        ``mu / N``.
    dlogvar : array (N, K)
        ``(exp(lv) - 1) / (2 N)``.

    Notes
    -----
    ``exp(lv) - 1`` is evaluated as ``expm1(lv)``, which keeps its relative
    accuracy when lv is near 0 (q close to the prior).
    """
    return _gaussian_kl(check_posterior("gaussian_kl", mu, logvar), mu, logvar)


def _gaussian_kl(xp, mu, logvar):
    """The math of :func:`gaussian_kl`, unchecked."""
    n = float(mu.shape[0])
    expm1 = xp.expm1(logvar)
    kl = 0.5 * xp.sum(mu * mu + expm1 - logvar) / n
    return as_0d(xp, kl), mu / n, (0.5 / n) * expm1


# ----------------------------------------------------------------------------
# The reparameterization z = mu + sigma_q eps
# ----------------------------------------------------------------------------


def reparameterize(mu, logvar, eps):
    """z = mu + exp(logvar / 2) * eps, a differentiable sample of N(mu, diag exp(logvar)).

    Parameters
    ----------
    mu, logvar, eps : array (N, K), one library/device/dtype
        ``eps`` ~ N(0, I) is drawn by the caller (e.g. ``npgen.RNG.normal``),
        so the sample is a deterministic function of its inputs.

    Returns
    -------
    z : array (N, K)
    """
    xp = check_noise("reparameterize", mu, logvar, eps)
    return mu + xp.exp(0.5 * logvar) * eps


def reparameterize_backward(dz, mu, logvar, eps):
    """dmu = dz, dlogvar = dz * eps * exp(logvar / 2) / 2.

    Parameters
    ----------
    dz : array (N, K)
        dL/dz (for a VAE, what the decoder's backward returns).
    mu, logvar, eps : array (N, K)
        The inputs of :func:`reparameterize`.

    Returns
    -------
    dmu, dlogvar : arrays (N, K)
        The contribution of the path through z only; the KL term's own
        gradients (from :func:`gaussian_kl` / :func:`negative_elbo`) are added
        by the caller.
    """
    where = "reparameterize_backward"
    xp = check_noise(where, mu, logvar, eps)
    check_pair(where, mu, dz, "mu", "dz")
    dlogvar = dz * eps * (0.5 * xp.exp(0.5 * logvar))
    return xp.asarray(dz, copy=True), dlogvar


# ----------------------------------------------------------------------------
# Reconstruction term -log p(x | z)
# ----------------------------------------------------------------------------


def reconstruction_nll(x, decoder_out, likelihood: str = "bernoulli", sigma: float = 1.0):
    """-log p(x | z) summed over the non-batch axes, averaged over the batch, in nats.

    Parameters
    ----------
    x : array (N, ...)
        Data; for "bernoulli", values in [0, 1].
    decoder_out : array, x's shape
        Logits l ("bernoulli") or the mean m ("gaussian").
    likelihood : {"bernoulli", "gaussian"}
    sigma : float > 0
        Standard deviation of the Gaussian likelihood (ignored for "bernoulli").

    Returns
    -------
    nll : 0-d array
        bernoulli: ``(1/N) sum(softplus(l) - x l)``;
        gaussian:  ``(1/N) sum((x - m)^2 / (2 sigma^2) + log(2 pi sigma^2) / 2)``.
    d_decoder_out : array, x's shape
        bernoulli: ``(sigmoid(l) - x) / N``; gaussian: ``(m - x) / (sigma^2 N)``.
    """
    xp, sigma = check_reconstruction("reconstruction_nll", x, decoder_out, likelihood, sigma)
    return _reconstruction_nll(xp, x, decoder_out, likelihood, sigma)


def _reconstruction_nll(xp, x, decoder_out, likelihood: str, sigma: float):
    """The math of :func:`reconstruction_nll`, unchecked."""
    n = float(x.shape[0])
    if likelihood == "bernoulli":
        elementwise, d_out = bce_terms(xp, decoder_out, x)
        return as_0d(xp, xp.sum(elementwise) / n), d_out / n
    variance = sigma * sigma
    diff = decoder_out - x
    elements_per_example = float(math.prod(x.shape[1:]))
    log_normalizer = 0.5 * math.log(2.0 * math.pi * variance) * elements_per_example
    nll = xp.sum(diff * diff) / (2.0 * variance * n) + log_normalizer
    return as_0d(xp, nll), diff / (variance * n)


# ----------------------------------------------------------------------------
# The negative ELBO
# ----------------------------------------------------------------------------


class NegativeELBO(NamedTuple):
    """What :func:`negative_elbo` returns (unpacks as a 4-tuple)."""

    value: object  # 0-d: reconstruction + beta * kl, batch mean in nats
    d_decoder_out: object  # x's shape
    dmu: object  # (N, K): beta * dKL/dmu only (the path through z is the caller's)
    dlogvar: object  # (N, K): beta * dKL/dlogvar only


class ELBOTerms(NamedTuple):
    """What :func:`negative_elbo_terms` returns: :class:`NegativeELBO` plus both terms."""

    value: object
    d_decoder_out: object
    dmu: object
    dlogvar: object
    reconstruction: object  # 0-d: batch mean of -log p(x | z)
    kl: object  # 0-d: batch mean of KL(q(z | x) || p(z)), unweighted by beta


def negative_elbo_terms(x, decoder_out, mu, logvar, likelihood: str = "bernoulli",
                        beta: float = 1.0, sigma: float = 1.0) -> ELBOTerms:
    """:func:`negative_elbo` that also reports the reconstruction and KL terms (for logs)."""
    xp, beta, sigma = check_negative_elbo("negative_elbo", x, decoder_out, mu, logvar,
                                          likelihood, beta, sigma)
    reconstruction, d_decoder_out = _reconstruction_nll(xp, x, decoder_out, likelihood, sigma)
    kl, dmu, dlogvar = _gaussian_kl(xp, mu, logvar)
    value = as_0d(xp, reconstruction + beta * kl)
    return ELBOTerms(value, d_decoder_out, beta * dmu, beta * dlogvar, reconstruction, kl)


def negative_elbo(x, decoder_out, mu, logvar, likelihood: str = "bernoulli",
                  beta: float = 1.0, sigma: float = 1.0) -> NegativeELBO:
    """The negative evidence lower bound, batch mean in nats, with its gradients.

    Parameters
    ----------
    x : array (N, ...)
        Data.
    decoder_out : array, x's shape
        Output of the decoder at z = reparameterize(mu, logvar, eps): logits
        ("bernoulli") or the mean ("gaussian").
    mu, logvar : array (N, K)
        Parameters of q(z | x), the encoder's output.
    likelihood : {"bernoulli", "gaussian"}
    beta : float >= 0
        KL weight (beta-VAE, Higgins et al. 2017); 1 gives the ELBO.
    sigma : float > 0
        Standard deviation of the Gaussian likelihood.

    Returns
    -------
    NegativeELBO(value, d_decoder_out, dmu, dlogvar)
        ``value = reconstruction_nll + beta * gaussian_kl`` (0-d);
        ``d_decoder_out`` as in :func:`reconstruction_nll`; ``dmu``,
        ``dlogvar`` are beta times the KL gradients. The reconstruction also
        depends on mu and logvar through z: that part reaches them via
        ``decoder.backward`` and :func:`reparameterize_backward`.
    """
    terms = negative_elbo_terms(x, decoder_out, mu, logvar, likelihood, beta, sigma)
    return NegativeELBO(terms.value, terms.d_decoder_out, terms.dmu, terms.dlogvar)
