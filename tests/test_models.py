"""Models and their training steps: shapes, and every step's gradients against numerical ones.

The GAN steps are checked as functions of the parameters: the generator step's
G gradients against central differences of L_G(theta_G) = gan_generator_loss(D(G(z)))
at fixed z, the discriminator step's D gradients against those of
gan_discriminator_loss(D(real), D(fake)) (which also proves the two BCE halves
add up to that loss). The VAE models' step is checked on a few parameters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats

import npgen
from npgen.backend import backend_of
from npgen.gradcheck import check_vjp
from npgen.losses import gan_discriminator_loss, gan_generator_loss, negative_elbo, reparameterize
from npgen.models import (
    conv_vae,
    dcgan,
    dcgan_geometry,
    discriminator_loss_and_backward,
    generator_loss_and_backward,
    log_importance_weights,
    mlp_gan,
    mlp_vae,
    split_posterior,
    vae_loss_and_backward,
)
from npgen.optim import SGD


def _host(shape, seed, low=None, high=None):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=shape) if low is None else rng.uniform(low, high, size=shape)
    return npgen.asarray(values, dtype="float64")


def _params_check(modules_keys, loss, backward_into):
    """check_vjp of 'chosen parameters -> loss' against the gradients a step accumulates."""

    def load(values):
        for (module, key), value in zip(modules_keys, values):
            module.parameters()[key][...] = value

    def f(*values):
        load(values)
        return loss()

    def vjp(dy, *values):
        load(values)
        for module in {id(m): m for m, _ in modules_keys}.values():
            module.zero_grad()
        backward_into()
        return tuple(dy * m.gradients()[k] for m, k in modules_keys)

    x0 = next(iter(modules_keys))[0].parameters()[modules_keys[0][1]]
    initial = [npgen.asarray(m.parameters()[k], dtype="float64", backend=backend_of(x0))
               for m, k in modules_keys]
    check_vjp(f, vjp, initial, names=[k for _, k in modules_keys])


def _gan_pair(kind):
    if kind == "mlp":
        model = mlp_gan(data_dim=2, latent_dim=2, hidden=4, depth=2, dtype="float64", seed=3)
        real = _host((5, 2), 1)
    else:  # the smallest DCGAN: batch norm in both networks
        model = dcgan((1, 8, 8), latent_dim=2, width=1, dtype="float64", seed=4)
        real = _host((3, 1, 8, 8), 1, -1.0, 1.0)
    return model, real, _host((real.shape[0], model.latent_dim), 2)


def _all_keys(module):
    """Every parameter of ``module``, on every row (batch-norm and conv chains included)."""
    return [(module, k) for k in module.parameters()]


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_generator_step_gradients_match_numerical(backend, kind):
    model, _, z = _gan_pair(kind)
    g, d = model.generator, model.discriminator
    keys = _all_keys(g)

    def loss():
        return gan_generator_loss(d(g(z)))[0]

    def backward_into():
        generator_loss_and_backward(g, d, g(z))

    _params_check(keys, loss, backward_into)


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_discriminator_step_gradients_match_numerical(backend, kind):
    model, real, z = _gan_pair(kind)
    g, d = model.generator, model.discriminator
    fake = g(z)
    keys = _all_keys(d)

    def loss():  # real and fake go through D separately, as in the step
        real_logits = d(real)
        return gan_discriminator_loss(real_logits, d(fake))[0]

    def backward_into():
        step = discriminator_loss_and_backward(d, real, fake)
        np.testing.assert_allclose(float(step.loss), float(loss()), rtol=1e-13)

    _params_check(keys, loss, backward_into)


def _host_mean_sigmoid(logits) -> float:
    """mean(sigmoid(logits)) on the host, in the stable form exp(-|x|) (independent of npgen)."""
    x = npgen.to_numpy(logits).astype(np.float64)
    e = np.exp(-np.abs(x))
    return float(np.mean(np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))))


def _squared_norm(grads) -> float:
    return sum(float(np.sum(npgen.to_numpy(g) ** 2)) for g in grads.values())


def test_generator_step_leaves_fake_gradient_and_detached_d_step(backend):
    model, real, z = _gan_pair("mlp")
    g, d = model.generator, model.discriminator
    fake = g(z)
    before = _host_mean_sigmoid(d(real)), _host_mean_sigmoid(d(fake))  # D before its update
    d_step = discriminator_loss_and_backward(d, real, fake)
    assert float(d_step.d_real) == pytest.approx(before[0], rel=1e-14)
    assert float(d_step.d_fake) == pytest.approx(before[1], rel=1e-14)
    assert _squared_norm(g.gradients()) == 0.0  # the D step never reaches G (fake is detached)

    SGD(d.parameters(), lr=1.0).step(d.gradients())
    after = _host_mean_sigmoid(d(fake))  # the UPDATED D on the same samples
    assert after != pytest.approx(before[1], rel=1e-6)  # the update moved D(fake)
    g_step = generator_loss_and_backward(g, d, fake)
    assert float(g_step.d_fake) == pytest.approx(after, rel=1e-14)
    assert tuple(g_step.dfake.shape) == tuple(fake.shape)
    assert _squared_norm(g.gradients()) > 0.0  # and the G step does reach G


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_vae_models_step_gradients(backend, arch):
    if arch == "mlp":
        vae = mlp_vae((1, 4, 4), hidden=5, latent_dim=2, dtype="float64", seed=0)
        keys = [(vae.encoder, "1.bias"), (vae.encoder, "3.weight"), (vae.decoder, "0.weight")]
    else:
        vae = conv_vae((1, 4, 4), channels=1, latent_dim=2, dtype="float64", seed=0)
        keys = [(vae.encoder, "0.weight"), (vae.decoder, "5.bias")]
    x = _host((2, 1, 4, 4), 5, 0.0, 1.0)
    eps = _host((2, 2), 6)
    enc, dec = vae.encoder, vae.decoder

    def loss():
        mu, logvar = split_posterior(enc(x))
        return negative_elbo(x, dec(reparameterize(mu, logvar, eps)), mu, logvar).value

    _params_check(keys, loss, lambda: vae_loss_and_backward(enc, dec, x, eps))


@pytest.mark.parametrize(("shape", "geometry"), [((1, 8, 8), (2, 2)), ((1, 28, 28), (7, 2)),
                                                 ((3, 32, 32), (4, 3))])
def test_dcgan_is_sized_from_the_image_shape(backend, shape, geometry):
    assert dcgan_geometry(shape) == geometry
    model = dcgan(shape, latent_dim=4, width=2, seed=0)
    images = model.generator(npgen.asarray(np.zeros((2, 4)), dtype="float32"))
    assert tuple(images.shape) == (2, *shape)
    assert tuple(model.discriminator(images).shape) == (2, 1)
    names = [type(m).__name__ for m in model.discriminator]
    assert names[:2] == ["Conv2d", "LeakyReLU"] and "BatchNorm2d" in names[2:]
    weights = npgen.to_numpy(model.discriminator.parameters()["0.weight"])
    assert abs(weights.std() - 0.02) < 0.01  # DCGAN initialization


def test_model_shape_errors():
    with pytest.raises(ValueError, match="square images"):
        dcgan((1, 8, 6))
    with pytest.raises(ValueError, match="b \\* 2\\^n"):
        dcgan((1, 6, 6))
    with pytest.raises(ValueError, match="divisible by 4"):
        conv_vae((1, 6, 6))
    with pytest.raises(ValueError, match="likelihood"):
        mlp_vae((4,), likelihood="poisson")


def test_log_importance_weights_against_scipy_densities(backend):
    vae = mlp_vae((1, 2, 2), hidden=3, latent_dim=2, dtype="float64", seed=1)
    x = _host((3, 1, 2, 2), 7, 0.0, 1.0)
    logs = log_importance_weights(vae, x, 2, npgen.RNG(11, portable=True))  # (3, 2)
    mu, logvar = (npgen.to_numpy(a) for a in split_posterior(vae.encoder(x)))
    eps = np.random.default_rng(11).normal(size=(2, 3, 2))  # the same draws, on the host
    host_x = npgen.to_numpy(x).reshape(3, -1)
    for k in range(2):
        z = mu + np.exp(logvar / 2) * eps[k]
        logits = npgen.to_numpy(vae.decoder(npgen.asarray(z))).reshape(3, -1)
        log_lik = np.sum(host_x * scipy.special.log_expit(logits)
                         + (1 - host_x) * scipy.special.log_expit(-logits), axis=1)
        log_prior = scipy.stats.norm.logpdf(z).sum(axis=1)
        log_post = scipy.stats.norm.logpdf(z, mu, np.exp(logvar / 2)).sum(axis=1)
        np.testing.assert_allclose(logs[:, k], log_lik + log_prior - log_post, rtol=1e-12)
    assert math.isfinite(float(logs.sum()))
