"""``npgen train vae|gan``: train a model into a folder (checkpoint, metrics, pictures).

    npgen train vae --data digits --arch mlp --epochs 100 --out runs/vae
    npgen train vae --data mnist:~/data/mnist --arch conv --epochs 5 --out runs/mnist
    npgen train vae --data ring --epochs 50 --out runs/vae-ring    # Gaussian likelihood
    npgen train gan --data digits --epochs 60 --out runs/dcgan        # DCGAN on images
    npgen train gan --data ring --epochs 40 --out runs/ring            # toy MLP GAN
    npgen train gan --loss wgan-gp --epochs 400 --out runs/wgan-gp     # WGAN-GP on digits
    npgen train vae --out runs/vae --epochs 200 --resume               # continue a run

A folder that already holds files is refused unless ``--resume`` (continue the
run in it) or ``--overwrite`` (replace it). A resume keeps the checkpoint's
options; passing a different one is an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from npgen.commands import HelpFormatter, add_threads_option, common_options

HELP = "train a VAE or a GAN (checkpoints, metrics, pictures in --out)"
NESTED = True  # ``train vae`` and ``train gan`` are subcommands with their own options

DEFAULT_OUT = "runs/latest"
POINTS = ("ring", "grid")  # data sets of 2-D points; the rest are images

# The GAN's defaults on 2-D points where they differ from its image defaults (the recipes).
_GAN_DEFAULTS = {"images": dict(batch_size=64, lr=5e-4, latent_dim=16, lr_schedule="constant"),
                 "points": dict(batch_size=256, lr=1e-3, latent_dim=2, lr_schedule="cosine")}


class _Given(argparse.Action):
    """Store the value and remember that the user chose it (a resume compares those)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        given = set(getattr(namespace, "given_options", None) or ())
        namespace.given_options = given | {self.dest}


def _option(parser, name: str, **kwargs) -> None:
    parser.add_argument(name, action=_Given, **kwargs)


