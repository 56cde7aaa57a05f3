"""The GAN training loop: alternating D and G steps, evaluation, pictures.

Per step (the two chains are in :mod:`npgen.models.gan_step`)::

    x = to_model(asarray(batch)); z ~ N(0, I); fake = G(z)
    D.zero_grad(); d = discriminator_loss_and_backward(D, x, fake)
    check_finite(d.loss); D_optimizer.step(D.gradients())
    G.zero_grad(); g = generator_loss_and_backward(G, D, fake)
    check_finite(g.loss); G_optimizer.step(G.gradients())

Evaluation after each epoch: for 2-D data the modes covered and the fraction
of high-quality samples (:func:`npgen.metrics.mode_coverage`); for digits the
Inception-style score and Frechet distance of :mod:`npgen.evaluation`.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from npgen import pictures
from npgen.backend import asarray, to_numpy
from npgen.data import iterate_batches, num_batches
from npgen.metrics import mode_coverage
from npgen.models.gan_step import discriminator_loss_and_backward, generator_loss_and_backward
from npgen.training.monitor import check_finite, progress_bar
from npgen.training.penalty_loop import train_penalized_gan_epoch
from npgen.training.run import Run, eval_rng

__all__ = ["gan_epoch_row", "gan_pictures", "sample_scores", "train_gan_epoch"]

_TERMS = ("D loss", "G loss", "D(x)", "D(G(z))")


def _gan_step(run: Run, batch, epoch: int, step: int) -> dict:
    """One D update and one G update on ``batch``; returns the four logged numbers."""
    model, config = run.model, run.config
    generator, discriminator = model.generator, model.discriminator
    x = model.to_model(asarray(batch, dtype=config.dtype))  # (B, ...), host -> backend
    z = run.noise_rng.normal((x.shape[0], model.latent_dim), dtype=config.dtype)  # (B, K)
    fake = generator(z)  # (B, ...); G keeps this forward's cache for its backward below

    discriminator.zero_grad()
    d = discriminator_loss_and_backward(discriminator, x, fake)
    d_values = check_finite({"discriminator loss": d.loss}, epoch, step,
                            run.last_checkpoint)
    run.optimizers["discriminator"].step(discriminator.gradients())

    generator.zero_grad()
    g = generator_loss_and_backward(generator, discriminator, fake)
    g_values = check_finite({"generator loss": g.loss}, epoch, step, run.last_checkpoint)
    run.optimizers["generator"].step(generator.gradients())
    return dict(zip(_TERMS, (d_values["discriminator loss"], g_values["generator loss"],
                             float(d.d_real), float(d.d_fake))))


def train_gan_epoch(run: Run, progress: bool = True) -> dict:
    """Train ``run.model`` for one epoch (last partial batch dropped); returns the means."""
    if run.config.loss != "minimax":  # gradient penalties: k critic steps per G step
        return train_penalized_gan_epoch(run, progress)
    config, epoch, train = run.config, run.epoch + 1, run.data.train
    batches = iterate_batches(train, config.batch_size, rng_or_seed=run.data_rng,
                              drop_last=True)
    bar = progress_bar(batches, num_batches(train.shape[0], config.batch_size, drop_last=True),
                       f"gan epoch {epoch}/{config.epochs}", progress)
    run.model.train()
    sums, count = np.zeros(len(_TERMS)), 0
    for step, batch in enumerate(bar, start=1):
        values = _gan_step(run, batch, epoch, step)
        run.history.add_step(values)
        sums += np.array(list(values.values()))
        count += 1
        bar.set_postfix({k: f"{v:.3f}" for k, v in values.items()})
    bar.close()
    if count == 0:
        raise ValueError(f"train gan: batch size {config.batch_size} exceeds the "
                         f"{train.shape[0]} training examples")
    means = sums / count
    keys = ("train_d_loss", "train_g_loss", "train_d_real", "train_d_fake")
    return dict(zip(keys, (float(v) for v in means)))


def _samples(run: Run, n: int, epoch: int) -> np.ndarray:
    """n samples in data space, drawn in eval mode, on the host."""
    run.model.eval()
    samples = to_numpy(run.model.sample(n, eval_rng(run.config, epoch)))
    run.model.train()
    return samples


def sample_scores(run: Run, samples: np.ndarray) -> dict:
    """Mode statistics (2-D data) or digits scores (8x8 digits; needs npgen.evaluation)."""
    data = run.data
    if data.kind == "points":
        stats = mode_coverage(samples, data.modes, data.mode_std)
        return {"modes_covered": stats.modes_covered, "num_modes": int(data.modes.shape[0]),
                "high_quality_fraction": stats.high_quality_fraction}
    if data.name != "digits" or not run.config.extra.get("scores", True):
        return {}
    try:
        from npgen.evaluation import digits_scores
    except ImportError:  # the evaluation classifier is optional
        return {}
    with warnings.catch_warnings():  # early samples are near-identical: singular covariances
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        scores = digits_scores(samples, data.test, seed=0)
    return {key: float(scores[key]) for key in
            ("inception_score", "real_inception_score", "frechet_distance")}


def gan_epoch_row(run: Run, train_terms: dict) -> dict:
    """The epoch's metrics row: training means plus the sample scores."""
    samples = _samples(run, run.config.eval_samples, run.epoch)
    return {"epoch": run.epoch, **train_terms, **sample_scores(run, samples)}


def gan_pictures(run: Run) -> list:
    """A captioned sample grid (images) or scatter over the modes (2-D), and the loss curves."""
    out, paths, epoch = run.out, [], run.epoch
    if run.data.kind == "image":
        title = f"{run.config.title} samples (z from N(0, I)), epoch {epoch}"
        paths.append(pictures.save_image_grid(_samples(run, 64, -2), out / "samples.png",
                                              nrow=8, title=title))
    else:
        data = run.data
        samples = _samples(run, run.config.eval_samples, -2)
        stats = mode_coverage(samples, data.modes, data.mode_std)
        title = (f"{data.name}, epoch {epoch}: {stats.modes_covered} of {data.modes.shape[0]} "
                 f"modes covered\n{stats.high_quality_fraction:.0%} of {samples.shape[0]} "
                 "samples high quality (within 3 std of a mode)")
        paths.append(pictures.save_scatter_2d(samples, data.modes, out / "samples.png",
                                              real_samples=data.test[:1000], title=title,
                                              mode_radius=3 * data.mode_std))
    steps = run.history.steps
    paths.append(pictures.save_loss_curves({k: steps[k] for k in ("D loss", "G loss")},
                                           out / "loss_curves.png", ylabel="BCE loss",
                                           title=f"GAN losses per step ({epoch} epochs)"))
    paths.append(pictures.save_loss_curves({k: steps[k] for k in ("D(x)", "D(G(z))")},
                                           out / "discriminator_outputs.png",
                                           ylabel="mean D output (probability real)",
                                           title=f"discriminator outputs per step ({epoch} "
                                                 "epochs)"))
    return paths
