"""A VAE on the 8x8 digits, with the backprop chain written out in the loop.

    python examples/vae_digits.py                 # MLP VAE, 30 epochs, ~5 s on 2 CPU cores
    python examples/vae_digits.py --backend torch --epochs 100

Every step: zero the gradients, run the encoder, draw eps, run the decoder,
take the negative ELBO's gradients, and call the decoder's and then the
encoder's backward by hand; then one Adam step.
"""

import argparse

import npgen
from npgen import pictures
from npgen.data import iterate_batches, load_dataset
from npgen.losses import negative_elbo_terms, reparameterize, reparameterize_backward
from npgen.models import evaluate_negative_elbo, mlp_vae, split_posterior
from npgen.optim import Adam
from npgen.training.threads import set_threads


def train_step(vae, optimizer, x, eps):
    """One step; returns the batch's negative ELBO (nats)."""
    vae.zero_grad()
    mu, logvar = split_posterior(vae.encoder(x))  # (B, K) each
    z = reparameterize(mu, logvar, eps)  # (B, K)
    logits = vae.decoder(z)  # (B, 1, 8, 8)
    terms = negative_elbo_terms(x, logits, mu, logvar)  # value and its gradients
    dz = vae.decoder.backward(terms.d_decoder_out)  # (B, K)
    dmu, dlogvar = reparameterize_backward(dz, mu, logvar, eps)  # the path through z ...
    xp = npgen.get_backend().xp
    dh = xp.concat([dmu + terms.dmu, dlogvar + terms.dlogvar], axis=1)  # ... plus the KL's
    vae.encoder.backward(dh)  # parameter gradients accumulate in vae.gradients()
    optimizer.step(vae.gradients())
    return float(terms.value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", choices=npgen.BACKEND_NAMES)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default="runs/vae-digits", help="output folder")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads (1 suits these small models; 0: library default)")
    args = parser.parse_args()
    npgen.set_backend(args.backend)
    set_threads(args.threads)

    data = load_dataset("digits")  # host arrays: train (1500, 1, 8, 8), test (297, 1, 8, 8)
    vae = mlp_vae(data.image_shape, hidden=256, latent_dim=8, seed=0)
    optimizer = Adam(vae.parameters(), lr=1e-3)
    order_rng, noise = npgen.RNG(1, portable=True), npgen.RNG(2)
    for epoch in range(1, args.epochs + 1):
        losses = []
        for batch in iterate_batches(data.train, 64, rng_or_seed=order_rng):
            x = npgen.asarray(batch, dtype="float32")  # host -> backend
            eps = noise.normal((x.shape[0], vae.latent_dim))
            losses.append(train_step(vae, optimizer, x, eps))
        test = evaluate_negative_elbo(vae, data.test, npgen.RNG(3))["negative_elbo"]
        print(f"epoch {epoch:3d}  train -ELBO {sum(losses) / len(losses):7.3f}  "
              f"test -ELBO {test:7.3f} nats")
    vae.eval()
    pictures.save_image_grid(vae.sample(64, npgen.RNG(4)), f"{args.out}/samples.png", nrow=8,
                             title=f"VAE samples, epoch {args.epochs}")
    x = npgen.asarray(data.test[:16], dtype="float32")
    pictures.save_reconstructions(x, vae.reconstruct(x), f"{args.out}/reconstructions.png",
                                  row_labels=("input", "recon."),
                                  title=f"test images and reconstructions, epoch {args.epochs}")
    print(f"pictures in {args.out}/")


if __name__ == "__main__":
    main()
