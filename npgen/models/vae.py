"""Variational autoencoders: an MLP VAE and a convolutional VAE, wired from npgen.nn layers.

Both are a :class:`VAE`: an ``encoder`` x -> h = [mu | logvar] (N, 2K) and a
``decoder`` z -> decoder_out with x's shape (Bernoulli logits, or the mean of
a Gaussian with fixed sigma). The training step that backprops through them
is :func:`npgen.models.vae_step.vae_loss_and_backward`.

=======  =====================  ==========================================
symbol   attribute / argument   meaning
=======  =====================  ==========================================
x        ``x``                  data (N, C, H, W) or (N, F), pixels in [0, 1]
K        ``latent_dim``         size of z
h        encoder output         (N, 2K) = [mu | logvar]
l / m    decoder output         logits / Gaussian mean, x's shape
=======  =====================  ==========================================

MLP (Kingma & Welling 2014, appendix C, with ReLU)::

    encoder: Flatten -> Dense(D, hidden) -> ReLU -> Dense(hidden, 2K)
    decoder: Dense(K, hidden) -> ReLU -> Dense(hidden, D) -> Unflatten(x's shape)

Conv (two stride-2 blocks; H and W must be divisible by 4)::

    encoder: Conv2d(C, c, 4, 2, 1) -> ReLU -> Conv2d(c, 2c, 4, 2, 1) -> ReLU
             -> Flatten -> Dense(2c H/4 W/4, 2K)
    decoder: Dense(K, 2c H/4 W/4) -> ReLU -> Unflatten(2c, H/4, W/4)
             -> ConvTranspose2d(2c, c, 4, 2, 1) -> ReLU -> ConvTranspose2d(c, C, 4, 2, 1)
"""

from __future__ import annotations

import math

from npgen.backend import RNG, namespace_of
from npgen.losses.vae import LIKELIHOODS
from npgen.nn import (
    Conv2d,
    ConvTranspose2d,
    Dense,
    Flatten,
    Module,
    ReLU,
    Sequential,
    Unflatten,
)
from npgen.nn.module import make_rng

__all__ = ["VAE", "conv_vae", "mlp_vae"]


class VAE(Module):
    """An encoder/decoder pair with the likelihood it is trained under.

    Parameters
    ----------
    encoder : Module
        x (N, *feature_shape) -> h (N, 2K).
    decoder : Module
        z (N, K) -> decoder_out (N, *feature_shape).
    feature_shape : tuple of int
        Shape of one example, e.g. (1, 8, 8).
    latent_dim : int
        K.
    likelihood : {"bernoulli", "gaussian"}
    beta, sigma : float
        KL weight and the Gaussian likelihood's fixed standard deviation.

    Notes
    -----
    Parameters are listed as ``encoder.<i>.weight`` and ``decoder.<i>.bias``.
    """

    def __init__(self, encoder: Module, decoder: Module, feature_shape, latent_dim: int,
                 likelihood: str = "bernoulli", beta: float = 1.0, sigma: float = 1.0):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"VAE: likelihood must be one of {LIKELIHOODS}; got {likelihood!r}")
        self.feature_shape = tuple(int(s) for s in feature_shape)
        self.latent_dim = int(latent_dim)
        self.likelihood, self.beta, self.sigma = likelihood, float(beta), float(sigma)
        self._add_child("encoder", encoder)
        self._add_child("decoder", decoder)

    @property
    def encoder(self) -> Module:
        return self._children["encoder"]

    @property
    def decoder(self) -> Module:
        return self._children["decoder"]

    def forward(self, x):
        """The encoder's h = [mu | logvar], (N, 2K) (training goes through vae_step)."""
        return self.encoder(x)

    def backward(self, dy):
        raise RuntimeError("VAE.backward: train with npgen.models.vae_step."
                           "vae_loss_and_backward, which calls decoder and encoder backward")

    def mean_of(self, decoder_out):
        """E[x | z] from the decoder output: sigmoid(l) (Bernoulli) or m (Gaussian)."""
        if self.likelihood == "gaussian":
            return decoder_out
        xp = namespace_of(decoder_out)
        return 1.0 / (1.0 + xp.exp(-decoder_out))

    def decode(self, z):
        """E[x | z] for latents z (N, K), x's shape (pixels in [0, 1] for Bernoulli)."""
        return self.mean_of(self.decoder(z))

    def reconstruct(self, x):
        """E[x | z = mu(x)]: the decoded posterior mean, x's shape."""
        h = self.encoder(x)  # (N, 2K)
        return self.decode(h[:, :self.latent_dim])  # mu: (N, K)

    def sample(self, n: int, rng: RNG):
        """Decode n draws of the prior z ~ N(0, I): E[x | z], (n, *feature_shape)."""
        dtype = next(iter(self.parameters().values())).dtype
        return self.decode(rng.normal((n, self.latent_dim), dtype=dtype))  # z: (n, K)

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, likelihood={self.likelihood!r}, beta={self.beta}"


