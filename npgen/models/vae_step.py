"""One VAE training step written out by hand: forward, the negative ELBO, and who backprops what.

    x --encoder--> h = [mu | logvar] --reparameterize(eps)--> z --decoder--> decoder_out
                                                                                |
    loss = reconstruction_nll(x, decoder_out) + beta * gaussian_kl(mu, logvar) <-+

Backward, in reverse: the loss gives d_decoder_out and the KL's (dmu, dlogvar);
``decoder.backward(d_decoder_out)`` returns dz; ``reparameterize_backward(dz)``
turns it into the path-through-z part of (dmu, dlogvar); the two parts add, are
concatenated back into dh and go into ``encoder.backward(dh)``.
"""

from __future__ import annotations

from typing import NamedTuple

from npgen.backend import namespace_of
from npgen.losses.vae import negative_elbo_terms, reparameterize, reparameterize_backward

__all__ = ["VAEStepResult", "split_posterior", "vae_loss_and_backward"]


class VAEStepResult(NamedTuple):
    """Everything a training loop may log or reuse after one step."""

    loss: object  # 0-d: negative ELBO, batch mean in nats
    reconstruction: object  # 0-d: batch mean of -log p(x | z)
    kl: object  # 0-d: batch mean of KL(q(z | x) || N(0, I)), before beta
    mu: object  # (N, K)
    logvar: object  # (N, K)
    z: object  # (N, K)
    decoder_out: object  # x's shape: logits or Gaussian mean
    dx: object  # x's shape: what encoder.backward returned


def split_posterior(h):
    """(mu, logvar) = the first and second halves of h's axis 1, as ``torch.chunk(h, 2, dim=1)``.

    ``h`` has shape (N, 2K); a 2-D array with an even width is required.
    """
    if h.ndim != 2 or h.shape[1] % 2 != 0:
        raise ValueError(
            "vae_loss_and_backward: the encoder must return (N, 2*latent) = [mu | logvar]; "
            f"got shape {tuple(h.shape)}"
        )
    k = h.shape[1] // 2
    return h[:, :k], h[:, k:]  # (N, K), (N, K)


def vae_loss_and_backward(encoder, decoder, x, eps, likelihood: str = "bernoulli",
                          beta: float = 1.0, sigma: float = 1.0) -> VAEStepResult:
    """Forward and backward through encoder, reparameterization and decoder for one batch.

    Parameters
    ----------
    encoder : Module
        x (N, ...) -> h (N, 2K), split by :func:`split_posterior` into mu, logvar.
    decoder : Module
        z (N, K) -> decoder_out with x's shape (logits or Gaussian mean).
    x : array (N, ...)
    eps : array (N, K)
        Standard normal noise, drawn by the caller (fixed eps makes the step
        a deterministic function of the parameters, which gradient checks need).
    likelihood, beta, sigma
        As in :func:`npgen.losses.negative_elbo`.

    Returns
    -------
    VAEStepResult
        Parameter gradients are ADDED into ``encoder.gradients()`` and
        ``decoder.gradients()``: the caller zero_grads before and steps after.
    """
    h = encoder(x)  # (N, 2K)
    mu, logvar = split_posterior(h)  # (N, K) each
    z = reparameterize(mu, logvar, eps)  # (N, K)
    decoder_out = decoder(z)  # x's shape
    terms = negative_elbo_terms(x, decoder_out, mu, logvar, likelihood, beta, sigma)

    # The decoder gets dL/d(decoder_out) from the reconstruction term and returns dL/dz.
    dz = decoder.backward(terms.d_decoder_out)  # (N, K)
    # z = mu + exp(logvar/2) eps sends dz on to mu and logvar ...
    dmu_path, dlogvar_path = reparameterize_backward(dz, mu, logvar, eps)  # (N, K) each
    # ... where it meets the KL term's direct gradients (already times beta).
    dmu = dmu_path + terms.dmu  # (N, K)
    dlogvar = dlogvar_path + terms.dlogvar  # (N, K)
    # Undo the split: dL/dh = [dmu | dlogvar], and the encoder takes it from there.
    xp = namespace_of(h)
    dh = xp.concat([dmu, dlogvar], axis=1)  # (N, 2K)
    dx = encoder.backward(dh)  # x's shape

    return VAEStepResult(terms.value, terms.reconstruction, terms.kl, mu, logvar, z,
                         decoder_out, dx)
