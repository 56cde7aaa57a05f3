"""A convolutional VAE on MNIST (or Fashion-MNIST) read from a local folder.

    python examples/conv_vae_mnist.py ~/data/mnist            # the four IDX files
    python examples/conv_vae_mnist.py ~/data/fashion --fashion --backend cupy

Nothing is downloaded: the folder must hold train-images-idx3-ubyte(.gz) and
the other three IDX files (see docs/data.md). The default budget (5 epochs on
20000 training images) takes about 40 s on 2 CPU cores (timed on synthetic
files of MNIST's sizes; no MNIST files were at hand to report a test ELBO).

The step calls the model's backprop chain explicitly:
``vae_loss_and_backward`` runs encoder -> reparameterize -> decoder forward,
then decoder.backward, reparameterize_backward and encoder.backward.
"""

import argparse
import sys
import time

import npgen
from npgen import pictures
from npgen.data import iterate_batches, load_dataset
from npgen.models import conv_vae, evaluate_negative_elbo, vae_loss_and_backward
from npgen.optim import Adam
from npgen.training.threads import set_threads


def load(path, fashion):
    try:
        return load_dataset(f"{'fashion-mnist' if fashion else 'mnist'}:{path}")
    except (FileNotFoundError, ValueError) as exc:
        sys.exit(f"conv_vae_mnist.py: {exc}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="folder with the MNIST IDX files")
    parser.add_argument("--fashion", action="store_true", help="Fashion-MNIST file names")
    parser.add_argument("--backend", default="numpy", choices=npgen.BACKEND_NAMES)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--out", default="runs/conv-vae-mnist", help="output folder")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads (1 suits these small models; 0: library default)")
    args = parser.parse_args()
    npgen.set_backend(args.backend)
    set_threads(args.threads)

    data = load(args.path, args.fashion)  # (60000, 1, 28, 28) in [0, 1], host
    train = data.train[:args.train_size]
    vae = conv_vae((1, 28, 28), channels=16, latent_dim=16, seed=0)  # 28 -> 14 -> 7 and back
    optimizer = Adam(vae.parameters(), lr=1e-3)
    order_rng, noise = npgen.RNG(1, portable=True), npgen.RNG(2)
    for epoch in range(1, args.epochs + 1):
        started, total, count = time.perf_counter(), 0.0, 0
        for batch in iterate_batches(train, 128, rng_or_seed=order_rng):
            x = npgen.asarray(batch, dtype="float32")  # (B, 1, 28, 28), host -> backend
            eps = noise.normal((x.shape[0], vae.latent_dim))
            vae.zero_grad()
            step = vae_loss_and_backward(vae.encoder, vae.decoder, x, eps)  # the chain
            optimizer.step(vae.gradients())
            total, count = total + float(step.loss) * x.shape[0], count + x.shape[0]
        test = evaluate_negative_elbo(vae, data.test[:2000], npgen.RNG(3))
        print(f"epoch {epoch}  train -ELBO {total / count:.2f}  test -ELBO "
              f"{test['negative_elbo']:.2f} nats  ({time.perf_counter() - started:.0f} s)")
    vae.eval()
    pictures.save_image_grid(vae.sample(64, npgen.RNG(4)), f"{args.out}/samples.png", nrow=8,
                             title=f"conv VAE samples, epoch {args.epochs}")
    x = npgen.asarray(data.test[:16], dtype="float32")
    pictures.save_reconstructions(x, vae.reconstruct(x), f"{args.out}/reconstructions.png",
                                  row_labels=("input", "recon."),
                                  title=f"test images and reconstructions, epoch {args.epochs}")
    print(f"pictures in {args.out}/")


if __name__ == "__main__":
    main()
