"""``npgen sample CHECKPOINT --n N --out FILE``: draw samples from a trained model.

``FILE`` ending in ``.png`` gets a picture (an image grid, or for 2-D data a
scatter over the mixture's modes); ending in ``.npz`` it gets the raw samples
under the key ``samples`` (images with pixels in [0, 1], points as they are).
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np

HELP = "draw samples from a checkpoint into a PNG grid or an .npz file"


def add_arguments(parser) -> None:
    parser.add_argument("checkpoint", help="a checkpoint.npz written by npgen train / demo")
    parser.add_argument("--n", type=int, default=64, help="number of samples")
    parser.add_argument("--out", required=True, help="output file: .png or .npz")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent draws")


def load_model(path):
    """(model in eval mode, config, checkpoint) rebuilt from a training checkpoint."""
    from npgen.checkpoint import load_checkpoint
    from npgen.training import TrainConfig, build_model

    path = Path(path)
    if path.is_file() and not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a checkpoint (an .npz file written by npgen train or "
                         f"npgen demo, e.g. runs/latest/checkpoint.npz)")
    try:
        saved = load_checkpoint(path)
        config = TrainConfig.from_dict(saved.config)
        model = build_model(config, tuple(saved.extra["feature_shape"]))
        model.load_state_dict(saved.model_state["model"])
    except (KeyError, TypeError, ValueError) as exc:
        detail = f"lacks {exc}" if isinstance(exc, KeyError) else " ".join(str(exc).split())
        raise ValueError(f"{path} is not a usable npgen training checkpoint (missing or "
                         f"malformed metadata: {detail})") from exc
    return model.eval(), config, saved


def draw_samples(model, n: int, seed: int) -> np.ndarray:
    """n samples in data space on the host (pixels in [0, 1] or 2-D points)."""
    from npgen.backend import RNG, to_numpy

    samples = to_numpy(model.sample(n, RNG(seed, portable=True)))
    return np.clip(samples, 0.0, 1.0) if len(model.feature_shape) == 3 else samples


def run(args) -> int:
    out = Path(args.out)
    if out.suffix not in (".png", ".npz") or args.n < 1:
        print("npgen sample: --out must end in .png or .npz and --n be >= 1", file=sys.stderr)
        return 2
    from npgen import pictures
    from npgen.checkpoint import atomic_write

    model, config, saved = load_model(args.checkpoint)  # errors: one line (npgen.cli)
    samples = draw_samples(model, args.n, args.seed)
    if out.suffix == ".npz":
        with atomic_write(out) as handle:
            np.savez(handle, samples=samples)
    elif samples.ndim == 4:
        pictures.save_image_grid(samples, out, title=f"{config.title} samples ({config.data}), "
                                 f"epoch {saved.epoch}")
    else:
        _save_scatter(samples, config, saved, out)
    print(f"wrote {args.n} samples of the {config.model} ({config.data}, epoch "
          f"{saved.epoch}) to {out}")
    return 0


def _save_scatter(samples: np.ndarray, config, saved, out: Path) -> None:
    """The samples over the data's modes, with the mode coverage in the title."""
    from npgen import pictures
    from npgen.metrics import mode_coverage
    from npgen.training import load_data

    data = load_data(config)  # its modes and their standard deviation
    stats = mode_coverage(samples, data.modes, data.mode_std)
    title = (f"{config.data} {config.model}, epoch {saved.epoch}: {stats.modes_covered} of "
             f"{data.modes.shape[0]} modes covered\n{stats.high_quality_fraction:.0%} of "
             f"{samples.shape[0]} samples high quality (within 3 std of a mode)")
    pictures.save_scatter_2d(samples, data.modes, out, real_samples=data.test[:1000],
                             title=title, mode_radius=3 * data.mode_std)
