"""GAN models: the DCGAN pair sized from the image shape, and a toy MLP pair for 2-D data.

Both are a :class:`GAN` holding a ``generator`` z (N, K) -> x and a
``discriminator`` x -> logits (N, 1). The training step that backprops
through them is in :mod:`npgen.models.gan_step`.

DCGAN (Radford et al. 2016, section 3 and 4), for images (C, H, W) scaled to
[-1, 1]. H is halved n times (while it is even and above 4, and at least
twice) down to a base size b: 8 -> b = 2, n = 2; 28 -> b = 7, n = 2;
32 -> b = 4, n = 3. With w the width at full resolution::

    generator:     z (N, K) -> Unflatten (N, K, 1, 1)
                   -> ConvTranspose2d(K, w 2^(n-1), b, 1, 0) -> BatchNorm2d -> ReLU  (N, ., b, b)
                   -> [ConvTranspose2d(c, c/2, 4, 2, 1) -> BatchNorm2d -> ReLU] x (n - 1)
                   -> ConvTranspose2d(w, C, 4, 2, 1) -> Tanh                         (N, C, H, W)
    discriminator: x -> Conv2d(C, w, 4, 2, 1) -> LeakyReLU(0.2)
                   -> [Conv2d(c, 2c, 4, 2, 1) -> BatchNorm2d -> LeakyReLU(0.2)] x (n - 1)
                   -> Conv2d(w 2^(n-1), 1, b, 1, 0) -> Flatten                     (N, 1)

Convolutions followed by batch norm have no bias (the norm's shift replaces
it); all weights start DCGAN style (:func:`npgen.init.dcgan_init`).

Toy GAN for 2-D mixtures (the usual recipe of the mode-collapse papers)::

    generator:     z (N, K) -> [Dense -> ReLU] x depth -> Dense(hidden, 2)
    discriminator: x (N, 2) -> [Dense -> ReLU] x depth -> Dense(hidden, 1)
"""

from __future__ import annotations

from npgen.backend import RNG
from npgen.init import dcgan_init
from npgen.nn import (
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    Dense,
    Flatten,
    LeakyReLU,
    Module,
    ReLU,
    Sequential,
    Tanh,
    Unflatten,
)
from npgen.nn.module import make_rng

__all__ = ["GAN", "dcgan", "dcgan_geometry", "mlp_gan"]


class GAN(Module):
    """A generator/discriminator pair (parameters ``generator.*``, ``discriminator.*``).

    Parameters
    ----------
    generator : Module
        z (N, K) -> x (N, *feature_shape), in [-1, 1] for images.
    discriminator : Module
        x -> logits (N, 1).
    feature_shape : tuple of int
    latent_dim : int
    image : bool
        True for DCGANs, whose samples are mapped from [-1, 1] to [0, 1] by
        :meth:`to_data`; the toy GAN's points are used as they are.
    """

    def __init__(self, generator: Module, discriminator: Module, feature_shape,
                 latent_dim: int, image: bool):
        super().__init__()
        self.feature_shape = tuple(int(s) for s in feature_shape)
        self.latent_dim, self.image = int(latent_dim), bool(image)
        self._add_child("generator", generator)
        self._add_child("discriminator", discriminator)

    @property
    def generator(self) -> Module:
        return self._children["generator"]

    @property
    def discriminator(self) -> Module:
        return self._children["discriminator"]

    def forward(self, z):
        """G(z) in the generator's range."""
        return self.generator(z)

    def backward(self, dy):
        raise RuntimeError("GAN.backward: train with npgen.models.gan_step, which calls the "
                           "discriminator's and the generator's backward in turn")

    def to_model(self, x):
        """Data in [0, 1] -> the generator's range [-1, 1] (images); points unchanged."""
        return 2.0 * x - 1.0 if self.image else x

    def to_data(self, x):
        """Inverse of :meth:`to_model`."""
        return (x + 1.0) / 2.0 if self.image else x

    def sample(self, n: int, rng: RNG):
        """n samples G(z), z ~ N(0, I), in data space ([0, 1] pixels or 2-D points)."""
        dtype = next(iter(self.parameters().values())).dtype
        return self.to_data(self.generator(rng.normal((n, self.latent_dim), dtype=dtype)))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}"


