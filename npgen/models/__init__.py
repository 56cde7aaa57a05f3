"""Models: VAE and GAN wiring and their training steps (manual backprop chains).

* :mod:`npgen.models.vae`: :class:`VAE`, :func:`mlp_vae`, :func:`conv_vae`.
* :mod:`npgen.models.vae_step`: :func:`vae_loss_and_backward` (one VAE step).
* :mod:`npgen.models.vae_eval`: test negative ELBO, importance-weighted bound.
* :mod:`npgen.models.gan`: :class:`GAN`, :func:`dcgan`, :func:`mlp_gan`.
* :mod:`npgen.models.gan_step`: the discriminator and generator steps.
* :mod:`npgen.models.wgan`: :func:`wgan_critic`, :func:`penalized_gan` and the
  gradient-penalty steps (WGAN-GP, R1) with their double backward.

The wiring and both backprop chains are drawn in ``docs/models.md``.
"""

from npgen.models.gan import GAN, dcgan, dcgan_geometry, mlp_gan
from npgen.models.gan_step import (
    DiscriminatorStep,
    GeneratorStep,
    discriminator_loss_and_backward,
    generator_loss_and_backward,
)
from npgen.models.vae import VAE, conv_vae, mlp_vae
from npgen.models.vae_eval import (
    evaluate_importance_weighted_bound,
    evaluate_negative_elbo,
    log_importance_weights,
)
from npgen.models.vae_step import VAEStepResult, split_posterior, vae_loss_and_backward
from npgen.models.wgan import (
    CriticStep,
    penalized_gan,
    r1_discriminator_step,
    wgan_critic,
    wgan_generator_step,
    wgan_gp_critic_step,
)

__all__ = [
    "GAN",
    "VAE",
    "CriticStep",
    "DiscriminatorStep",
    "GeneratorStep",
    "VAEStepResult",
    "conv_vae",
    "dcgan",
    "dcgan_geometry",
    "discriminator_loss_and_backward",
    "evaluate_importance_weighted_bound",
    "evaluate_negative_elbo",
    "generator_loss_and_backward",
    "log_importance_weights",
    "mlp_gan",
    "mlp_vae",
    "penalized_gan",
    "r1_discriminator_step",
    "split_posterior",
    "vae_loss_and_backward",
    "wgan_critic",
    "wgan_generator_step",
    "wgan_gp_critic_step",
]
