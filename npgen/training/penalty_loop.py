"""The gradient-penalty GAN loop (``--loss wgan-gp`` / ``--loss r1``): k D steps per G step.

One logged step is one generator iteration of Gulrajani et al.'s algorithm 1: it consumes
``critic_steps`` batches, one per critic step (the chains are in :mod:`npgen.models.wgan`)::

    for each of the k batches x:
        z ~ N(0, I); fake = G(z); alpha ~ U[0, 1]          (alpha: wgan-gp only)
        c = wgan_gp_critic_step(D, x, fake, alpha, lambda)  or  r1_discriminator_step(D, ...)
        check_finite(c.loss); D_optimizer.step(D.gradients())
    z ~ N(0, I); fake = G(z); G.zero_grad()
    L_G = wgan_generator_step(G, D, fake)  or  generator_loss_and_backward(G, D, fake)
    check_finite(L_G); G_optimizer.step(G.gradients())

The logged "D loss", "D(x)", "D(G(z))", "penalty" and "grad norm" are the last critic
step's; "D(x)" and "D(G(z))" are mean critic scores for wgan-gp, probabilities for r1.
"""

from __future__ import annotations

import numpy as np

from npgen.backend import asarray
from npgen.data import iterate_batches, num_batches
from npgen.models.gan_step import generator_loss_and_backward
from npgen.models.wgan import r1_discriminator_step, wgan_generator_step, wgan_gp_critic_step
from npgen.training.monitor import check_finite, progress_bar
from npgen.training.run import Run

__all__ = ["train_penalized_gan_epoch"]

_TERMS = ("D loss", "G loss", "D(x)", "D(G(z))", "penalty", "grad norm")
_KEYS = ("train_d_loss", "train_g_loss", "train_d_real", "train_d_fake", "train_penalty",
         "train_grad_norm")


def _critic_step(run: Run, batch, epoch: int, step: int):
    model, config = run.model, run.config
    x = model.to_model(asarray(batch, dtype=config.dtype))  # (B, ...), host -> backend
    z = run.noise_rng.normal((x.shape[0], model.latent_dim), dtype=config.dtype)  # (B, K)
    fake = model.generator(z)  # detached: only the critic is updated here
    if config.loss == "wgan-gp":
        alpha_shape = (x.shape[0],) + (1,) * (x.ndim - 1)  # (B, 1, ..., 1): one per example
        alpha = run.noise_rng.uniform(alpha_shape, dtype=config.dtype)
        c = wgan_gp_critic_step(model.discriminator, x, fake, alpha, config.penalty_weight)
    else:
        c = r1_discriminator_step(model.discriminator, x, fake, config.penalty_weight)
    check_finite({"critic loss": c.loss}, epoch, step, run.last_checkpoint)
    run.optimizers["discriminator"].step(model.discriminator.gradients())
    return c


def _generator_step(run: Run, batch_size: int, epoch: int, step: int) -> float:
    model, config = run.model, run.config
    z = run.noise_rng.normal((batch_size, model.latent_dim), dtype=config.dtype)  # (B, K)
    fake = model.generator(z)
    model.generator.zero_grad()
    if config.loss == "wgan-gp":
        loss = wgan_generator_step(model.generator, model.discriminator, fake)
    else:
        loss = generator_loss_and_backward(model.generator, model.discriminator, fake).loss
    values = check_finite({"generator loss": loss}, epoch, step, run.last_checkpoint)
    run.optimizers["generator"].step(model.generator.gradients())
    return values["generator loss"]


def train_penalized_gan_epoch(run: Run, progress: bool = True) -> dict:
    """One pass over the training set, ``critic_steps`` batches per G step; returns means."""
    config, epoch, train = run.config, run.epoch + 1, run.data.train
    k = config.critic_steps
    batches = iterate_batches(train, config.batch_size, rng_or_seed=run.data_rng,
                              drop_last=True)
    total = num_batches(train.shape[0], config.batch_size, drop_last=True) // k
    bar = progress_bar(range(total), total, f"{config.loss} epoch {epoch}/{config.epochs}",
                       progress)
    run.model.train()
    batches = iter(batches)
    sums = np.zeros(len(_TERMS))
    for step in bar:
        for _ in range(k):
            c = _critic_step(run, next(batches), epoch, step + 1)
        g_loss = _generator_step(run, config.batch_size, epoch, step + 1)
        values = dict(zip(_TERMS, (float(c.loss), g_loss, float(c.real_score),
                                   float(c.fake_score), float(c.penalty), float(c.grad_norm))))
        run.history.add_step(values)
        sums += np.array(list(values.values()))
        bar.set_postfix({t: f"{values[t]:.3f}" for t in _TERMS[:3]})
    bar.close()
    if total == 0:
        raise ValueError(f"train gan: {k} critic steps of batch size {config.batch_size} need "
                         f"more than the {train.shape[0]} training examples")
    return dict(zip(_KEYS, (float(v) for v in sums / total)))
