"""Training runs: loops with progress bars, per-epoch metrics, atomic checkpoints, pictures.

:func:`train` runs a :class:`TrainConfig` into a folder::

    out/checkpoint.npz     after every epoch, atomically (see npgen.training.run)
    out/history.csv/json   one row of metrics per epoch
    out/metrics.json       the final metrics
    out/*.png              samples, reconstructions, interpolation, curves

The steps themselves live in :mod:`npgen.models` (``vae_step``, ``gan_step``).
"""

from __future__ import annotations

import time
from pathlib import Path

from npgen.training.config import (
    TrainConfig,
    build_model,
    build_optimizers,
    epoch_lr,
    load_data,
)
from npgen.training.gan_loop import gan_epoch_row, gan_pictures, train_gan_epoch
from npgen.training.monitor import History, NonFiniteLossError, check_finite, write_json
from npgen.training.run import CHECKPOINT_NAME, OUTPUT_FILES, Run, save_run, start_run
from npgen.training.threads import limit_threads
from npgen.training.vae_loop import (
    train_vae_epoch,
    vae_epoch_row,
    vae_final_metrics,
    vae_pictures,
)

__all__ = [
    "CHECKPOINT_NAME",
    "History",
    "OUTPUT_FILES",
    "NonFiniteLossError",
    "Run",
    "TrainConfig",
    "build_model",
    "build_optimizers",
    "check_finite",
    "limit_threads",
    "load_data",
    "save_run",
    "start_run",
    "train",
]


def _fmt(row: dict) -> str:
    return "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in row.items())


def train(config: TrainConfig, out, *, resume: bool = False, overwrite: bool = False,
          given=None, progress: bool = True, make_pictures: bool = True, log=print) -> dict:
    """Run (or resume) ``config`` into the folder ``out``; returns the final metrics.

    A new run refuses a non-empty ``out`` unless ``overwrite`` (which deletes
    the earlier run's files first); ``resume`` refuses a config that differs
    from the checkpoint's in the fields named by ``given`` (None: all but
    ``epochs``). See :func:`npgen.training.run.start_run`.

    Raises
    ------
    ValueError
        ``out`` cannot be used, the resume would change the run, or an option
        does not fit the data (e.g. the conv VAE on 2-D points).
    NonFiniteLossError
        A loss term became NaN or infinite; ``out/checkpoint.npz`` still holds
        the last good epoch.
    """
    started = time.perf_counter()
    run = start_run(config, Path(out), resume=resume, overwrite=overwrite, given=given)
    vae = run.config.model == "vae"
    train_epoch, epoch_row = (train_vae_epoch, vae_epoch_row) if vae else \
        (train_gan_epoch, gan_epoch_row)
    if resume:
        log(f"resuming {run.checkpoint_path} after epoch {run.epoch}")
    while run.epoch < run.config.epochs:
        for optimizer in run.optimizers.values():
            optimizer.lr = epoch_lr(run.config, run.epoch)
        terms = train_epoch(run, progress)
        run.epoch += 1
        row = epoch_row(run, terms)
        run.history.add_epoch(row)
        run.history.write(run.out)
        save_run(run)
        log(_fmt(row))
    metrics = dict(run.history.rows[-1]) if run.history.rows else {}
    if vae and run.history.rows:
        metrics.update(vae_final_metrics(run))
    metrics["seconds"] = time.perf_counter() - started
    if make_pictures and run.history.steps:
        (vae_pictures if vae else gan_pictures)(run)
    write_json(run.out / "metrics.json", {"config": run.config.to_dict(), "metrics": metrics})
    return metrics
