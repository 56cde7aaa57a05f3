"""A Wasserstein GAN with gradient penalty on the 8x8 digits, the double backward written out.

    python examples/wgan_gp_digits.py                 # 500 epochs, ~2.7 CPU-minutes
    python examples/wgan_gp_digits.py --backend torch

Gulrajani et al. 2017, algorithm 1: 5 critic steps per generator step, lambda = 10,
Adam lr 1e-4, betas (0, 0.9); the critic is the DCGAN discriminator without batch norm.
Each critic step differentiates the critic's own backward (docs/objectives/gradient_penalty.md);
``npgen train gan --loss wgan-gp`` runs the same recipe with checkpoints and scores.
"""

import argparse

import npgen
from npgen import pictures
from npgen.data import iterate_batches, load_dataset
from npgen.losses import gradient_penalty, wasserstein_critic_loss, wasserstein_generator_loss
from npgen.models import penalized_gan
from npgen.optim import Adam
from npgen.training.threads import set_threads

CRITIC_STEPS, LAMBDA = 5, 10.0


def critic_step(G, D, opt_d, real, z, alpha):
    """One critic update on L_W + P; returns (L_W, P)."""
    xp = npgen.get_backend().xp
    fake = G(z)  # (B, 1, 8, 8), detached: G.backward is not called in a critic step
    D.zero_grad()
    x_hat = alpha * real + (1.0 - alpha) * fake  # points between data and samples
    scores = D(x_hat)  # (B, 1)
    grads = D.backward(xp.ones_like(scores))  # g = dD/dx_hat, one row per example
    D.zero_grad()  # drop dD/dtheta; the caches and the ones stay for the second order
    penalty, d_grads = gradient_penalty(grads, target=1.0, weight=LAMBDA)
    D.double_backward(d_grads)  # adds dP/dtheta = d<dP/dg, g>/dtheta
    scores = D(xp.concat([real, fake], axis=0))  # (2B, 1): one pass, no batch norm
    n = real.shape[0]
    loss, d_real, d_fake = wasserstein_critic_loss(scores[:n, ...], scores[n:, ...])
    D.backward(xp.concat([d_real, d_fake], axis=0))  # adds dL_W/dtheta
    opt_d.step(D.gradients())
    return float(loss), float(penalty)


def generator_step(G, D, opt_g, z):
    """One generator update on -mean D(G(z)); returns that loss."""
    G.zero_grad()
    loss, d_scores = wasserstein_generator_loss(D(G(z)))
    G.backward(D.backward(d_scores))  # through the critic into G
    opt_g.step(G.gradients())
    return float(loss)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", choices=npgen.BACKEND_NAMES)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--out", default="runs/wgan-gp-digits", help="output folder")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads (1 suits these small models; 0: library default)")
    args = parser.parse_args()
    npgen.set_backend(args.backend)
    set_threads(args.threads)

    data = load_dataset("digits")
    gan = penalized_gan(data.image_shape, latent_dim=16, width=16, seed=0)
    G, D = gan.generator, gan.discriminator
    opt_g = Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_d = Adam(D.parameters(), lr=1e-4, betas=(0.0, 0.9))
    order_rng, noise = npgen.RNG(1, portable=True), npgen.RNG(2)
    for epoch in range(1, args.epochs + 1):
        batches = list(iterate_batches(data.train, 64, rng_or_seed=order_rng, drop_last=True))
        for start in range(0, len(batches) - CRITIC_STEPS + 1, CRITIC_STEPS):
            for batch in batches[start:start + CRITIC_STEPS]:
                real = npgen.asarray(2.0 * batch - 1.0, "float32")  # [0, 1] -> [-1, 1]
                z = noise.normal((real.shape[0], gan.latent_dim))
                loss, penalty = critic_step(G, D, opt_d, real, z,
                                            noise.uniform((real.shape[0], 1, 1, 1)))
            g_loss = generator_step(G, D, opt_g, noise.normal((64, gan.latent_dim)))
        if epoch % 25 == 0 or epoch in (1, args.epochs):
            print(f"epoch {epoch:3d}  critic L_W {loss:.3f}  penalty {penalty:.3f}  "
                  f"G loss {g_loss:.3f}")
    gan.eval()
    pictures.save_image_grid(gan.sample(64, npgen.RNG(3)), f"{args.out}/samples.png", nrow=8,
                             title=f"WGAN-GP samples, epoch {args.epochs}")
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
