"""``npgen demo``: the main job in about three minutes on two CPU cores.

Trains, one after the other, into ``--out`` (default ``./npgen-demo``):

* ``vae/``:   a convolutional VAE on the 8x8 digits (samples, reconstructions,
  a latent interpolation, loss curves);
* ``dcgan/``: a DCGAN on the 8x8 digits (sample grid, loss curves, and the
  Inception-style score / Frechet distance of :mod:`npgen.evaluation`);
* ``ring/``:  the toy MLP GAN on the ring of 8 Gaussians (scatter over the
  modes, modes covered, high-quality fraction);

then writes ``metrics.json`` (every run's final metrics and seconds) and
prints a summary. Each run keeps its checkpoint, so ``npgen sample
npgen-demo/dcgan/checkpoint.npz --out more.png`` works afterwards.
"""

from __future__ import annotations

import time
from pathlib import Path

from npgen.backend import get_backend
from npgen.training import TrainConfig, train
from npgen.training.monitor import write_json

HELP = "train a conv VAE, a DCGAN and a toy GAN (< 1 min on 2 cores); pictures + metrics.json"

# Budgets: 5 s, 11 s and 17 s on two quiet CPU cores (docs/results.md); each meets its bar.
DEMO_CONFIGS = {
    "vae": TrainConfig(model="vae", data="digits", arch="conv", epochs=30, batch_size=64,
                       lr=2e-3, latent_dim=8, channels=16, iw_samples=50),
    "dcgan": TrainConfig(model="gan", data="digits", arch="conv", epochs=30, batch_size=64,
                         lr=5e-4, latent_dim=16, channels=16),
    "ring": TrainConfig(model="gan", data="ring", arch="mlp", epochs=40, batch_size=256,
                        lr=1e-3, lr_schedule="cosine", latent_dim=2, hidden=256, depth=2),
}

_SUMMARY_KEYS = {
    "vae": ("test_negative_elbo", "test_iw_bound_k50"),
    "dcgan": ("inception_score", "real_inception_score", "frechet_distance"),
    "ring": ("modes_covered", "high_quality_fraction"),
}


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="npgen-demo", help="output folder (./npgen-demo)")
    parser.add_argument("--quick", action="store_true",
                        help="one epoch per model (a smoke test of the whole pipeline)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args) -> int:
    out = Path(args.out)
    started = time.perf_counter()
    results = {}
    for name, config in DEMO_CONFIGS.items():
        if args.quick:
            config = TrainConfig.from_dict({**config.to_dict(), "epochs": 1,
                                            "eval_samples": 200, "iw_samples": 0})
        print(f"[{name}] {config.model} on {config.data} ({config.arch}), {config.epochs} "
              f"epochs -> {out / name}")
        metrics = train(config, out / name, progress=not args.no_progress,
                        log=lambda line: None)
        results[name] = metrics
        print(f"[{name}] " + _summary(name, metrics))
    total = time.perf_counter() - started
    write_json(out / "metrics.json", {"backend": get_backend().name, "seconds": total,
                                      "runs": results})
    print(f"npgen demo: {total:.0f} s in total; pictures and metrics.json in {out}")
    return 0


def _summary(name: str, metrics: dict) -> str:
    parts = [f"{key}={metrics[key]:.4g}" for key in _SUMMARY_KEYS[name] if key in metrics]
    parts.append(f"{metrics['seconds']:.0f} s")
    return "  ".join(parts)
