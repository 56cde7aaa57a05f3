"""The ELBO against closed forms: Gaussian KLs and a linear-Gaussian model with known log p(x).

Model: p(z) = N(0, I_K), p(x | z) = N(W z + b, sigma^2 I_D). Then
    p(x)     = N(x; b, W W^T + sigma^2 I)
    p(z | x) = N(Sigma W^T (x - b) / sigma^2, Sigma),  Sigma = (I + W^T W / sigma^2)^-1.
W has orthogonal columns (W^T W = diag(s^2)), so the exact posterior is diagonal
and lies inside the contract's family q = N(mu, diag exp(logvar)). With q equal
to it, log p(x, z) - log q(z) = log p(x) for every z: the fully sampled bound
is -log p(x) for every eps (zero variance). The contract's estimator uses the
analytic KL instead of the sampled log-ratio; it still has mean -log p(x) but
varies with eps. For any other q, E_eps[-ELBO] = -log p(x) + KL(q || p(z | x)).
"""

from __future__ import annotations

import math

import array_api_compat
import numpy as np
import pytest
from _helpers import host, on_backend
from hypothesis import given, settings
from hypothesis import strategies as st

from npgen.losses import gaussian_kl, negative_elbo, reparameterize
from npgen.testing import strategies as nst

# ----------------------------------------------------------------------------
# KL(N(mu, diag e^lv) || N(0, I))
# ----------------------------------------------------------------------------


def test_kl_of_unit_shifted_gaussian_is_half_per_dimension(backend):
    # KL(N(1, 1) || N(0, 1)) = 1/2 (1 + 1 - 1 - 0) = 1/2 per dimension, per example.
    kl, _, _ = gaussian_kl(on_backend(np.ones((3, 5))), on_backend(np.zeros((3, 5))))
    assert float(kl) == 2.5


def test_kl_is_zero_at_the_prior(backend):
    zeros = on_backend(np.zeros((2, 4)))
    kl, dmu, dlogvar = gaussian_kl(zeros, zeros)
    assert float(kl) == 0.0 and not host(dmu).any() and not host(dlogvar).any()


