"""A run's live state and its checkpoint: start fresh, save atomically, resume exactly.

Everything that decides the rest of a run is in the checkpoint, so that an
interrupted run, resumed, ends bit-identical to an uninterrupted one (on a
deterministic backend with the same seed):

=====================  =========================================================
checkpoint part        what
=====================  =========================================================
model_state["model"]   parameters and buffers (batch-norm running statistics)
optimizer_state        each Adam's step count, moments and hyperparameters
rng_state["batches"]   the data-order generator (NumPy PCG64), drawn once per epoch
rng_state["noise"]     the noise RNG (eps of the VAE, z of the GAN)
epoch                  finished epochs
config                 :class:`TrainConfig` as a dict
extra["history"]       per-epoch rows and per-step losses so far
extra["feature_shape"] shape of one example (to rebuild the model without the data)
extra["modes"]         the 2-D mixture's modes (None for images), for pictures
=====================  =========================================================

Evaluation draws come from a separate generator seeded by (seed, epoch), so
evaluating never shifts the training streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from npgen.backend import RNG, get_backend
from npgen.checkpoint import load_checkpoint, save_checkpoint
from npgen.data import Dataset
from npgen.training.config import TrainConfig, build_model, build_optimizers, load_data
from npgen.training.monitor import History

__all__ = ["CHECKPOINT_NAME", "Run", "eval_rng", "save_run", "start_run"]

CHECKPOINT_NAME = "checkpoint.npz"


@dataclass
class Run:
    """The live objects of a run (see the module docstring for what is saved)."""

    config: TrainConfig
    data: Dataset
    model: object  # VAE or GAN
    optimizers: dict
    data_rng: np.random.Generator
    noise_rng: RNG
    history: History
    epoch: int  # finished epochs
    out: Path

    @property
    def checkpoint_path(self) -> Path:
        return self.out / CHECKPOINT_NAME

    def last_checkpoint(self) -> Path | None:
        """The checkpoint on disk, if any (what survives a failure)."""
        return self.checkpoint_path if self.checkpoint_path.is_file() else None


def _noise_rng(seed: int) -> RNG:
    # CuPy's native generator cannot be saved: draw on the host there (resumable).
    return RNG(seed, portable=get_backend().name == "cupy")


def eval_rng(config: TrainConfig, epoch: int) -> RNG:
    """A fresh generator for evaluating after ``epoch``, independent of the training streams.

    ``epoch`` -1 is the final evaluation, -2 the pictures.
    """
    seed = int(np.random.SeedSequence([config.seed, 7, epoch + 2]).generate_state(1)[0])
    return RNG(seed, portable=True)


def start_run(config: TrainConfig, out, *, resume: bool = False) -> Run:
    """A new run, or (``resume``) the run saved in ``out/checkpoint.npz``.

    On resume the checkpoint's config is used, except ``epochs``, taken from
    ``config`` (so a run can be extended).
    """
    out = Path(out)
    if resume:
        path = out / CHECKPOINT_NAME
        if not path.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint {path}; start without --resume")
        saved = load_checkpoint(path)
        config = TrainConfig.from_dict({**saved.config, "epochs": config.epochs})
    data = load_data(config)
    model = build_model(config, data.feature_shape)
    run = Run(config, data, model, build_optimizers(config, model),
              np.random.default_rng(config.seed + 1), _noise_rng(config.seed + 2), History(),
              0, out)
    if resume:
        _restore(run, saved)
    return run


def _restore(run: Run, saved) -> None:
    run.model.load_state_dict(saved.model_state["model"])
    for name, optimizer in run.optimizers.items():
        optimizer.load_state_dict(saved.optimizer_state[name])
    run.data_rng.bit_generator.state = saved.rng_state["batches"]
    run.noise_rng.load_state_dict(saved.rng_state["noise"])
    run.history = History.from_state(saved.extra.get("history", {}))
    run.epoch = saved.epoch


def save_run(run: Run) -> Path:
    """Write ``out/checkpoint.npz`` atomically (the old one survives any failure here)."""
    return save_checkpoint(
        run.checkpoint_path,
        model_state={"model": run.model.state_dict()},
        optimizer_state={name: opt.state_dict() for name, opt in run.optimizers.items()},
        rng_state={"batches": run.data_rng.bit_generator.state,
                   "noise": run.noise_rng.state_dict()},
        epoch=run.epoch, config=run.config.to_dict(),
        extra={"history": run.history.state(), "backend": get_backend().name,
               "feature_shape": list(run.data.feature_shape),
               "modes": None if run.data.modes is None else run.data.modes.tolist()},
    )
