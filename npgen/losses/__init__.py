"""Objectives with their gradients: each returns a 0-d loss (``float()`` works) and dL/d(inputs).

* ``basic``: :func:`mse`, :func:`bce_with_logits` (PyTorch's reductions).
* ``vae``: :func:`gaussian_kl`, :func:`reparameterize` / :func:`reparameterize_backward`,
  :func:`reconstruction_nll`, :func:`negative_elbo` (and :func:`negative_elbo_terms`).
* ``gan``: :func:`gan_discriminator_loss`, :func:`gan_generator_loss`, and the
  Wasserstein pair :func:`wasserstein_critic_loss`, :func:`wasserstein_generator_loss`.
* ``penalties``: :func:`gradient_penalty` (WGAN-GP), :func:`r1_penalty` on a critic's
  input gradient (docs/objectives/gradient_penalty.md).

Derivations: ``docs/objectives/elbo.md`` and ``docs/objectives/gan.md``.
"""

from npgen.losses.basic import bce_with_logits, mse
from npgen.losses.gan import (
    gan_discriminator_loss,
    gan_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from npgen.losses.penalties import gradient_penalty, r1_penalty
from npgen.losses.vae import (
    LIKELIHOODS,
    ELBOTerms,
    NegativeELBO,
    gaussian_kl,
    negative_elbo,
    negative_elbo_terms,
    reconstruction_nll,
    reparameterize,
    reparameterize_backward,
)

__all__ = [
    "LIKELIHOODS",
    "ELBOTerms",
    "NegativeELBO",
    "bce_with_logits",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "gaussian_kl",
    "gradient_penalty",
    "mse",
    "negative_elbo",
    "negative_elbo_terms",
    "r1_penalty",
    "reconstruction_nll",
    "reparameterize",
    "reparameterize_backward",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
