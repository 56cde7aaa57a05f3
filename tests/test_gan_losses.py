"""GAN losses: gradients, the optimal discriminator (log 4 - 2 JSD), (non-)saturation, extremes."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from _helpers import host, on_backend
from hypothesis import given, settings
from hypothesis import strategies as st

import npgen
from npgen.losses import (
    gan_discriminator_loss,
    gan_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from npgen.testing import strategies as nst

BATCH_SHAPES = st.sampled_from([(1,), (3,), (4, 1), (2, 3)])


def softplus(a):
    return np.logaddexp(0.0, a)


# The gradient checks of every loss here are the registry rows' (tests/test_registry.py).


# ----------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------


@given(real_shape=BATCH_SHAPES, fake_shape=BATCH_SHAPES, data=st.data())
def test_values_match_closed_forms(backend, real_shape, fake_shape, data):
    real = data.draw(nst.float_arrays(real_shape, min_value=-9.0, max_value=9.0))
    fake = data.draw(nst.float_arrays(fake_shape, min_value=-9.0, max_value=9.0))
    r, f = host(real), host(fake)
    cases = [
        (gan_discriminator_loss(real, fake)[0], softplus(-r).mean() + softplus(f).mean()),
        (gan_discriminator_loss(real, fake, 0.9)[0],
         (softplus(r) - 0.9 * r).mean() + softplus(f).mean()),
        (gan_generator_loss(fake)[0], softplus(-f).mean()),
        (gan_generator_loss(fake, saturating=True)[0], -softplus(f).mean()),
        (wasserstein_critic_loss(real, fake)[0], f.mean() - r.mean()),
        (wasserstein_generator_loss(fake)[0], -f.mean()),
    ]
    for ours, expected in cases:
        assert tuple(ours.shape) == ()
        np.testing.assert_allclose(float(ours), expected, rtol=1e-13, atol=1e-15)


@settings(max_examples=6)
@given(n=st.integers(1, 5), real_label=st.sampled_from([1.0, 0.9]), data=st.data())
def test_discriminator_loss_matches_torch(backend, n, real_label, data):
    torch = pytest.importorskip("torch")
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    real = data.draw(nst.float_arrays((n, 1), min_value=-9.0, max_value=9.0))
    fake = data.draw(nst.float_arrays((n + 1, 1), min_value=-9.0, max_value=9.0))
    tr, tf = (torch.tensor(host(a), requires_grad=True) for a in (real, fake))
    expected = bce(tr, torch.full_like(tr, real_label)) + bce(tf, torch.zeros_like(tf))
    expected.backward()
    loss, d_real, d_fake = gan_discriminator_loss(real, fake, real_label)
    np.testing.assert_allclose(float(loss), expected.item(), rtol=1e-13)
    np.testing.assert_allclose(host(d_real), tr.grad.numpy(), rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(host(d_fake), tf.grad.numpy(), rtol=1e-12, atol=1e-16)


# p_data and p_g on the support {0, 1, 2}, with rational probabilities whose
# denominators divide the sample count: the empirical frequencies are exact.
P_DATA = (Fraction(1, 2), Fraction(1, 4), Fraction(1, 4))
P_G = (Fraction(1, 8), Fraction(3, 8), Fraction(1, 2))
SAMPLES = 8


def _support_samples(p):
    """Indices 0, 1, 2 repeated SAMPLES * p(i) times."""
    counts = [int(q * SAMPLES) for q in p]
    assert sum(counts) == SAMPLES and all(Fraction(c, SAMPLES) == q for c, q in zip(counts, p))
    return np.repeat(np.arange(len(p)), counts)


def _jsd(p, q):
    m = [(a + b) / 2 for a, b in zip(p, q)]
    kl = lambda a, b: sum(float(x) * math.log(x / y) for x, y in zip(a, b) if x)  # noqa: E731
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def test_optimal_discriminator_gives_log4_minus_2jsd(backend):
    # D*(x) = p_data / (p_data + p_g), i.e. logit D*(x) = log(p_data(x) / p_g(x)).
    logit = np.array([math.log(a / b) for a, b in zip(P_DATA, P_G)])
    real_idx, fake_idx = _support_samples(P_DATA), _support_samples(P_G)
    real, fake = on_backend(logit[real_idx]), on_backend(logit[fake_idx])
    loss, d_real, d_fake = gan_discriminator_loss(real, fake)
    expected = math.log(4.0) - 2.0 * _jsd(P_DATA, P_G)
    np.testing.assert_allclose(float(loss), expected, rtol=1e-14)
    # D* is a stationary point: per support point, the gradients collected over
    # its real and fake samples cancel.
    for i in range(3):
        total = host(d_real)[real_idx == i].sum() + host(d_fake)[fake_idx == i].sum()
        assert abs(total) < 1e-15
    # ... and the minimum: moving any logit raises the loss.
    for i in range(3):
        for step in (-0.1, 0.1):
            moved = logit.copy()
            moved[i] += step
            worse, _, _ = gan_discriminator_loss(on_backend(moved[real_idx]),
                                                 on_backend(moved[fake_idx]))
            assert float(worse) > float(loss)


def test_equal_distributions_give_log4(backend):
    zeros = on_backend(np.zeros(6))
    loss, _, _ = gan_discriminator_loss(zeros, zeros)
    np.testing.assert_allclose(float(loss), math.log(4.0), rtol=1e-15)


def test_saturating_gradient_vanishes_where_non_saturating_does_not(backend):
    n = 4
    fake = on_backend(np.full(n, -20.0))  # D(G(z)) = sigmoid(-20) ~ 2e-9: D rejects the samples
    _, d_saturating = gan_generator_loss(fake, saturating=True)
    _, d_non_saturating = gan_generator_loss(fake, saturating=False)
    sigmoid_minus20 = 1.0 / (1.0 + math.exp(20.0))
    np.testing.assert_allclose(host(d_saturating), -sigmoid_minus20 / n, rtol=1e-14)
    np.testing.assert_allclose(host(d_non_saturating), -(1.0 - sigmoid_minus20) / n, rtol=1e-14)
    assert np.all(np.abs(host(d_saturating)) < 3e-9 / n)  # vanishing: sigmoid(-20) = 2.1e-9
    np.testing.assert_allclose(host(d_non_saturating), -1.0 / n, rtol=1e-8)  # ~ -1/n


E80 = math.exp(-80.0)
RTOL = {"float64": 1e-15, "float32": 5e-7}  # float32: a few ulps


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_extreme_logits(backend, dtype):
    logits = [1e4, -1e4, 80.0, -80.0]
    lp = [softplus_exact(a) for a in logits]  # softplus(a)
    lm = [softplus_exact(-a) for a in logits]  # softplus(-a)
    x = on_backend(logits, dtype)
    loss, d_real, d_fake = gan_discriminator_loss(x, x)
    np.testing.assert_allclose(float(loss), (math.fsum(lm) + math.fsum(lp)) / 4, rtol=RTOL[dtype])
    sig = [1.0 / (1.0 + math.exp(-a)) if a > -700 else 0.0 for a in logits]
    sig_neg = [1.0 / (1.0 + math.exp(a)) if a < 700 else 0.0 for a in logits]
    np.testing.assert_allclose(host(d_real), [-s / 4 for s in sig_neg], rtol=RTOL[dtype], atol=0)
    np.testing.assert_allclose(host(d_fake), [s / 4 for s in sig], rtol=RTOL[dtype], atol=0)
    loss, d_fake = gan_generator_loss(x)
    np.testing.assert_allclose(float(loss), math.fsum(lm) / 4, rtol=RTOL[dtype])
    loss, d_fake = gan_generator_loss(x, saturating=True)
    np.testing.assert_allclose(float(loss), -math.fsum(lp) / 4, rtol=RTOL[dtype])
    np.testing.assert_allclose(host(d_fake), [-s / 4 for s in sig], rtol=RTOL[dtype], atol=0)


def softplus_exact(a: float) -> float:
    """log(1 + e^a) by hand: a + log1p(e^-a) for a > 0, log1p(e^a) otherwise."""
    return a + math.log1p(math.exp(-a)) if a > 0 else math.log1p(math.exp(a))


# ----------------------------------------------------------------------------
# The GAN step's D loss is gan_discriminator_loss, bit for bit
# ----------------------------------------------------------------------------


@settings(max_examples=10)
@given(n_real=st.integers(1, 7), n_fake=st.integers(1, 7),
       real_label=st.sampled_from([1.0, 0.9, 0.75]), dtype=st.sampled_from(["float32", "float64"]),
       seed=st.integers(0, 2**16))
def test_discriminator_step_is_gan_discriminator_loss(backend, n_real, n_fake, real_label,
                                                      dtype, seed):
    """The step's loss and D's gradients equal those of the loss's own d_real and d_fake."""
    from npgen.models import discriminator_loss_and_backward

    d = npgen.nn.Sequential(npgen.nn.Dense(3, 4, dtype=dtype, seed=seed), npgen.nn.Tanh(),
                            npgen.nn.Dense(4, 1, dtype=dtype, seed=seed + 1))
    rng = np.random.default_rng(seed)
    real, fake = (on_backend(rng.normal(size=(n, 3)) * 3.0, dtype) for n in (n_real, n_fake))
    d.zero_grad()
    step = discriminator_loss_and_backward(d, real, fake, real_label=real_label)
    by_step = {k: host(g).copy() for k, g in d.gradients().items()}

    loss, d_real, d_fake = gan_discriminator_loss(d(real), d(fake), real_label)
    d.zero_grad()
    for x, dlogits in ((real, d_real), (fake, d_fake)):  # the same halves, in the same order
        d(x)
        d.backward(dlogits)
    np.testing.assert_array_equal(host(step.loss), host(loss))
    for key, g in d.gradients().items():
        np.testing.assert_array_equal(by_step[key], host(g), err_msg=key)