def mlp_vae(feature_shape, hidden: int = 256, latent_dim: int = 8, *,
            likelihood: str = "bernoulli", beta: float = 1.0, sigma: float = 1.0,
            dtype=None, rng: RNG | None = None, seed: int | None = None) -> VAE:
    """The MLP VAE of the module docstring for examples of ``feature_shape`` (e.g. (1, 8, 8))."""
    rng = make_rng("mlp_vae", rng, seed)
    d = math.prod(feature_shape)
    encoder = Sequential(Flatten(), Dense(d, hidden, dtype=dtype, rng=rng), ReLU(),
                         Dense(hidden, 2 * latent_dim, dtype=dtype, rng=rng))
    decoder = Sequential(Dense(latent_dim, hidden, dtype=dtype, rng=rng), ReLU(),
                         Dense(hidden, d, dtype=dtype, rng=rng),
                         Unflatten(1, tuple(feature_shape)))
    return VAE(encoder, decoder, feature_shape, latent_dim, likelihood, beta, sigma)


def conv_vae(image_shape, channels: int = 16, latent_dim: int = 8, *,
             likelihood: str = "bernoulli", beta: float = 1.0, sigma: float = 1.0,
             dtype=None, rng: RNG | None = None, seed: int | None = None) -> VAE:
    """The conv VAE of the module docstring for images ``(C, H, W)`` with H, W divisible by 4."""
    c_img, height, width = (int(s) for s in image_shape)
    if len(image_shape) != 3 or height % 4 or width % 4:
        raise ValueError("conv_vae: image_shape must be (C, H, W) with H and W divisible by 4; "
                         f"got {tuple(image_shape)}")
    rng = make_rng("conv_vae", rng, seed)
    c = channels
    h4, w4 = height // 4, width // 4
    flat = 2 * c * h4 * w4
    encoder = Sequential(
        Conv2d(c_img, c, 4, 2, 1, dtype=dtype, rng=rng), ReLU(),  # (N, c, H/2, W/2)
        Conv2d(c, 2 * c, 4, 2, 1, dtype=dtype, rng=rng), ReLU(),  # (N, 2c, H/4, W/4)
        Flatten(), Dense(flat, 2 * latent_dim, dtype=dtype, rng=rng))  # (N, 2K)
    decoder = Sequential(
        Dense(latent_dim, flat, dtype=dtype, rng=rng), ReLU(),
        Unflatten(1, (2 * c, h4, w4)),  # (N, 2c, H/4, W/4)
        ConvTranspose2d(2 * c, c, 4, 2, 1, dtype=dtype, rng=rng), ReLU(),  # (N, c, H/2, W/2)
        ConvTranspose2d(c, c_img, 4, 2, 1, dtype=dtype, rng=rng))  # (N, C, H, W)
    return VAE(encoder, decoder, (c_img, height, width), latent_dim, likelihood, beta, sigma)
