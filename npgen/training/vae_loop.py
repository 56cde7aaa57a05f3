"""The VAE training loop: one epoch of steps, evaluation, checkpoint, pictures.

Per step (the chain itself is :func:`npgen.models.vae_step.vae_loss_and_backward`)::

    x = asarray(batch); eps ~ N(0, I)
    model.zero_grad()
    step = vae_loss_and_backward(model.encoder, model.decoder, x, eps, likelihood, beta, sigma)
    check_finite(step.loss, step.reconstruction, step.kl)    # stop before a bad update
    optimizer.step(model.gradients())
"""

from __future__ import annotations

import numpy as np

from npgen import pictures
from npgen.backend import asarray, namespace_of, to_numpy
from npgen.data import iterate_batches, num_batches
from npgen.models.vae_eval import evaluate_importance_weighted_bound, evaluate_negative_elbo
from npgen.models.vae_step import vae_loss_and_backward
from npgen.training.monitor import check_finite, progress_bar
from npgen.training.run import Run, eval_rng

__all__ = ["train_vae_epoch", "vae_epoch_row", "vae_final_metrics", "vae_pictures"]


def train_vae_epoch(run: Run, progress: bool = True) -> dict:
    """Train ``run.model`` for one epoch; returns the epoch's mean training terms."""
    model, optimizer, config = run.model, run.optimizers["model"], run.config
    epoch = run.epoch + 1
    train = run.data.train
    batches = iterate_batches(train, config.batch_size, rng_or_seed=run.data_rng)
    bar = progress_bar(batches, num_batches(train.shape[0], config.batch_size),
                       f"vae epoch {epoch}/{config.epochs}", progress)
    sums, count = np.zeros(3), 0
    model.train()
    for step, batch in enumerate(bar, start=1):
        x = asarray(batch, dtype=config.dtype)  # (B, *feature_shape), host -> backend
        eps = run.noise_rng.normal((x.shape[0], model.latent_dim), dtype=config.dtype)
        model.zero_grad()
        result = vae_loss_and_backward(model.encoder, model.decoder, x, eps, model.likelihood,
                                       model.beta, model.sigma)
        values = check_finite({"negative ELBO": result.loss,
                               "reconstruction": result.reconstruction, "KL": result.kl},
                              epoch, step, run.last_checkpoint)
        optimizer.step(model.gradients())
        run.history.add_step(values)
        sums += x.shape[0] * np.array(list(values.values()))
        count += x.shape[0]
        bar.set_postfix({"-elbo": f"{values['negative ELBO']:.2f}",
                         "rec": f"{values['reconstruction']:.2f}", "kl": f"{values['KL']:.2f}"})
    bar.close()
    means = sums / count
    keys = ("train_negative_elbo", "train_reconstruction", "train_kl")
    return dict(zip(keys, (float(v) for v in means)))


def vae_epoch_row(run: Run, train_terms: dict) -> dict:
    """The epoch's metrics row: training means and the test negative ELBO (sampled z)."""
    test = evaluate_negative_elbo(run.model, run.data.test, eval_rng(run.config, run.epoch),
                                  draws=run.config.test_draws)
    return {"epoch": run.epoch, **train_terms, "test_negative_elbo": test["negative_elbo"],
            "test_reconstruction": test["reconstruction"], "test_kl": test["kl"]}


def vae_final_metrics(run: Run) -> dict:
    """Final test metrics: -ELBO averaged over 10 draws of z, and the IW bound if asked."""
    rng = eval_rng(run.config, -1)
    test = evaluate_negative_elbo(run.model, run.data.test, rng, draws=10)
    metrics = {"test_negative_elbo": test["negative_elbo"],
               "test_reconstruction": test["reconstruction"], "test_kl": test["kl"]}
    if run.config.iw_samples > 0:
        metrics[f"test_iw_bound_k{run.config.iw_samples}"] = \
            evaluate_importance_weighted_bound(run.model, run.data.test, rng,
                                               k=run.config.iw_samples)
    return metrics


def vae_pictures(run: Run) -> list:
    """Samples, reconstructions, a latent interpolation and the loss curves (PNG files)."""
    model, out, config = run.model, run.out, run.config
    paths = []
    if run.data.kind == "image":
        model.eval()
        rng = eval_rng(config, -2)
        epoch = run.epoch
        paths.append(pictures.save_image_grid(model.sample(64, rng), out / "samples.png",
                                              nrow=8, title=f"VAE samples (z from the prior), "
                                                            f"epoch {epoch}"))
        x = asarray(run.data.test[:32], dtype=config.dtype)  # (32, C, H, W)
        paths.append(pictures.save_reconstructions(
            x, model.reconstruct(x), out / "reconstructions.png", ncol=8,
            row_labels=("input", "recon."),
            title=f"test images and their reconstructions (mean of p(x|z)), epoch {epoch}"))
        paths.append(pictures.save_interpolation(
            _interpolation(run, x), out / "interpolation.png",
            title=f"decoded straight lines between two test images' codes, epoch {epoch}"))
        model.train()
    curves = {k: v for k, v in run.history.steps.items() if k != "negative ELBO"}
    paths.append(pictures.save_loss_curves(
        {"negative ELBO": run.history.steps["negative ELBO"], **curves},
        out / "loss_curves.png", ylabel="nats per example",
        title=f"VAE training loss per step ({run.epoch} epochs)"))
    return paths


def _interpolation(run: Run, x, rows: int = 4, steps: int = 10):
    """Decoded straight lines between the posterior means of test pairs: (rows, steps, C, H, W)."""
    model = run.model
    mu = model.encoder(x)[:, :model.latent_dim]  # (32, K)
    lines = []
    for r in range(rows):
        start, end = mu[2 * r:2 * r + 1, ...], mu[2 * r + 1:2 * r + 2, ...]  # (1, K) each
        ts = np.linspace(0.0, 1.0, steps)
        z = [start * float(1.0 - t) + end * float(t) for t in ts]  # steps x (1, K)
        xp = namespace_of(start)
        lines.append(to_numpy(model.decode(xp.concat(z, axis=0))))  # (steps, C, H, W)
    return lines
