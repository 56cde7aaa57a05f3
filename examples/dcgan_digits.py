"""A DCGAN on the 8x8 digits, the discriminator and generator steps written out.

    python examples/dcgan_digits.py               # 30 epochs, ~15 s on 2 CPU cores
    python examples/dcgan_digits.py --backend torch

Per batch: one D update on real and (detached) fake images, then one G
update through the freshly updated D. Who calls whose backward is spelled
out below; docs/models.md draws the same chain.
"""

import argparse

import npgen
from npgen import pictures
from npgen.data import iterate_batches, load_dataset
from npgen.losses import bce_with_logits, gan_generator_loss
from npgen.models import dcgan
from npgen.optim import Adam
from npgen.training.threads import set_threads


def full_like(logits, value):
    xp = npgen.get_backend().xp
    return xp.full(logits.shape, value, dtype=logits.dtype, device=npgen.get_backend().device)


def train_step(G, D, opt_g, opt_d, real, z):
    """One D step and one G step; returns (D loss, G loss)."""
    fake = G(z)  # (B, 1, 8, 8) in [-1, 1]; G keeps its cache for the G step

    D.zero_grad()  # discard what the previous G step left in D's gradients
    real_logits = D(real)  # (B, 1)
    real_loss, d_real = bce_with_logits(real_logits, full_like(real_logits, 1.0))
    D.backward(d_real)  # -E log D(x)
    fake_logits = D(fake)  # fake is used as a constant: G.backward is not called here
    fake_loss, d_fake = bce_with_logits(fake_logits, full_like(fake_logits, 0.0))
    D.backward(d_fake)  # -E log(1 - D(G(z)))
    opt_d.step(D.gradients())

    G.zero_grad()
    g_loss, d_logits = gan_generator_loss(D(fake))  # -E log D(G(z)), through the new D
    d_images = D.backward(d_logits)  # dL_G / d(fake), (B, 1, 8, 8)
    G.backward(d_images)  # into G's parameter gradients
    opt_g.step(G.gradients())
    return float(real_loss + fake_loss), float(g_loss)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", choices=npgen.BACKEND_NAMES)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default="runs/dcgan-digits", help="output folder")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads (1 suits these small models; 0: library default)")
    args = parser.parse_args()
    npgen.set_backend(args.backend)
    set_threads(args.threads)

    data = load_dataset("digits")
    gan = dcgan(data.image_shape, latent_dim=16, width=16, seed=0)  # DCGAN-initialized
    G, D = gan.generator, gan.discriminator
    opt_g = Adam(G.parameters(), lr=5e-4, betas=(0.5, 0.999))
    opt_d = Adam(D.parameters(), lr=5e-4, betas=(0.5, 0.999))
    order_rng, noise = npgen.RNG(1, portable=True), npgen.RNG(2)
    for epoch in range(1, args.epochs + 1):
        losses = [train_step(G, D, opt_g, opt_d, npgen.asarray(2.0 * batch - 1.0, "float32"),
                             noise.normal((batch.shape[0], gan.latent_dim)))
                  for batch in iterate_batches(data.train, 64, rng_or_seed=order_rng,
                                               drop_last=True)]
        d_mean = sum(d for d, _ in losses) / len(losses)
        g_mean = sum(g for _, g in losses) / len(losses)
        print(f"epoch {epoch:3d}  D loss {d_mean:.3f}  G loss {g_mean:.3f}")
    gan.eval()
    samples = gan.sample(64, npgen.RNG(3))  # (64, 1, 8, 8) in [0, 1]
    pictures.save_image_grid(samples, f"{args.out}/samples.png", nrow=8,
                             title=f"DCGAN samples, epoch {args.epochs}")
    try:  # the Inception-style score of npgen's own digits classifier, if available
        from npgen.evaluation import digits_scores

        scores = digits_scores(gan.sample(1000, npgen.RNG(4)), data.test)
        print(f"IS {scores['inception_score']:.2f} (real data {scores['real_inception_score']:.2f})"
              f"  FD {scores['frechet_distance']:.1f}")
    except ImportError:
        pass
    print(f"samples in {args.out}/samples.png")


if __name__ == "__main__":
    main()