@settings(max_examples=6)
@given(batch=st.integers(1, 4), latent=st.integers(1, 5), data=st.data())
def test_kl_matches_torch_distributions(backend, batch, latent, data):
    torch = pytest.importorskip("torch")
    mu = data.draw(nst.float_arrays((batch, latent)))
    logvar = data.draw(nst.float_arrays((batch, latent), min_value=-5.0, max_value=5.0))
    std = torch.exp(0.5 * torch.tensor(host(logvar)))
    q = torch.distributions.Normal(torch.tensor(host(mu)), std)
    p = torch.distributions.Normal(0.0, 1.0)
    expected = torch.distributions.kl_divergence(q, p).sum().item() / batch
    kl, _, _ = gaussian_kl(mu, logvar)
    np.testing.assert_allclose(float(kl), expected, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------
# The linear-Gaussian model
# ----------------------------------------------------------------------------

D, K, N, SIGMA = 5, 3, 4, 0.7
SCALES = np.array([1.6, 0.9, 0.4])  # column norms of W


def _model():
    """W (D, K) with orthogonal columns, b (D,), data x (N, D), all on the host."""
    rng = np.random.default_rng(20240501)
    q, _ = np.linalg.qr(rng.normal(size=(D, K)))  # orthonormal columns
    w = q * SCALES  # (D, K), W^T W = diag(SCALES^2)
    b = rng.normal(size=D)
    x = rng.normal(size=(N, D)) * 1.5
    return w, b, x


def _log_evidence(w, b, x):
    """log N(x_n; b, W W^T + sigma^2 I) for every row, by hand."""
    cov = w @ w.T + SIGMA**2 * np.eye(D)  # (D, D)
    _, logdet = np.linalg.slogdet(cov)
    r = x - b  # (N, D)
    mahalanobis = np.einsum("nd,nd->n", r, np.linalg.solve(cov, r.T).T)
    return -0.5 * (mahalanobis + logdet + D * math.log(2 * math.pi))


def _posterior(w, b, x):
    """Exact posterior mean (N, K) and (diagonal) variance (K,)."""
    variance = 1.0 / (1.0 + SCALES**2 / SIGMA**2)  # diag of (I + W^T W / sigma^2)^-1
    mean = variance * ((x - b) @ w) / SIGMA**2
    return mean, variance


def _negative_elbo(w, b, x, mu, logvar, eps, beta=1.0, return_z=False):
    """One-sample negative ELBO with the decoder mean m = W z + b computed on the backend."""
    args = [on_backend(a) for a in (x, mu, logvar, eps, w, b)]
    x_, mu_, lv_, eps_, w_, b_ = args
    xp = array_api_compat.array_namespace(x_)
    z = reparameterize(mu_, lv_, eps_)  # (M, K)
    m = xp.matmul(z, xp.permute_dims(w_, (1, 0))) + b_  # (M, D)
    value = float(negative_elbo(x_, m, mu_, lv_, "gaussian", beta=beta, sigma=SIGMA).value)
    return (value, host(z)) if return_z else value


def _log_normal_diag(z, mean, variance):
    """log N(z; mean, diag(variance)) per row."""
    return -0.5 * np.sum((z - mean) ** 2 / variance + np.log(2 * math.pi * variance), axis=1)


def _replicated_mc(w, b, x, mu, logvar, batches=20, reps=100, seed=11):
    """Monte Carlo mean of the negative ELBO and its standard error (batches of replicas)."""
    rng = np.random.default_rng(seed)
    x_rep, mu_rep = np.tile(x, (reps, 1)), np.tile(mu, (reps, 1))
    lv_rep = np.tile(logvar, (reps, 1))
    values = np.array([
        _negative_elbo(w, b, x_rep, mu_rep, lv_rep, rng.normal(size=(reps * N, K)))
        for _ in range(batches)
    ])
    return values.mean(), values.std(ddof=1) / math.sqrt(batches)


def test_exact_posterior_fully_sampled_bound_has_zero_variance(backend):
    # -log p(x | z) + log q(z) - log p(z) = -log p(x) for every z when q = p(z | x):
    # the reconstruction term (beta = 0) plus the sampled log-ratio, per draw.
    w, b, x = _model()
    target = -_log_evidence(w, b, x).mean()
    mean, variance = _posterior(w, b, x)
    logvar = np.tile(np.log(variance), (N, 1))
    rng = np.random.default_rng(7)
    values = []
    for _ in range(12):
        reconstruction, z = _negative_elbo(w, b, x, mean, logvar, rng.normal(size=(N, K)),
                                           beta=0.0, return_z=True)
        log_ratio = _log_normal_diag(z, mean, variance) - _log_normal_diag(z, 0.0, 1.0)
        values.append(reconstruction + log_ratio.mean())
    np.testing.assert_allclose(values, target, rtol=1e-12)
    assert np.std(values) < 1e-12 * abs(target)


def test_exact_posterior_elbo_converges_to_log_evidence(backend):
    # With the analytic KL (the contract's estimator) single draws vary, but the
    # mean over draws converges to -log p(x).
    w, b, x = _model()
    target = -_log_evidence(w, b, x).mean()
    mean, variance = _posterior(w, b, x)
    estimate, standard_error = _replicated_mc(w, b, x, mean, np.tile(np.log(variance), (N, 1)))
    assert standard_error < 0.01 * abs(target)
    assert abs(estimate - target) < 4 * standard_error


def test_other_posteriors_are_worse_by_their_kl_to_the_exact_one(backend):
    w, b, x = _model()
    log_evidence = _log_evidence(w, b, x).mean()
    mean, variance = _posterior(w, b, x)
    mu = mean + np.array([0.3, -0.2, 0.1])
    logvar = np.tile(np.log(variance) + np.array([0.4, -0.3, 0.2]), (N, 1))
    v = np.exp(logvar)  # KL(q || p(z | x)) for diagonal Gaussians, per example
    gap = 0.5 * np.sum(v / variance + (mu - mean) ** 2 / variance - 1 - np.log(v / variance),
                       axis=1).mean()
    assert gap > 0.01
    estimate, standard_error = _replicated_mc(w, b, x, mu, logvar)
    assert abs(estimate - (-log_evidence + gap)) < 4 * standard_error
    assert estimate > -log_evidence + 5 * standard_error


def test_plugging_in_the_mean_is_not_a_bound(backend):
    # eps = 0 (z = mu) drops E||W (z - mu)||^2 / (2 sigma^2) = sum_k s_k^2 Sigma_k / (2 sigma^2)
    # from the reconstruction term: the "ELBO" then exceeds log p(x), so test ELBOs must sample.
    w, b, x = _model()
    log_evidence = _log_evidence(w, b, x).mean()
    mean, variance = _posterior(w, b, x)
    logvar = np.tile(np.log(variance), (N, 1))
    value = _negative_elbo(w, b, x, mean, logvar, np.zeros((N, K)))
    missing = np.sum(SCALES**2 * variance) / (2 * SIGMA**2)
    np.testing.assert_allclose(value, -log_evidence - missing, rtol=1e-12)
    assert value < -log_evidence
