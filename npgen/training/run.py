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

The output folder is checked before anything is trained (:func:`prepare_folder`):
a folder holding an earlier run is refused unless the run is resumed or
``overwrite`` replaces npgen's files in it; a resume must name the same
model, data and architecture and may change nothing but ``epochs``.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from npgen.backend import RNG, get_backend
from npgen.checkpoint import load_checkpoint, remove_stale_temporaries, save_checkpoint
from npgen.data import Dataset
from npgen.training.config import TrainConfig, build_model, build_optimizers, load_data
from npgen.training.monitor import History

__all__ = ["CHECKPOINT_NAME", "OUTPUT_FILES", "Run", "eval_rng", "prepare_folder", "save_run",
           "start_run"]

CHECKPOINT_NAME = "checkpoint.npz"

# Every file a run may write into its folder (VAE and GAN, images and points).
OUTPUT_FILES = (CHECKPOINT_NAME, "history.csv", "history.json", "metrics.json", "samples.png",
                "reconstructions.png", "interpolation.png", "loss_curves.png",
                "discriminator_outputs.png")


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


def prepare_folder(out: Path, *, resume: bool = False, overwrite: bool = False,
                   names: Iterable[str] = OUTPUT_FILES) -> None:
    """Make ``out`` ready for a run, or raise ``ValueError`` saying why it cannot be used.

    Removes temporary files a crashed write left; refuses a file, an unwritable
    folder, and (unless ``resume``) a non-empty folder, whose earlier outputs
    ``overwrite`` deletes instead (other files are left alone).
    """
    if out.exists() and not out.is_dir():
        raise ValueError(f"output folder {out} is a file; choose another --out")
    remove_stale_temporaries(out, names)
    if out.is_dir() and not resume and any(out.iterdir()):
        if not overwrite:
            raise ValueError(f"output folder {out} is not empty (an earlier run?); pass "
                             "--resume to continue it, --overwrite to replace it, or choose "
                             "another --out")
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                (out / name).unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()  # can we write here?
    except OSError as exc:
        raise ValueError(f"cannot write to output folder {out}: {exc.strerror}") from exc


_DEFINES_THE_RUN = ("model", "data", "arch")


def check_resume(saved: dict, config: TrainConfig, given: Iterable[str] | None,
                 saved_epoch: int, path: Path) -> None:
    """Refuse a resume that would change the run: another model, data, arch or option.

    ``given`` names the config fields the caller chose (None: all of them); only
    those are compared, except ``model``, which always is. ``epochs`` must exceed
    the checkpoint's epoch, otherwise nothing would be trained.
    """
    wanted = config.to_dict()
    compared = set(wanted) if given is None else set(given) | {"model"}
    for name in _DEFINES_THE_RUN:
        if name in compared and saved.get(name) != wanted[name]:
            raise ValueError(f"--resume: {path} is a {saved.get('model')} run on "
                             f"{saved.get('data')} ({saved.get('arch')}); cannot resume it "
                             f"with {name} {wanted[name]!r}")
    changed = [f"--{name.replace('_', '-')} {wanted[name]!r} (checkpoint: {saved.get(name)!r})"
               for name in sorted(compared - {"epochs", *_DEFINES_THE_RUN})
               if saved.get(name) != wanted[name]]
    if changed:
        raise ValueError(f"--resume keeps the checkpoint's options; these differ: "
                         f"{', '.join(changed)}. Drop them, or start a new run")
    if config.epochs <= saved_epoch:
        raise ValueError(f"--resume: nothing to train, {path} is already at epoch {saved_epoch} "
                         f"and --epochs is {config.epochs}; pass --epochs > {saved_epoch}")


def check_config_for_data(config: TrainConfig, data: Dataset) -> None:
    """Refuse options that do not fit the data (instead of ignoring them)."""
    points = data.kind == "points"
    if config.model == "vae" and config.arch == "conv" and points:
        raise ValueError(f"the conv VAE needs images (C, H, W); {data.name} holds 2-D points: "
                         "use --arch mlp")
    if config.model == "vae" and points and config.likelihood == "bernoulli":
        raise ValueError(f"the Bernoulli likelihood needs values in [0, 1]; {data.name} holds "
                         "real-valued 2-D points: use --likelihood gaussian")
    if config.model == "gan" and config.arch == "mlp" and not points:
        raise ValueError(f"the MLP GAN is for 2-D points (ring, grid); on the images of "
                         f"{data.name} the GAN is the DCGAN: use --arch conv")
    if config.model == "gan" and config.arch == "conv" and points:
        raise ValueError(f"the DCGAN needs images (C, H, W); {data.name} holds 2-D points: "
                         "use --arch mlp")


def start_run(config: TrainConfig, out, *, resume: bool = False, overwrite: bool = False,
              given: Iterable[str] | None = None) -> Run:
    """A new run, or (``resume``) the run saved in ``out/checkpoint.npz``.

    On resume the checkpoint's config is used, except ``epochs``, taken from
    ``config`` (so a run can be extended); :func:`check_resume` refuses any
    other difference among the fields named in ``given`` (None: every field).
    A new run refuses a non-empty ``out`` unless ``overwrite``
    (:func:`prepare_folder`).
    """
    out = Path(out)
    prepare_folder(out, resume=resume, overwrite=overwrite)
    if resume:
        path = out / CHECKPOINT_NAME
        if not path.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint {path}; start without --resume")
        try:
            saved = load_checkpoint(path)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"--resume: {path} has missing or malformed metadata ({exc!r}); "
                             "not a training checkpoint") from exc
        if not isinstance(saved.config, dict) or "model" not in saved.config:
            raise ValueError(f"--resume: {path} is not a training checkpoint (its config "
                             "lacks 'model')")
        check_resume(saved.config, config, given, saved.epoch, path)
        config = TrainConfig.from_dict({**saved.config, "epochs": config.epochs})
    data = load_data(config)
    check_config_for_data(config, data)
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
