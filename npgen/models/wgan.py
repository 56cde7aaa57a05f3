"""Gradient-penalty GANs: the critic without batch norm, and the penalized critic steps.

WGAN-GP (Gulrajani et al. 2017, algorithm 1) trains a critic D (unbounded scores, no
sigmoid) for n_critic = 5 steps per generator step, Adam lr 1e-4, betas (0, 0.9). One
critic step, every backward written out::

    alpha ~ U[0, 1] per example;  x_hat = alpha x + (1 - alpha) G(z)    (N, C, H, W)
    D.zero_grad()
    D(x_hat); g = D.backward(ones)      # g = dD/dx_hat, each example's own gradient;
    D.zero_grad()                       #   D's first-order gradients here are thrown away,
                                        #   the cache and the ones stay for the second order
    P, dP/dg = gradient_penalty(g)      # lambda mean_n (||g_n|| - 1)^2
    D.double_backward(dP/dg)            # ADDS dP/dtheta = d<dP/dg, g>/dtheta
    s = D(cat(x, G(z)))                 # real and fake scores in one batch (no batch norm)
    L_W, d_s = wasserstein_critic_loss(s_real, s_fake)    # mean(s_fake) - mean(s_real)
    D.backward(d_s)                     # ADDS dL_W/dtheta; the step is on L_W + P

R1 (Mescheder et al. 2018) is the same chain on real data, with ``r1_penalty`` and the
cross-entropy of :mod:`npgen.models.gan_step` in place of the Wasserstein terms. Batch norm
in the critic would break both: a penalty per example assumes each score depends on its
own example only, and batch norm has no double backward here.
"""

from __future__ import annotations

from typing import NamedTuple

from npgen.backend import RNG, namespace_of
from npgen.init import dcgan_init
from npgen.losses.gan import wasserstein_critic_loss, wasserstein_generator_loss
from npgen.losses.penalties import gradient_penalty, r1_penalty
from npgen.models.gan import GAN, _dcgan_generator, dcgan_geometry
from npgen.models.gan_step import discriminator_loss_and_backward
from npgen.nn import Conv2d, Flatten, LeakyReLU, Module, Sequential
from npgen.nn.module import make_rng

__all__ = ["CriticStep", "penalized_gan", "r1_discriminator_step", "wgan_critic",
           "wgan_gp_critic_step", "wgan_generator_step"]


class CriticStep(NamedTuple):
    """What a penalized critic step reports (0-d arrays)."""

    loss: object  # the loss of the step: L_W + P (WGAN-GP) or L_D + P (R1)
    penalty: object  # P
    real_score: object  # mean D(x): the critic's score, or D's probability sigmoid(r) for R1
    fake_score: object  # mean D(G(z)), likewise
    grad_norm: object  # mean_n ||g_n||, the input gradient's norm the penalty acts on


def wgan_critic(image_shape, width: int = 16, *, dtype=None, rng: RNG | None = None,
                seed: int | None = None) -> Sequential:
    """The DCGAN discriminator without batch norm (every conv has a bias)::

        x -> Conv2d(C, w, 4, 2, 1) -> LeakyReLU(0.2)
          -> [Conv2d(c, 2c, 4, 2, 1) -> LeakyReLU(0.2)] x (n - 1)
          -> Conv2d(w 2^(n-1), 1, b, 1, 0) -> Flatten           scores (N, 1)
    """
    rng = make_rng("wgan_critic", rng, seed)
    base, n = dcgan_geometry(image_shape)
    layers = [Conv2d(image_shape[0], width, 4, 2, 1, dtype=dtype, rng=rng), LeakyReLU(0.2)]
    channels = width
    for _ in range(n - 1):
        layers += [Conv2d(channels, 2 * channels, 4, 2, 1, dtype=dtype, rng=rng),
                   LeakyReLU(0.2)]
        channels *= 2
    layers += [Conv2d(channels, 1, base, 1, 0, dtype=dtype, rng=rng), Flatten()]  # (N, 1)
    return Sequential(*layers)


