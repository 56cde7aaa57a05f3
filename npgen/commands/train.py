"""``npgen train vae|gan``: train a model into a folder (checkpoint, metrics, pictures).

    npgen train vae --data digits --arch mlp --epochs 100 --out runs/vae
    npgen train vae --data mnist:~/data/mnist --arch conv --epochs 5 --out runs/mnist
    npgen train gan --data digits --epochs 60 --out runs/dcgan        # DCGAN on images
    npgen train gan --data ring --epochs 40 --out runs/ring            # toy MLP GAN
    npgen train gan --loss wgan-gp --epochs 400 --out runs/wgan-gp     # WGAN-GP on digits
    npgen train vae --out runs/vae --epochs 200 --resume               # continue a run
"""

from __future__ import annotations

import sys
from pathlib import Path

from npgen.training import NonFiniteLossError, TrainConfig, train

HELP = "train a VAE or a GAN (checkpoints, metrics, pictures in --out)"

# Defaults per model where the two differ (the documented recipes).
_DEFAULTS = {
    "vae": dict(batch_size=64, lr=1e-3, latent_dim=8, hidden=256, depth=3, channels=16,
                lr_schedule="constant"),
    "gan": dict(batch_size=64, lr=5e-4, latent_dim=16, hidden=128, depth=3, channels=16,
                lr_schedule="constant"),
}
_RING_DEFAULTS = dict(batch_size=256, lr=1e-3, latent_dim=2, lr_schedule="cosine", hidden=256,
                      depth=2)


def add_arguments(parser) -> None:
    parser.add_argument("model", choices=("vae", "gan"))
    parser.add_argument("--data", default=None,
                        help="digits (default for vae and gan), ring, grid, mnist:PATH, "
                             "fashion-mnist:PATH, cifar10:PATH")
    parser.add_argument("--arch", choices=("mlp", "conv"), default=None,
                        help="vae: mlp (default) or conv; gan: conv (DCGAN) on images, "
                             "mlp on 2-D points (chosen from the data)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None, help="Adam learning rate")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default=None,
                        help="constant, or cosine annealing over the epochs (default for "
                             "ring/grid)")
    parser.add_argument("--beta", type=float, default=1.0, help="VAE: KL weight")
    parser.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    parser.add_argument("--latent-dim", type=int, default=None)
    parser.add_argument("--hidden", type=int, default=None, help="MLP width")
    parser.add_argument("--depth", type=int, default=None, help="toy GAN: hidden layers")
    parser.add_argument("--channels", type=int, default=None, help="conv width")
    parser.add_argument("--iw-samples", type=int, default=0,
                        help="VAE: k of the final importance-weighted bound (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--out", default="runs/latest", help="output folder")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run saved in --out (its config, these --epochs)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--loss", choices=("minimax", "wgan-gp", "r1"), default="minimax",
                        help="gan: the minimax GAN (default), a Wasserstein GAN with gradient "
                             "penalty, or the minimax GAN with an R1 penalty (both: critic "
                             "without batch norm, Adam lr 1e-4, betas (0, 0.9))")
    parser.add_argument("--critic-steps", type=int, default=None,
                        help="gan: critic steps per generator step (default 5 for wgan-gp, "
                             "else 1)")
    parser.add_argument("--penalty-weight", type=float, default=10.0,
                        help="gan: lambda of wgan-gp, gamma of r1 (default 10)")


def config_from_args(args) -> TrainConfig:
    """A :class:`TrainConfig` from the parsed options and the per-model defaults."""
    data = args.data or "digits"
    defaults = dict(_DEFAULTS[args.model])
    if args.model == "gan" and data in ("ring", "grid"):
        defaults.update(_RING_DEFAULTS)
    arch = args.arch or ("conv" if args.model == "gan" and data not in ("ring", "grid")
                         else "mlp")
    penalized = getattr(args, "loss", "minimax") != "minimax"
    if penalized and args.model != "gan":
        raise ValueError(f"--loss {args.loss} applies to gan only")
    if penalized:
        defaults["lr"] = 1e-4  # the WGAN-GP paper's
    chosen = {name: getattr(args, name) for name in defaults
              if getattr(args, name) is not None}
    gan_loss = dict(loss=args.loss, critic_steps=args.critic_steps,
                    penalty_weight=args.penalty_weight) if penalized else {}
    return TrainConfig(model=args.model, data=data, arch=arch, epochs=args.epochs,
                       beta=args.beta, likelihood=args.likelihood, seed=args.seed,
                       dtype=args.dtype, iw_samples=args.iw_samples,
                       **{**defaults, **chosen}, **gan_loss)


def run(args) -> int:
    try:
        config = config_from_args(args)
        metrics = train(config, Path(args.out), resume=args.resume,
                        progress=not args.no_progress)
    except NonFiniteLossError as exc:
        print(f"npgen train: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as exc:
        print(f"npgen train: {exc}", file=sys.stderr)
        return 2
    shown = {k: v for k, v in metrics.items() if k != "epoch"}
    print(f"done: {args.out}  " + "  ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()))
    return 0
