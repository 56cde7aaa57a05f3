"""A GAN on the ring of 8 Gaussians: the classic mode-collapse test, with the chain written out.

    python examples/gan_ring.py                   # 40 epochs, ~20 s on 2 CPU cores
    python examples/gan_ring.py --backend torch

Success: all 8 modes covered and most samples within 3 standard deviations
(0.06) of a mode (npgen.metrics.mode_coverage).
"""

import argparse

import npgen
from npgen import pictures
from npgen.data import iterate_batches, load_dataset
from npgen.losses import bce_with_logits, gan_generator_loss
from npgen.metrics import mode_coverage
from npgen.models import mlp_gan
from npgen.optim import Adam, cosine_lr
from npgen.training.threads import set_threads


def full_like(logits, value):
    xp = npgen.get_backend().xp
    return xp.full(logits.shape, value, dtype=logits.dtype, device=npgen.get_backend().device)


def train_step(G, D, opt_g, opt_d, real, z):
    fake = G(z)  # (B, 2)
    D.zero_grad()
    real_logits = D(real)
    D.backward(bce_with_logits(real_logits, full_like(real_logits, 1.0))[1])  # -E log D(x)
    fake_logits = D(fake)
    d_loss = bce_with_logits(fake_logits, full_like(fake_logits, 0.0))
    D.backward(d_loss[1])  # -E log(1 - D(G(z))); fake stays detached
    opt_d.step(D.gradients())

    G.zero_grad()
    g_loss, d_logits = gan_generator_loss(D(fake))  # non-saturating -E log D(G(z))
    G.backward(D.backward(d_logits))  # D hands dL/d(fake) to G
    opt_g.step(G.gradients())
    return float(g_loss)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", choices=npgen.BACKEND_NAMES)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", default="runs/gan-ring", help="output folder")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads (1 suits these small models; 0: library default)")
    args = parser.parse_args()
    npgen.set_backend(args.backend)
    set_threads(args.threads)

    data = load_dataset("ring")  # 10000 training points, modes (8, 2), std 0.02
    gan = mlp_gan(data_dim=2, latent_dim=2, hidden=256, depth=2, seed=0)
    G, D = gan.generator, gan.discriminator
    opt_g = Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    order_rng, noise = npgen.RNG(1, portable=True), npgen.RNG(2)
    for epoch in range(args.epochs):
        opt_g.lr = opt_d.lr = cosine_lr(epoch, 1e-3, args.epochs)  # anneal to sharpen modes
        for batch in iterate_batches(data.train, 256, rng_or_seed=order_rng, drop_last=True):
            g_loss = train_step(G, D, opt_g, opt_d, npgen.asarray(batch, "float32"),
                                noise.normal((batch.shape[0], gan.latent_dim)))
        stats = mode_coverage(gan.sample(2000, npgen.RNG(3)), data.modes, data.mode_std)
        print(f"epoch {epoch + 1:3d}  G loss {g_loss:.3f}  modes {stats.modes_covered}/8  "
              f"high quality {stats.high_quality_fraction:.0%}")
    samples = gan.sample(2000, npgen.RNG(4))
    stats = mode_coverage(samples, data.modes, data.mode_std)
    pictures.save_scatter_2d(samples, data.modes, f"{args.out}/samples.png",
                             real_samples=data.test, mode_radius=3 * data.mode_std,
                             title=f"ring, epoch {args.epochs}: {stats.modes_covered} of 8 modes "
                                   f"covered\n{stats.high_quality_fraction:.0%} high quality "
                                   "(within 3 std of a mode)")
    print(f"scatter in {args.out}/samples.png")


if __name__ == "__main__":
    main()
