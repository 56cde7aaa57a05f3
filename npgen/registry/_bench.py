"""The registry's benchmark shapes (the ``bench`` field of the module entries): the layers
of the DCGAN 64x64 discriminator (Conv2d, k4 s2 p1) and its generator mirror
(ConvTranspose2d), a batch norm and a dense layer of the MLP VAE. ``npgen bench`` times
each against PyTorch (npgen.bench.cases)."""

from __future__ import annotations

from npgen.registry._types import BenchCase


def conv(c_in: int, c_out: int, size: int, transposed: bool) -> BenchCase:
    """Conv2d / ConvTranspose2d(c_in, c_out, 4, 2, 1) on size x size: halves / doubles it."""
    out = size * 2 if transposed else size // 2
    layer = "ConvTranspose2d" if transposed else "Conv2d"
    kind = "conv_transpose2d" if transposed else "conv2d"
    return BenchCase(f"{kind}-{c_in}-{c_out}-{size}x{size}",
                     f"{layer}({c_in}, {c_out}, 4, 2, 1) fwd+bwd, {size}x{size} -> {out}x{out}",
                     (c_in, c_out, 4, 2, 1), (c_in, size, size), (c_out, out, out), 64, layer)


def batchnorm2d(channels: int, size: int) -> BenchCase:
    shape = (channels, size, size)
    return BenchCase(f"batchnorm2d-{channels}-{size}x{size}",
                     f"BatchNorm2d({channels}) train fwd+bwd, {size}x{size}", (channels,),
                     shape, shape, 64, "BatchNorm2d", seeded=False)


def dense(c_in: int, c_out: int) -> BenchCase:
    return BenchCase(f"dense-{c_in}-{c_out}", f"Dense({c_in}, {c_out}) fwd+bwd", (c_in, c_out),
                     (c_in,), (c_out,), 128, "Linear")


CONV2D = (conv(3, 64, 64, False), conv(64, 128, 32, False), conv(128, 256, 16, False))
CONV_TRANSPOSE2D = (conv(256, 128, 8, True), conv(128, 64, 16, True), conv(64, 3, 32, True))
BATCHNORM2D = (batchnorm2d(128, 16),)
DENSE = (dense(784, 400),)
