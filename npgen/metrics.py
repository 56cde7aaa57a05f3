"""Evaluation metrics on the host: Frechet distance, Inception Score, mode coverage, IW bound.

All functions take host data (arrays of any npgen backend are copied with
``npgen.to_numpy`` on entry) and compute in float64 with NumPy/SciPy. The
parts that need a trained network (features of a classifier, samples of
log p(x, z) - log q(z|x)) are computed by the caller, so this module depends
on no layer.

Symbols
-------
mu_a, S_a      mean (F,) and covariance (F, F) of feature set a (F features)
p(y|x)         class probabilities of one generated example, (K,)
p(y)           their average over the examples: the marginal class distribution
log w_k        log p(x, z_k) - log q(z_k|x) for z_k ~ q(z|x), k = 1..K
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.special

from npgen.backend import to_numpy

__all__ = ["InceptionScore", "ModeStats", "NLLBound", "elbo_from_log_weights",
           "frechet_distance", "importance_weighted_bound", "inception_score",
           "log_mean_exp", "mode_coverage"]


def _host(where: str, values, name: str, ndim: int) -> np.ndarray:
    """``values`` as a float64 host array of rank ``ndim`` (the one crossing to the host)."""
    host = np.asarray(to_numpy(values), dtype=np.float64)
    if host.ndim != ndim:
        raise ValueError(f"{where}: expected {name} with {ndim} axes; got shape {host.shape}")
    if np.isnan(host).any():
        raise ValueError(f"{where}: {name} contains NaN")
    return host


# ----------------------------------------------------------------------------
# Frechet distance (the formula behind FID)
# ----------------------------------------------------------------------------


def _trace_sqrt_product(cov_a: np.ndarray, cov_b: np.ndarray, eps: float) -> float:
    """Tr sqrtm(S_a S_b), retried with S + eps I when the square root is not finite."""
    root = scipy.linalg.sqrtm(cov_a @ cov_b)  # (F, F)
    if not np.isfinite(root).all():
        ridge = eps * np.eye(cov_a.shape[0])
        root = scipy.linalg.sqrtm((cov_a + ridge) @ (cov_b + ridge))
    if np.iscomplexobj(root):
        imaginary = np.abs(np.diagonal(root).imag).max()
        scale = max(1.0, np.abs(np.diagonal(root).real).max())
        if imaginary > 1e-3 * scale:
            raise ValueError(f"frechet_distance: sqrtm(S_a S_b) has an imaginary part of "
                             f"{imaginary:.3g}; the covariances are too ill-conditioned")
        root = root.real
    return float(np.trace(root))


def frechet_distance(features_a, features_b, *, eps: float = 1e-6) -> float:
    """Frechet distance between Gaussians fitted to two feature sets ``(N_a, F)``, ``(N_b, F)``.

    With Inception-v3 pool features this is the FID; any feature extractor
    (or the raw data, for small F) can be used.

    Notes
    -----
    ::

        d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 sqrtm(S_a S_b))

    with unbiased sample covariances (``np.cov``). ``scipy.linalg.sqrtm`` may
    return a complex matrix with a tiny imaginary part from rounding: it is
    discarded (an imaginary part above 1e-3 of the diagonal is an error).
    When S_a S_b is singular enough that the square root is not finite,
    ``eps * I`` is added to both covariances, as in the reference FID code.
    Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to
    a Local Nash Equilibrium", 2017 (FID); Dowson & Landau, 1982 (the distance).
    """
    a = _host("frechet_distance", features_a, "features_a (N_a, F)", 2)
    b = _host("frechet_distance", features_b, "features_b (N_b, F)", 2)
    if a.shape[1] != b.shape[1] or min(a.shape[0], b.shape[0]) < 2:
        raise ValueError("frechet_distance: need two feature sets (N, F) with the same F and "
                         f"N >= 2; got {a.shape} and {b.shape}")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)  # (F,)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))  # (F, F)
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))  # (F, F)
    mean_term = float(np.sum((mean_a - mean_b) ** 2))
    trace_term = float(np.trace(cov_a) + np.trace(cov_b))
    return mean_term + trace_term - 2.0 * _trace_sqrt_product(cov_a, cov_b, eps)


# ----------------------------------------------------------------------------
# Inception Score
# ----------------------------------------------------------------------------


class InceptionScore(NamedTuple):
    """Mean and standard deviation of the score over the splits (std is 0 for one split)."""

    mean: float
    std: float


def _log_probabilities(class_probabilities, log_probs) -> np.ndarray:
    """Validated ``(N, K)`` log p(y|x) from exactly one of the two inputs."""
    if (class_probabilities is None) == (log_probs is None):
        raise ValueError("inception_score: pass exactly one of class_probabilities and log_probs")
    if log_probs is not None:
        logs = _host("inception_score", log_probs, "log_probs (N, K)", 2)
        if (logs > 1e-6).any():
            raise ValueError("inception_score: log_probs must be <= 0")
    else:
        probs = _host("inception_score", class_probabilities, "class_probabilities (N, K)", 2)
        if (probs < 0).any():
            raise ValueError("inception_score: class_probabilities must be non-negative")
        with np.errstate(divide="ignore"):
            logs = np.log(probs)  # log 0 = -inf: such a class adds nothing to the KL
    totals = np.exp(scipy.special.logsumexp(logs, axis=1))  # (N,)
    if logs.shape[0] == 0 or np.abs(totals - 1.0).max() > 1e-4:
        raise ValueError("inception_score: each row must be a distribution summing to 1; got "
                         f"row sums in [{totals.min(initial=np.inf):.6g}, "
                         f"{totals.max(initial=-np.inf):.6g}] for shape {logs.shape}")
    return logs


def _split_score(logs: np.ndarray) -> float:
    """exp(mean_x KL(p(y|x) || p(y))) for one group of ``(n, K)`` log-probabilities."""
    log_marginal = scipy.special.logsumexp(logs, axis=0) - np.log(logs.shape[0])  # (K,)
    probs = np.exp(logs)  # (n, K)
    # log p(y|x) - log p(y), left at 0 where p(y|x) = 0 (then also 0 * log 0 = 0 in the KL)
    log_ratio = np.subtract(logs, log_marginal, out=np.zeros_like(logs), where=probs > 0)
    return float(np.exp(np.sum(probs * log_ratio, axis=1).mean()))


def inception_score(class_probabilities=None, splits: int = 1, *,
                    log_probs=None) -> InceptionScore:
    """Inception Score of generated examples from their classifier outputs.

    Parameters
    ----------
    class_probabilities : array (N, K) or None
        p(y|x) per example (rows sum to 1).
    splits : int
        The N examples are cut into ``splits`` contiguous, nearly equal parts
        (``np.array_split``); the score is computed per part.
    log_probs : array (N, K) or None
        log p(y|x) instead of the probabilities (preferred: log-softmax output
        keeps tiny probabilities exact).

    Returns
    -------
    InceptionScore
        ``(mean, std)`` over the parts. It lies in [1, K]: 1 when every
        example gets the same prediction, K for confident predictions spread
        uniformly over the K classes.

    Notes
    -----
    ::

        IS = exp( E_x KL(p(y|x) || p(y)) ),  p(y) = E_x p(y|x)

    computed from log-probabilities with log-sum-exp. Salimans et al.,
    "Improved Techniques for Training GANs", 2016, Sec. 4.
    """
    logs = _log_probabilities(class_probabilities, log_probs)
    if isinstance(splits, bool) or not isinstance(splits, int) or \
            not 1 <= splits <= logs.shape[0]:
        raise ValueError(f"inception_score: splits must be an int in [1, N={logs.shape[0]}]; "
                         f"got {splits!r}")
    scores = [_split_score(part) for part in np.array_split(logs, splits, axis=0)]
    return InceptionScore(mean=float(np.mean(scores)), std=float(np.std(scores)))


# ----------------------------------------------------------------------------
# Mode coverage on the toy 2-D mixtures
# ----------------------------------------------------------------------------


class ModeStats(NamedTuple):
    """Result of :func:`mode_coverage`.

    Attributes
    ----------
    modes_covered : int
        Modes with at least ``min_count`` high-quality samples.
    high_quality_fraction : float
        Fraction of all samples within ``threshold * std`` of their nearest mode.
    per_mode_counts : ndarray of int64, shape (M,)
        High-quality samples assigned to each mode.
    """

    modes_covered: int
    high_quality_fraction: float
    per_mode_counts: np.ndarray


def mode_coverage(samples, modes, std: float, *, threshold: float = 3.0,
                  min_count: int = 1) -> ModeStats:
    """Count the modes of a Gaussian mixture that generated 2-D (or F-dim) samples reach.

    Parameters
    ----------
    samples : array (N, F)
    modes : array (M, F)
        The mixture's means (``Dataset.modes``).
    std : float
        The components' standard deviation (``Dataset.mode_std``).
    threshold : float
        A sample is *high quality* when its Euclidean distance to the nearest
        mode is at most ``threshold * std`` (3 standard deviations, as in the
        VEEGAN evaluation).
    min_count : int
        A mode is *covered* when at least this many high-quality samples have
        it as their nearest mode. Papers differ here (some ask for a handful
        of samples per mode); the default 1 counts any hit.
    """
    points = _host("mode_coverage", samples, "samples (N, F)", 2)
    centers = _host("mode_coverage", modes, "modes (M, F)", 2)
    if points.shape[1] != centers.shape[1] or centers.shape[0] == 0 or not std > 0:
        raise ValueError(f"mode_coverage: need samples (N, F), modes (M, F) with M >= 1 and "
                         f"std > 0; got {points.shape}, {centers.shape}, std={std}")
    if points.shape[0] == 0:
        return ModeStats(0, 0.0, np.zeros(centers.shape[0], dtype=np.int64))
    gaps = points[:, None, :] - centers[None, :, :]  # (N, M, F)
    distances = np.sqrt(np.sum(gaps**2, axis=2))  # (N, M)
    nearest = np.argmin(distances, axis=1)  # (N,)
    good = distances[np.arange(points.shape[0]), nearest] <= threshold * std  # (N,)
    counts = np.bincount(nearest[good], minlength=centers.shape[0]).astype(np.int64)  # (M,)
    return ModeStats(modes_covered=int(np.sum(counts >= min_count)),
                     high_quality_fraction=float(np.mean(good)), per_mode_counts=counts)


# ----------------------------------------------------------------------------
# Importance-weighted bound (VAE test log-likelihood)
# ----------------------------------------------------------------------------


class NLLBound(NamedTuple):
    """Upper bounds on -log p(x) in nats: per example ``(N,)`` and their batch mean."""

    per_example: np.ndarray
    mean: float


def log_mean_exp(values, axis: int = -1) -> np.ndarray:
    """log(mean(exp(values), axis)) without overflow: m + log mean exp(values - m), m = max."""
    host = np.asarray(to_numpy(values), dtype=np.float64)
    return scipy.special.logsumexp(host, axis=axis) - np.log(host.shape[axis])


def importance_weighted_bound(log_weights) -> NLLBound:
    """The negative importance-weighted bound -L_k from ``(N, k)`` log-weights.

    Notes
    -----
    ::

        log w_s = log p(x, z_s) - log q(z_s|x),   z_s ~ q(z|x), s = 1..k
        L_k(x)  = log (1/k) sum_s w_s,     E[L_k(x)] <= log p(x)

    Returned negated, in nats, like ``npgen.losses.negative_elbo``: -L_k(x)
    estimates an upper bound on -log p(x) that tightens as k grows (Burda et al.,
    "Importance Weighted Autoencoders", 2016, Theorem 1), and it
    never exceeds the negative ELBO of the same samples
    (:func:`elbo_from_log_weights`; Jensen's inequality). k = 1 gives the
    single-sample negative ELBO.
    """
    logs = _host("importance_weighted_bound", log_weights, "log_weights (N, k)", 2)
    if logs.shape[1] == 0:
        raise ValueError("importance_weighted_bound: need k >= 1 samples per example")
    per_example = -log_mean_exp(logs, axis=1)  # (N,)
    return NLLBound(per_example=per_example, mean=float(np.mean(per_example)))


def elbo_from_log_weights(log_weights) -> NLLBound:
    """The negative ELBO estimate -mean_s log w_s from the same ``(N, k)`` log-weights.

    ``-ELBO(x) = -E_q[log p(x, z) - log q(z|x)]`` estimated with the k
    samples; in nats, an estimated upper bound on -log p(x), never below
    :func:`importance_weighted_bound` on the same samples.
    """
    logs = _host("elbo_from_log_weights", log_weights, "log_weights (N, k)", 2)
    if logs.shape[1] == 0:
        raise ValueError("elbo_from_log_weights: need k >= 1 samples per example")
    per_example = -logs.mean(axis=1)  # (N,)
    return NLLBound(per_example=per_example, mean=float(np.mean(per_example)))
