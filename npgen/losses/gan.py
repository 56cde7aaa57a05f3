"""GAN objectives on discriminator logits, plus the Wasserstein critic pair.

Symbols (as in ``docs/objectives/gan.md``):

=======  ======================  ================================================
symbol   argument                meaning
=======  ======================  ================================================
r        ``real_logits``         D's logits on data x, D(x) = sigmoid(r), any shape
f        ``fake_logits``         D's logits on samples G(z), any shape
α        ``real_label``          target for real data (1, or e.g. 0.9 when smoothed)
n_r      ``real_logits.size``    number of elements of r (its mean divides by it)
n_f      ``fake_logits.size``    number of elements of f
=======  ======================  ================================================

    L_D = mean softplus(-r) + mean softplus(f)  = -E log D(x) - E log(1 - D(G(z)))
    L_G = mean softplus(-f)                     = -E log D(G(z))     (non-saturating)
    L_G = -mean softplus(f)                     =  E log(1 - D(G(z))) (saturating)

since -log sigmoid(a) = softplus(-a) and -log(1 - sigmoid(a)) = softplus(a).
Goodfellow et al. 2014, "Generative Adversarial Nets", eq. 1 and section 3.
Means run over all elements of each array; real and fake batches may differ
in size but must share library, device and dtype.
"""

from __future__ import annotations

import math

from npgen._checks.losses import check_logit_pair, check_logits, check_number
from npgen._checks.primitives import check_flag
from npgen.losses._common import as_0d, bce_terms

__all__ = [
    "gan_discriminator_loss",
    "gan_generator_loss",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]


def gan_discriminator_loss(real_logits, fake_logits, real_label: float = 1.0):
    """The discriminator's cross-entropy: mean softplus(-r) + mean softplus(f).

    Parameters
    ----------
    real_logits : array (N_real, ...)
        Logits of D on data.
    fake_logits : array (N_fake, ...)
        Logits of D on generated samples.
    real_label : float in [0, 1]
        Target for the real term. 1.0 (default) is the GAN loss; e.g. 0.9 is
        one-sided label smoothing (Salimans et al. 2016, section 3.4): the real
        term becomes BCE(r, 0.9) = mean(softplus(r) - 0.9 r). Fake targets stay 0.

    Returns
    -------
    loss : 0-d array
    d_real_logits : array, real_logits' shape
        ``(sigmoid(r) - real_label) / n_r`` (= ``-sigmoid(-r) / n_r`` at 1).
    d_fake_logits : array, fake_logits' shape
        ``sigmoid(f) / N_fake``.
    """
    where = "gan_discriminator_loss"
    xp, _, _ = check_logit_pair(where, real_logits, fake_logits, "real_logits", "fake_logits")
    real_label = check_number(where, "real_label", real_label, 0.0, 1.0)
    real_loss, d_real = discriminator_real_term(xp, real_logits, real_label)
    fake_loss, d_fake = discriminator_fake_term(xp, fake_logits)
    return as_0d(xp, real_loss + fake_loss), d_real, d_fake


def discriminator_real_term(xp, real_logits, real_label: float):
    """L_D's real half -E log D(x) = mean(softplus(r) - alpha r), and (sigmoid(r) - alpha) / n_r.

    With alpha = ``real_label`` (1, or e.g. 0.9 smoothed). Unchecked: called by
    :func:`gan_discriminator_loss` and by the GAN step, which runs the real and fake
    halves through D one after the other (npgen/models/gan_step.py).
    """
    return _mean_bce(xp, real_logits, real_label)  # -log D(x), smoothed


def discriminator_fake_term(xp, fake_logits):
    """L_D's fake half -E log(1 - D(G(z))) = mean softplus(f), and sigmoid(f) / n_f (unchecked)."""
    return _mean_bce(xp, fake_logits, 0.0)  # fake targets stay 0


def _mean_bce(xp, logits, target: float):
    """mean BCE(l, t) over all elements of l, and its gradient (sigmoid(l) - t) / n."""
    n = float(math.prod(logits.shape))
    terms, dlogits = bce_terms(xp, logits, target)
    return xp.sum(terms) / n, dlogits / n


def gan_generator_loss(fake_logits, saturating: bool = False):
    """The generator's loss on D's logits for its samples.

    Parameters
    ----------
    fake_logits : array (N, ...)
    saturating : bool
        False (default): the non-saturating ``mean softplus(-f) = -E log D(G(z))``.
        True: the original minimax ``-mean softplus(f) = E log(1 - D(G(z)))``.

    Returns
    -------
    loss : 0-d array
    d_fake_logits : array, fake_logits' shape
        non-saturating ``-sigmoid(-f) / n_f``; saturating ``-sigmoid(f) / n_f``.

    Notes
    -----
    When D rejects the samples confidently (f -> -inf, early in training),
    the saturating gradient -sigmoid(f)/N vanishes while the non-saturating
    one tends to -1/N: the reason Goodfellow et al. train G with the latter.
    """
    where = "gan_generator_loss"
    xp, _ = check_logits(where, fake_logits, "fake_logits")
    check_flag(where, "saturating", saturating)
    if saturating:
        loss, d_fake = _mean_bce(xp, fake_logits, 0.0)  # mean softplus(f), sigmoid(f) / n
        return as_0d(xp, -loss), -d_fake
    loss, d_fake = _mean_bce(xp, fake_logits, 1.0)  # mean softplus(-f), -sigmoid(-f) / n
    return as_0d(xp, loss), d_fake


def wasserstein_critic_loss(real_scores, fake_scores):
    """WGAN critic loss mean(f) - mean(r) on unbounded critic scores (Arjovsky et al. 2017).

    The critic maximizes E C(x) - E C(G(z)), i.e. minimizes this. The
    Lipschitz constraint (weight clipping or a gradient penalty) is not part
    of this function.

    Returns
    -------
    loss : 0-d array
    d_real_scores : array, real_scores' shape, every entry ``-1 / n_r``
    d_fake_scores : array, fake_scores' shape, every entry ``1 / N_fake``
    """
    xp, n_real, n_fake = check_logit_pair("wasserstein_critic_loss", real_scores, fake_scores,
                                          "real_scores", "fake_scores")
    loss = xp.sum(fake_scores) / n_fake - xp.sum(real_scores) / n_real
    d_real = _constant_like(xp, real_scores, -1.0 / n_real)
    d_fake = _constant_like(xp, fake_scores, 1.0 / n_fake)
    return as_0d(xp, loss), d_real, d_fake


def wasserstein_generator_loss(fake_scores):
    """WGAN generator loss -mean(f); returns ``(loss, d_fake_scores)`` with entries ``-1 / n_f``."""
    xp, n = check_logits("wasserstein_generator_loss", fake_scores, "fake_scores")
    return as_0d(xp, -xp.sum(fake_scores) / n), _constant_like(xp, fake_scores, -1.0 / n)


def _constant_like(xp, x, value: float):
    """An array of x's shape, dtype and device filled with ``value``."""
    return xp.full_like(x, value)
