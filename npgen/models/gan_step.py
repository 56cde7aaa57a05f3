"""The two GAN training steps written out by hand: who calls whose backward, with which gradient.

One iteration (after Goodfellow et al. 2014, algorithm 1, with k = 1 and the
non-saturating generator loss). One difference from the paper: algorithm 1
draws fresh noise for the generator update, while this step reuses the D step's
samples ``fake = G(z)`` (as PyTorch's DCGAN example does), which saves one
generator forward per iteration::

    z ~ N(0, I);  fake = G(z)                     # G keeps its cache for step 2
    1. D step   D.zero_grad()
                r = D(real); D.backward(dL_D/dr)  # real half: -E log D(x)
                f = D(fake); D.backward(dL_D/df)  # fake half: -E log(1 - D(G(z))),
                                                  #   fake is "detached": G.backward is not called
                D_optimizer.step(D.gradients())
    2. G step   G.zero_grad()
                f = D(fake)                       # the UPDATED D on the same samples
                L_G, df = gan_generator_loss(f)
                dfake = D.backward(df)            # dL_G/d(fake); D's parameter gradients
                G.backward(dfake)                 #   are a by-product, discarded by the
                G_optimizer.step(G.gradients())   #   next D step's zero_grad

Why the D step runs real and fake through D separately: a module keeps the
cache of its LAST forward only, so each half is forwarded and backpropagated
before the next forward. Separate halves are also what batch norm in D should
see (PyTorch's DCGAN example does the same). So the step cannot hand both
logits to :func:`npgen.losses.gan_discriminator_loss` at once; it calls that
loss's two halves instead (``discriminator_real_term`` with target
``real_label``, ``discriminator_fake_term`` with target 0), the very functions
``gan_discriminator_loss`` adds up, so L_D is written in one place.
"""

from __future__ import annotations

from typing import NamedTuple

from npgen._checks.losses import check_number
from npgen.backend import namespace_of
from npgen.functional.activations import sigmoid_pair
from npgen.losses.gan import discriminator_fake_term, discriminator_real_term, gan_generator_loss

__all__ = ["DiscriminatorStep", "GeneratorStep", "discriminator_loss_and_backward",
           "generator_loss_and_backward"]


class DiscriminatorStep(NamedTuple):
    """What the D step reports (0-d arrays)."""

    loss: object  # L_D = real_loss + fake_loss
    real_loss: object  # -E log D(x) (BCE with target real_label)
    fake_loss: object  # -E log(1 - D(G(z)))
    d_real: object  # mean D(x) = sigmoid(r)
    d_fake: object  # mean D(G(z)) = sigmoid(f), before the D update


class GeneratorStep(NamedTuple):
    """What the G step reports."""

    loss: object  # 0-d: L_G = -E log D(G(z)) (non-saturating) or E log(1 - D(G(z)))
    d_fake: object  # 0-d: mean D(G(z)) after the D update
    dfake: object  # dL_G / d(fake), fake's shape: what G.backward received


def _mean_probability(logits):
    """mean(sigmoid(logits)), in the stable form (no overflow for any finite logit)."""
    xp = namespace_of(logits)
    return xp.mean(sigmoid_pair(xp, logits)[0])


def discriminator_loss_and_backward(discriminator, real, fake,
                                    real_label: float = 1.0) -> DiscriminatorStep:
    """Forward and backward through D for one real and one (detached) fake batch.

    Parameters
    ----------
    discriminator : Module
        x -> logits (N, 1).
    real : array (N_real, ...)
        Data, in the generator's range.
    fake : array (N_fake, ...)
        G(z); treated as a constant (the generator is not backpropagated).
    real_label : float
        Target of the real half (0.9 for one-sided label smoothing).

    Returns
    -------
    DiscriminatorStep
        D's parameter gradients are ADDED into ``discriminator.gradients()``:
        zero_grad before, step after.
    """
    real_label = check_number("discriminator_loss_and_backward", "real_label", real_label,
                              0.0, 1.0)
    real_logits = discriminator(real)  # (N_real, 1)
    xp = namespace_of(real_logits)
    real_loss, d_real_logits = discriminator_real_term(xp, real_logits, real_label)
    discriminator.backward(d_real_logits)  # the real half's dx is not needed

    fake_logits = discriminator(fake)  # (N_fake, 1)
    fake_loss, d_fake_logits = discriminator_fake_term(xp, fake_logits)
    discriminator.backward(d_fake_logits)  # and the fake half's dx stops here: detached

    real_loss, fake_loss = xp.asarray(real_loss), xp.asarray(fake_loss)  # 0-d arrays
    return DiscriminatorStep(real_loss + fake_loss, real_loss, fake_loss,
                             _mean_probability(real_logits), _mean_probability(fake_logits))


def generator_loss_and_backward(generator, discriminator, fake,
                                saturating: bool = False) -> GeneratorStep:
    """Backward from D's verdict on ``fake`` through D into G.

    Parameters
    ----------
    generator : Module
        Its LAST forward must have produced ``fake`` (its cache is used).
    discriminator : Module
    fake : array (N, ...)
        ``generator(z)``.
    saturating : bool
        As in :func:`npgen.losses.gan_generator_loss`.

    Returns
    -------
    GeneratorStep
        G's parameter gradients are ADDED into ``generator.gradients()``; D's
        gradients also receive a contribution, which the caller discards.
    """
    fake_logits = discriminator(fake)  # (N, 1)
    loss, d_fake_logits = gan_generator_loss(fake_logits, saturating=saturating)
    dfake = discriminator.backward(d_fake_logits)  # (N, ...): dL_G / d(fake)
    generator.backward(dfake)  # into G's parameter gradients
    return GeneratorStep(loss, _mean_probability(fake_logits), dfake)