def dcgan_geometry(image_shape) -> tuple[int, int]:
    """(base size b, number of stride-2 blocks n) for square images (C, H, H)."""
    if len(image_shape) != 3 or image_shape[1] != image_shape[2]:
        raise ValueError(f"dcgan: need square images (C, H, H); got {tuple(image_shape)}")
    base, doublings = int(image_shape[1]), 0
    while base % 2 == 0 and (base > 4 or doublings < 2):
        base, doublings = base // 2, doublings + 1
    if doublings < 2 or base < 2:
        raise ValueError(f"dcgan: image size {image_shape[1]} must be b * 2^n with n >= 2 and "
                         "b >= 2 (e.g. 8, 28, 32, 64)")
    return base, doublings


def _dcgan_generator(image_shape, latent_dim, width, base, n, dtype, rng) -> Sequential:
    channels = width * 2 ** (n - 1)
    layers = [Unflatten(1, (latent_dim, 1, 1)),  # (N, K, 1, 1)
              ConvTranspose2d(latent_dim, channels, base, 1, 0, bias=False, dtype=dtype, rng=rng),
              BatchNorm2d(channels, dtype=dtype), ReLU()]  # (N, channels, b, b)
    for _ in range(n - 1):  # each block doubles H and W and halves the channels
        layers += [ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False, dtype=dtype,
                                   rng=rng), BatchNorm2d(channels // 2, dtype=dtype), ReLU()]
        channels //= 2
    layers += [ConvTranspose2d(channels, image_shape[0], 4, 2, 1, dtype=dtype, rng=rng),
               Tanh()]  # (N, C, H, W)
    return Sequential(*layers)


def _dcgan_discriminator(image_shape, width, base, n, dtype, rng) -> Sequential:
    layers = [Conv2d(image_shape[0], width, 4, 2, 1, dtype=dtype, rng=rng),
              LeakyReLU(0.2)]  # (N, w, H/2, W/2)
    channels = width
    for _ in range(n - 1):  # batch norm from the second block on
        layers += [Conv2d(channels, 2 * channels, 4, 2, 1, bias=False, dtype=dtype, rng=rng),
                   BatchNorm2d(2 * channels, dtype=dtype), LeakyReLU(0.2)]
        channels *= 2
    layers += [Conv2d(channels, 1, base, 1, 0, dtype=dtype, rng=rng),  # (N, 1, 1, 1)
               Flatten()]  # (N, 1)
    return Sequential(*layers)


def dcgan(image_shape, latent_dim: int = 32, width: int = 32, *, dtype=None,
          rng: RNG | None = None, seed: int | None = None) -> GAN:
    """The DCGAN of the module docstring for images ``(C, H, H)``, DCGAN-initialized."""
    rng = make_rng("dcgan", rng, seed)
    base, n = dcgan_geometry(image_shape)
    generator = _dcgan_generator(image_shape, latent_dim, width, base, n, dtype, rng)
    discriminator = _dcgan_discriminator(image_shape, width, base, n, dtype, rng)
    model = GAN(generator, discriminator, image_shape, latent_dim, image=True)
    dcgan_init(model, rng)
    return model


def _mlp(sizes, dtype, rng) -> Sequential:
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(n_in, n_out, dtype=dtype, rng=rng))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Sequential(*layers)


def mlp_gan(data_dim: int = 2, latent_dim: int = 2, hidden: int = 128, depth: int = 3, *,
            dtype=None, rng: RNG | None = None, seed: int | None = None) -> GAN:
    """The toy GAN: generator and discriminator MLPs with ``depth`` ReLU layers of ``hidden``."""
    rng = make_rng("mlp_gan", rng, seed)
    generator = _mlp([latent_dim] + [hidden] * depth + [data_dim], dtype, rng)
    discriminator = _mlp([data_dim] + [hidden] * depth + [1], dtype, rng)
    return GAN(generator, discriminator, (data_dim,), latent_dim, image=False)
