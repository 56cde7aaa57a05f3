"""Metrics against closed forms and independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

import npgen
from npgen.data import load_dataset
from npgen.metrics import (
    elbo_from_log_weights,
    frechet_distance,
    importance_weighted_bound,
    inception_score,
    log_mean_exp,
    mode_coverage,
)

# ----------------------------------------------------------------------------
# Frechet distance
# ----------------------------------------------------------------------------


def frechet_reference(a: np.ndarray, b: np.ndarray) -> float:
    """Same quantity through the symmetric form Tr sqrt(S_a^1/2 S_b S_a^1/2), via eigh only."""
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    inner = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sum(np.sqrt(np.clip(inner, 0, None)))
    gap = a.mean(axis=0) - b.mean(axis=0)
    return float(gap @ gap + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def test_frechet_identical_sets_give_zero():
    features = np.random.default_rng(0).normal(size=(400, 6)) @ np.diag([1, 2, 3, 0.5, 1, 4.0])
    scale = np.trace(np.cov(features, rowvar=False))
    assert abs(frechet_distance(features, features)) <= 1e-10 * scale


def test_frechet_translation_gives_squared_shift():
    features = np.random.default_rng(1).normal(size=(300, 5))
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    expected = float(shift @ shift)  # same covariance: only the mean term remains
    assert frechet_distance(features, features + shift) == pytest.approx(expected, rel=1e-12)


def test_frechet_matches_gaussian_closed_form_and_reference():
    rng = np.random.default_rng(2)
    var_a, var_b, mean_b = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25]), 0.5
    a = rng.normal(size=(40000, 3)) * np.sqrt(var_a)
    b = mean_b + rng.normal(size=(40000, 3)) * np.sqrt(var_b)
    closed = 3 * mean_b**2 + np.sum(var_a + var_b - 2 * np.sqrt(var_a * var_b))
    assert frechet_distance(a, b) == pytest.approx(closed, abs=0.06)  # 3x the spread over seeds
    small_a, small_b = rng.normal(size=(50, 4)), rng.normal(size=(60, 4)) @ rng.normal(size=(4, 4))
    assert frechet_distance(small_a, small_b) == pytest.approx(
        frechet_reference(small_a, small_b), rel=1e-12)
    assert frechet_distance(small_b, small_a) == pytest.approx(
        frechet_distance(small_a, small_b), rel=1e-12)


def test_frechet_singular_covariances_stay_finite():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 12)), rng.normal(size=(6, 12))  # N < D: rank-deficient
    distance = frechet_distance(a, b)
    assert np.isfinite(distance)
    assert distance == pytest.approx(frechet_reference(a, b), rel=1e-7)


def test_frechet_retries_with_ridge_when_sqrtm_is_not_finite(monkeypatch):
    import scipy.linalg

    real_sqrtm, calls = scipy.linalg.sqrtm, []

    def flaky_sqrtm(matrix):
        calls.append(matrix)
        return np.full_like(matrix, np.nan) if len(calls) == 1 else real_sqrtm(matrix)

    monkeypatch.setattr(scipy.linalg, "sqrtm", flaky_sqrtm)
    a = np.random.default_rng(9).normal(size=(30, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-5)
    cov = np.cov(a, rowvar=False)
    ridge = cov + 1e-6 * np.eye(3)
    np.testing.assert_allclose(calls[1], ridge @ ridge, rtol=1e-12)


def test_frechet_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same F"):
        frechet_distance(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="2 axes"):
        frechet_distance(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((4, 2), np.nan), np.zeros((4, 2)))


# ----------------------------------------------------------------------------
# Inception Score
# ----------------------------------------------------------------------------


def test_inception_score_extremes():
    one_hot = np.eye(10)[np.arange(200) % 10]  # confident and uniform over 10 classes
    assert inception_score(one_hot).mean == pytest.approx(10.0, rel=1e-12)
    constant = np.tile(np.random.default_rng(4).dirichlet(np.ones(10)), (50, 1))
    assert inception_score(constant).mean == pytest.approx(1.0, rel=1e-12)
    halves = np.eye(3)[[0] * 20 + [1] * 20]  # each half predicts one class
    assert inception_score(halves, splits=1) == pytest.approx((2.0, 0.0), rel=1e-12)
    assert inception_score(halves, splits=2) == pytest.approx((1.0, 0.0), rel=1e-12)


def test_inception_score_matches_direct_kl_and_log_probs_path():
    probs = np.random.default_rng(5).dirichlet(np.full(6, 0.3), size=120)
    marginal = probs.mean(axis=0)
    direct = math.exp(np.mean([scipy.stats.entropy(p, marginal) for p in probs]))
    assert inception_score(probs).mean == pytest.approx(direct, rel=1e-10)
    assert inception_score(log_probs=np.log(probs)).mean == pytest.approx(direct, rel=1e-10)
    parts = [math.exp(np.mean([scipy.stats.entropy(p, part.mean(axis=0)) for p in part]))
             for part in np.array_split(probs, 4)]
    score = inception_score(probs, splits=4)
    assert score == pytest.approx((np.mean(parts), np.std(parts)), rel=1e-10)


def test_inception_score_log_probs_with_tiny_probabilities():
    logits = np.array([[0.0, -800.0], [-800.0, 0.0]])  # exp(-800) underflows to 0
    log_probs = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    assert inception_score(log_probs=log_probs).mean == pytest.approx(2.0, rel=1e-12)


def test_inception_score_rejects_bad_input():
    with pytest.raises(ValueError, match="exactly one"):
        inception_score()
    with pytest.raises(ValueError, match="summing to 1"):
        inception_score(np.full((3, 4), 0.3))
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.eye(3), splits=4)


# ----------------------------------------------------------------------------
# Mode coverage
# ----------------------------------------------------------------------------


def test_mode_coverage_on_constructed_samples():
    modes = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    std = 0.1
    samples = np.array([[0.0, 0.29], [0.0, -0.31],  # 2.9 std (good), 3.1 std (not)
                        [10.0, 0.0], [10.1, 0.0], [9.95, 0.05],  # three good at mode 1
                        [5.0, 5.0]])  # far from everything
    stats = mode_coverage(samples, modes, std)
    assert stats.modes_covered == 2
    assert stats.high_quality_fraction == pytest.approx(4 / 6)
    np.testing.assert_array_equal(stats.per_mode_counts, [1, 3, 0])
    assert mode_coverage(samples, modes, std, min_count=2).modes_covered == 1
    assert mode_coverage(samples, modes, std, threshold=3.2).per_mode_counts.tolist() == [2, 3, 0]


def test_mode_coverage_of_real_grid_samples_matches_rayleigh_tail():
    grid = load_dataset("grid", seed=0)
    stats = mode_coverage(grid.train, grid.modes, grid.mode_std)
    assert stats.modes_covered == 25
    # For 2-D isotropic noise, P(|e| <= 3 std) = 1 - exp(-9/2) (a Rayleigh distribution).
    assert stats.high_quality_fraction == pytest.approx(1 - math.exp(-4.5), abs=0.005)
    collapsed = mode_coverage(np.tile(grid.modes[:3], (100, 1)), grid.modes, grid.mode_std)
    assert collapsed.modes_covered == 3 and collapsed.high_quality_fraction == 1.0


# ----------------------------------------------------------------------------
# log-mean-exp, importance-weighted bound, ELBO
# ----------------------------------------------------------------------------


def test_log_mean_exp_against_high_precision():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    values = np.random.default_rng(6).normal(scale=30.0, size=(4, 9))
    for row, result in zip(values, log_mean_exp(values, axis=1)):
        exact = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in row) / len(row))
        assert result == pytest.approx(float(exact), rel=1e-14, abs=1e-13)


@pytest.mark.parametrize("offset", [1e4, -1e4])
def test_bounds_with_huge_log_weights_stay_finite(offset):
    log_w = np.random.default_rng(7).normal(size=(5, 16))
    shifted = importance_weighted_bound(log_w + offset)
    assert np.isfinite(shifted.per_example).all()
    np.testing.assert_allclose(shifted.per_example,
                               importance_weighted_bound(log_w).per_example - offset, rtol=1e-12)
    assert np.isfinite(elbo_from_log_weights(log_w + offset).mean)


def test_bound_values_and_ordering():
    two = np.log(np.array([[1.0, 3.0]]))
    assert importance_weighted_bound(two).mean == pytest.approx(-math.log(2.0), rel=1e-14)
    assert elbo_from_log_weights(two).mean == pytest.approx(-math.log(3.0) / 2, rel=1e-14)
    log_w = np.random.default_rng(8).normal(loc=-90.0, scale=3.0, size=(20, 10))
    iw, elbo = importance_weighted_bound(log_w), elbo_from_log_weights(log_w)
    # log p(x) >= L_K >= ELBO, so the negated bounds order the other way (Jensen).
    assert (iw.per_example <= elbo.per_example).all() and iw.mean < elbo.mean
    one = log_w[:, :1]
    np.testing.assert_allclose(importance_weighted_bound(one).per_example,
                               elbo_from_log_weights(one).per_example, rtol=1e-15)
    assert iw.mean == pytest.approx(np.mean(iw.per_example))
    with pytest.raises(ValueError, match="2 axes"):
        importance_weighted_bound(np.zeros(3))


def test_metrics_accept_arrays_of_any_backend():
    features = np.random.default_rng(10).normal(size=(40, 3))
    with npgen.use_backend("array_api_strict", "device1"):
        on_device = npgen.asarray(features, dtype="float64")
        assert frechet_distance(on_device, on_device + 1.0) == pytest.approx(3.0, rel=1e-12)
        one_hot = npgen.asarray(np.eye(4)[np.arange(8) % 4], dtype="float64")
        assert inception_score(one_hot).mean == pytest.approx(4.0, rel=1e-12)
