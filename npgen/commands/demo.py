"""``npgen demo``: the main job: a conv VAE, a DCGAN and a toy GAN (wall time: README.md).

Trains, one after the other, into ``--out`` (default ``./npgen-demo``):

* ``vae/``:   a convolutional VAE on the 8x8 digits (samples, reconstructions,
  a latent interpolation, loss curves);
* ``dcgan/``: a DCGAN on the 8x8 digits (sample grid, loss curves, and the
  Inception-style score / Frechet distance of :mod:`npgen.evaluation`);
* ``ring/``:  the toy MLP GAN on the ring of 8 Gaussians (scatter over the
  modes, modes covered, high-quality fraction);

then writes ``metrics.json`` (every run's final metrics and seconds) and
prints a summary, each figure beside its reference. Each run keeps its
checkpoint, so ``npgen sample npgen-demo/dcgan/checkpoint.npz --out more.png``
works afterwards. A non-empty ``--out`` is refused unless ``--resume``
(finish an interrupted demo) or ``--overwrite``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from npgen.commands import add_threads_option

HELP = ("train a conv VAE, a DCGAN and a toy GAN (wall time: README.md); pictures + "
        "metrics.json")

# Each recipe meets its quality bar (docs/results.md).
# TrainConfig fields per run (dicts, so that ``npgen --version`` need not import the training
# code; a TrainConfig works as well).
DEMO_CONFIGS = {
    "vae": dict(model="vae", data="digits", arch="conv", epochs=30, batch_size=64, lr=2e-3,
                latent_dim=8, channels=16, iw_samples=50),
    "dcgan": dict(model="gan", data="digits", arch="conv", epochs=30, batch_size=64, lr=5e-4,
                  latent_dim=16, channels=16),
    "ring": dict(model="gan", data="ring", arch="mlp", epochs=40, batch_size=256, lr=1e-3,
                 lr_schedule="cosine", latent_dim=2, hidden=256, depth=2),
}



def add_arguments(parser) -> None:
    parser.add_argument("--out", default="npgen-demo", help="output folder")
    parser.add_argument("--quick", action="store_true",
                        help="one epoch per model (a smoke test of the whole pipeline)")
    parser.add_argument("--resume", action="store_true",
                        help="finish an interrupted demo in --out (finished runs are kept)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier demo's files in a non-empty --out")
    add_threads_option(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _finished_metrics(folder: Path, config) -> dict | None:
    """The metrics of a run in ``folder`` that already reached ``config.epochs``, else None."""
    from npgen.checkpoint import load_checkpoint
    from npgen.training import CHECKPOINT_NAME

    if not (folder / CHECKPOINT_NAME).is_file() or not (folder / "metrics.json").is_file():
        return None
    if load_checkpoint(folder / CHECKPOINT_NAME).epoch < config.epochs:
        return None
    return json.loads((folder / "metrics.json").read_text())["metrics"]


def _train_one(name: str, config, out: Path, args) -> dict:
    from npgen.training import CHECKPOINT_NAME, train

    folder = out / name
    finished = _finished_metrics(folder, config) if args.resume else None
    if finished is not None:
        print(f"[{name}] already finished in {folder} (--resume)")
        return finished
    resume = args.resume and (folder / CHECKPOINT_NAME).is_file()
    print(f"[{name}] {config.model} on {config.data} ({config.arch}), {config.epochs} "
          f"epochs -> {folder}")
    return train(config, folder, resume=resume, overwrite=args.overwrite,
                 progress=not args.no_progress, log=lambda line: None)


def run(args) -> int:
    from npgen.backend import get_backend
    from npgen.training import TrainConfig, limit_threads
    from npgen.training.monitor import write_json
    from npgen.training.run import prepare_folder
    from npgen.training.summary import summary_lines

    out = Path(args.out)
    prepare_folder(out, resume=args.resume, overwrite=args.overwrite, names=("metrics.json",))
    started = time.perf_counter()
    results = {}
    with limit_threads(args.threads):
        for name, values in DEMO_CONFIGS.items():
            config = values if isinstance(values, TrainConfig) else TrainConfig(**values)
            if args.quick:
                config = TrainConfig.from_dict({**config.to_dict(), "epochs": 1,
                                                "eval_samples": 200, "iw_samples": 0})
            results[name] = _train_one(name, config, out, args)
            for line in summary_lines(results[name], config.data):
                print(f"[{name}]   {line}")
    total = time.perf_counter() - started
    write_json(out / "metrics.json", {"backend": get_backend().name, "seconds": total,
                                      "runs": results})
    print(f"npgen demo: {total:.0f} s in total; pictures and metrics.json in {out}/")
    return 0