def _shared_options(parser, model: str) -> None:
    _option(parser, "--data", default="digits",
            help="digits, ring, grid, mnist:PATH, fashion-mnist:PATH, cifar10:PATH")
    _option(parser, "--epochs", type=int, default=10, help="train up to this epoch")
    _option(parser, "--seed", type=int, default=0, help="initialization, data order, noise")
    _option(parser, "--dtype", choices=("float32", "float64"), default="float32",
            help="dtype of parameters and data")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run saved in --out (its options, these --epochs)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the earlier run's files in a non-empty --out")
    add_threads_option(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(model=model)


def _vae_options(parser) -> None:
    _option(parser, "--arch", choices=("mlp", "conv"), default="mlp",
            help="mlp, or conv (images only)")
    _option(parser, "--batch-size", type=int, default=64, help="examples per step")
    _option(parser, "--lr", type=float, default=1e-3, help="Adam learning rate")
    _option(parser, "--lr-schedule", choices=("constant", "cosine"), default="constant",
            help="constant, or cosine annealing over the epochs")
    _option(parser, "--latent-dim", type=int, default=8, help="size of z")
    _option(parser, "--hidden", type=int, default=256, help="MLP width")
    _option(parser, "--channels", type=int, default=16, help="conv width")
    _option(parser, "--beta", type=float, default=1.0, help="weight of the KL term")
    _option(parser, "--likelihood", choices=("bernoulli", "gaussian"), default=None,
            help="p(x|z) (default: gaussian for the 2-D points of ring/grid, bernoulli for "
                 "images in [0, 1])")
    _option(parser, "--sigma", type=float, default=1.0,
            help="standard deviation of the Gaussian likelihood")
    _option(parser, "--iw-samples", type=int, default=0,
            help="k of the final importance-weighted bound (0: skip)")


def _gan_options(parser) -> None:
    _option(parser, "--arch", choices=("mlp", "conv"), default=None,
            help="conv (the DCGAN) for images, mlp for the 2-D points of ring/grid "
                 "(default: chosen from --data; the other is refused)")
    _option(parser, "--batch-size", type=int, default=None,
            help="examples per step (default: 64 on images, 256 on ring/grid)")
    _option(parser, "--lr", type=float, default=None,
            help="Adam learning rate of both networks (default: 5e-4 on images, 1e-3 on "
                 "ring/grid)")
    _option(parser, "--lr-schedule", choices=("constant", "cosine"), default=None,
            help="constant, or cosine annealing over the epochs (default: constant on images, "
                 "cosine on ring/grid)")
    _option(parser, "--latent-dim", type=int, default=None,
            help="size of z (default: 16 on images, 2 on ring/grid)")
    _option(parser, "--hidden", type=int, default=256, help="MLP GAN: width")
    _option(parser, "--depth", type=int, default=2, help="MLP GAN: hidden layers")
    _option(parser, "--channels", type=int, default=16, help="DCGAN: width")
    _option(parser, "--loss", choices=("minimax", "wgan-gp", "r1"), default="minimax",
            help="the minimax GAN, a Wasserstein GAN with gradient penalty, or the minimax GAN "
                 "with an R1 penalty (both penalized: critic without batch norm, Adam lr 1e-4 "
                 "unless --lr is given, betas (0, 0.9))")
    _option(parser, "--critic-steps", type=int, default=None,
            help="critic steps per generator step (default: 5 for wgan-gp, else 1)")
    _option(parser, "--penalty-weight", type=float, default=10.0,
            help="lambda of wgan-gp, gamma of r1")


def add_arguments(parser) -> None:
    models = parser.add_subparsers(dest="model", metavar="MODEL", required=True)
    for model, add, text in (("vae", _vae_options, "train a VAE (MLP or conv)"),
                             ("gan", _gan_options, "train a GAN (DCGAN on images, MLP on "
                                                   "2-D points)")):
        sub = models.add_parser(model, help=text, description=f"{text}. Results go to --out "
                                f"(default {DEFAULT_OUT}/).", parents=[common_options()],
                                formatter_class=HelpFormatter)
        _shared_options(sub, model)
        add(sub)
        sub.set_defaults(select_backend=True)


def config_from_args(args):
    """A :class:`TrainConfig` from the parsed options and the per-model/data defaults."""
    from npgen.training import TrainConfig

    points = args.data in POINTS
    chosen = dict(model=args.model, data=args.data, epochs=args.epochs, seed=args.seed,
                  dtype=args.dtype, batch_size=args.batch_size, lr=args.lr,
                  lr_schedule=args.lr_schedule, latent_dim=args.latent_dim, hidden=args.hidden,
                  channels=args.channels)
    if args.model == "vae":
        chosen.update(arch=args.arch, beta=args.beta, sigma=args.sigma,
                      iw_samples=args.iw_samples,
                      likelihood=args.likelihood or ("gaussian" if points else "bernoulli"))
    else:
        defaults = _GAN_DEFAULTS["points" if points else "images"]
        chosen = {key: defaults[key] if value is None and key in defaults else value
                  for key, value in chosen.items()}
        chosen.update(arch=args.arch or ("mlp" if points else "conv"), depth=args.depth)
        if args.loss != "minimax":  # the WGAN-GP paper's learning rate unless one is given
            lr_given = "lr" in (getattr(args, "given_options", None) or ())
            chosen.update(loss=args.loss, critic_steps=args.critic_steps,
                          penalty_weight=args.penalty_weight, lr=args.lr if lr_given else 1e-4)
    return TrainConfig(**chosen)


def run(args) -> int:
    from npgen.training import limit_threads, train
    from npgen.training.summary import summary_lines

    config = config_from_args(args)
    given = {"model", *(getattr(args, "given_options", None) or ())}
    with limit_threads(args.threads):
        metrics = train(config, Path(args.out), resume=args.resume, overwrite=args.overwrite,
                        given=given, progress=not args.no_progress)
    print(f"done: results in {args.out}/ (checkpoint.npz, metrics.json, history.csv, *.png)")
    for line in summary_lines(metrics, config.data):
        print(f"  {line}")
    sys.stdout.flush()
    return 0