def penalized_gan(image_shape, latent_dim: int = 32, width: int = 32, *, dtype=None,
                  rng: RNG | None = None, seed: int | None = None) -> GAN:
    """The DCGAN generator (DCGAN-initialized) and the batch-norm-free :func:`wgan_critic`.

    The critic keeps PyTorch's default initialization: with DCGAN's N(0, 0.02^2) weights its
    input gradient starts near 0, far from the norm 1 the penalty asks for.
    """
    rng = make_rng("penalized_gan", rng, seed)
    base, n = dcgan_geometry(image_shape)
    generator = _dcgan_generator(image_shape, latent_dim, width, base, n, dtype, rng)
    critic = wgan_critic(image_shape, width, dtype=dtype, rng=rng)
    dcgan_init(generator, rng)
    return GAN(generator, critic, image_shape, latent_dim, image=True)


def _input_gradient(critic: Module, x):
    """g = dD/dx for every example (backward with ones); leaves D's gradients zeroed."""
    scores = critic(x)  # (N, 1)
    xp = namespace_of(scores)
    grads = critic.backward(xp.ones_like(scores))  # (N, C, H, W)
    critic.zero_grad()  # drop dD/dtheta; the caches and the ones stay for double_backward
    return grads


def _mean_norm(grads):
    xp = namespace_of(grads)
    rows = xp.reshape(grads, (grads.shape[0], -1))  # (N, C*H*W)
    return xp.mean(xp.sqrt(xp.sum(rows * rows, axis=1)))


def wgan_gp_critic_step(critic: Module, real, fake, alpha, weight: float = 10.0) -> CriticStep:
    """One WGAN-GP critic loss and backward (the chain of the module docstring).

    Parameters
    ----------
    critic : Module
        x -> scores (N, 1), without batch norm.
    real, fake : arrays (N, C, H, W)
        Data and detached samples G(z), in the generator's range.
    alpha : array (N, 1, 1, 1)
        The interpolation weights, U[0, 1].
    weight : float
        lambda.

    Returns
    -------
    CriticStep
        ``critic.gradients()`` holds d(L_W + P)/dtheta afterwards (the step zeroes it first).
    """
    critic.zero_grad()
    x_hat = alpha * real + (1.0 - alpha) * fake  # (N, C, H, W)
    grads = _input_gradient(critic, x_hat)  # g (N, C, H, W)
    penalty, d_grads = gradient_penalty(grads, target=1.0, weight=weight)
    critic.double_backward(d_grads)  # adds dP/dtheta

    xp = namespace_of(real)
    scores = critic(xp.concat([real, fake], axis=0))  # (2N, 1)
    real_scores, fake_scores = scores[:real.shape[0], ...], scores[real.shape[0]:, ...]
    loss, d_real, d_fake = wasserstein_critic_loss(real_scores, fake_scores)
    critic.backward(xp.concat([d_real, d_fake], axis=0))  # adds dL_W/dtheta
    return CriticStep(loss + penalty, penalty, xp.mean(real_scores), xp.mean(fake_scores),
                      _mean_norm(grads))


def r1_discriminator_step(discriminator: Module, real, fake, gamma: float = 10.0) -> CriticStep:
    """The standard GAN's discriminator step plus R1 on the real batch.

    ``discriminator.gradients()`` holds d(L_D + gamma/2 mean ||dD/dx||^2)/dtheta afterwards,
    where D is the logit (the step zeroes the gradients first).
    """
    discriminator.zero_grad()
    grads = _input_gradient(discriminator, real)  # g = d logit / dx (N, C, H, W)
    penalty, d_grads = r1_penalty(grads, gamma)
    discriminator.double_backward(d_grads)  # adds dP/dtheta
    d = discriminator_loss_and_backward(discriminator, real, fake)  # adds dL_D/dtheta
    return CriticStep(d.loss + penalty, penalty, d.d_real, d.d_fake, _mean_norm(grads))


def wgan_generator_step(generator: Module, critic: Module, fake):
    """G's Wasserstein step: L_G = -mean D(G(z)); ADDS dL_G/dtheta_G. Returns L_G (0-d).

    The generator's LAST forward must have produced ``fake``.
    """
    scores = critic(fake)  # (N, 1)
    loss, d_scores = wasserstein_generator_loss(scores)
    generator.backward(critic.backward(d_scores))  # dL_G/d(fake), then into G
    return loss