# ----------------------------------------------------------------------------
# Bad inputs
# ----------------------------------------------------------------------------


def test_bad_inputs(backend):
    x = on_backend(np.zeros((3, 1)))
    scalar = on_backend(0.0)
    empty = on_backend(np.zeros((0, 1)))
    x32 = on_backend(np.zeros(3), "float32")
    ints = npgen.asarray(np.zeros(3, dtype=np.int64))
    calls = [
        (lambda: gan_discriminator_loss(x, x, real_label=1.5), ValueError,
         "gan_discriminator_loss: real_label must lie in [0, 1]"),
        (lambda: _discriminator_step(x, real_label=1.5), ValueError,
         "discriminator_loss_and_backward: real_label must lie in [0, 1]"),
        (lambda: gan_discriminator_loss(x, x32), TypeError,
         "fake_logits is float32 but the real_logits is float64"),
        (lambda: gan_discriminator_loss(ints, x), TypeError, "floating-point real_logits"),
        (lambda: gan_discriminator_loss(x, [0.0]), TypeError, "expected fake_logits to be an"),
        (lambda: gan_generator_loss(scalar), ValueError, "gan_generator_loss: expected fake_log"),
        (lambda: gan_generator_loss(empty), ValueError, "fake_logits is empty"),
        (lambda: gan_generator_loss(x, saturating="yes"), TypeError, "saturating must be"),
        (lambda: wasserstein_critic_loss(x, ints), TypeError, "wasserstein_critic_loss"),
        (lambda: wasserstein_generator_loss(scalar), ValueError, "wasserstein_generator_loss"),
    ]
    for call, error, fragment in calls:
        with pytest.raises(error) as info:
            call()
        assert fragment in str(info.value), str(info.value)


def _discriminator_step(x, real_label):
    from npgen.models import discriminator_loss_and_backward

    d = npgen.nn.Dense(1, 1, dtype="float64", seed=0)
    return discriminator_loss_and_backward(d, x, x, real_label=real_label)
