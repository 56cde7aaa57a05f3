"""The benchmark cases: the same computation built once with npgen and once with PyTorch.

A case is built by ``case.build(impl, batch)`` with ``impl`` "npgen" or "torch"; it returns
``step()``, a function of no arguments that runs ONE iteration (forward + backward, or a full
train step) on data made beforehand. Inputs and weights are drawn on the host with NumPy from
a fixed seed, so both implementations see identical numbers; npgen arrays go to the current
npgen backend (``npgen.asarray``), torch tensors to ``TORCH_DEVICE`` (CPU by default).

The layer cases come from the op registry (each module entry's ``bench`` shapes: the DCGAN
64x64 discriminator's Conv2d k4 s2 p1 layers, their ConvTranspose2d mirror, a BatchNorm2d
and the VAE's first Dense). The train steps, which are not ops, are listed here: the MLP VAE
(784-400-20) with Adam and a 32x32 DCGAN (D and G steps, Adam), whose Sequentials are
written out here in both libraries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

import npgen
import npgen.nn as nn
from npgen.losses import bce_with_logits, gan_generator_loss
from npgen.models.vae_step import vae_loss_and_backward
from npgen.optim import Adam
from npgen.registry import bench_cases

TORCH_DEVICE = "cpu"


class Case(NamedTuple):
    """One benchmark: what it computes and the time ratio it must stay under."""

    name: str
    group: str  # "conv2d", "conv_transpose2d", "batchnorm2d", "dense", "train_step"
    description: str
    batch: int  # default batch size
    target_ratio: float  # npgen time / torch time must be <= this
    build: Callable  # (impl, batch) -> step(): one iteration; train steps return the loss


def _host(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def _to(impl, array):
    if impl == "npgen":
        return npgen.asarray(array, dtype="float32")
    import torch

    return torch.from_numpy(np.ascontiguousarray(array)).to(TORCH_DEVICE)


def _torch_copy(torch_module, npgen_module):
    """Load npgen's initial weights into the torch twin: identical models, identical numbers."""
    import torch

    state = {k: torch.from_numpy(v) for k, v in npgen_module.state_dict().items()}
    torch_module.load_state_dict(state)
    return torch_module.to(TORCH_DEVICE)


# ----------------------------------------------------------------------------
# One layer, forward + backward (the input gradient included, as inside a network)
# ----------------------------------------------------------------------------


def _layer_step(impl, make_npgen, make_torch, x_shape, y_shape):
    """step() = y = layer(x); layer.backward(dy), with fixed x and dy."""
    layer = make_npgen()
    x, dy = _to(impl, _host(x_shape, 1)), _to(impl, _host(y_shape, 2))
    if impl == "npgen":
        def step():
            layer(x)
            layer.backward(dy)
        return step
    torch_layer = _torch_copy(make_torch(), layer)
    x.requires_grad_(True)

    def torch_step():
        torch_layer(x).backward(dy)
    return torch_step


def _layer_case(layer: str, bench) -> Case:
    """The benchmark ``bench`` (a registry BenchCase) of the module ``npgen.nn.<layer>``."""
    seed = {"seed": 0} if bench.seeded else {}

    def build(impl, batch):
        return _layer_step(impl, lambda: getattr(nn, layer)(*bench.args, **seed),
                           lambda: getattr(_torch_nn(), bench.torch_layer)(*bench.args),
                           (batch, *bench.input_shape), (batch, *bench.output_shape))

    return Case(bench.name, bench.group, bench.description, bench.batch, bench.target_ratio,
                build)


def _torch_nn():
    import torch

    return torch.nn


# ----------------------------------------------------------------------------
# Full train steps
# ----------------------------------------------------------------------------


def _vae_modules(lib, hidden=400, latent=20, pixels=784):
    encoder = lib.Sequential(_dense(lib, pixels, hidden), lib.ReLU(),
                             _dense(lib, hidden, 2 * latent))
    decoder = lib.Sequential(_dense(lib, latent, hidden), lib.ReLU(),
                             _dense(lib, hidden, pixels))
    return encoder, decoder


def _dense(lib, c_in, c_out):
    return nn.Dense(c_in, c_out, seed=c_in + c_out) if lib is nn else lib.Linear(c_in, c_out)


def _build_vae(impl, batch):
    """One MLP VAE step: forward, Bernoulli negative ELBO, backward, Adam (lr 1e-3)."""
    encoder, decoder = _vae_modules(nn)
    x_host = (_host((batch, 784), 3) > 0.0).astype(np.float32)
    x, eps = _to(impl, x_host), _to(impl, _host((batch, 20), 4))
    if impl == "npgen":
        params = _prefixed(encoder.parameters(), decoder.parameters())
        grads = _prefixed(encoder.gradients(), decoder.gradients())
        opt = Adam(params, lr=1e-3)

        def step():
            encoder.zero_grad()
            decoder.zero_grad()
            loss = vae_loss_and_backward(encoder, decoder, x, eps).loss
            opt.step(grads)
            return loss
        return step
    import torch
    import torch.nn.functional as F

    t_enc, t_dec = (_torch_copy(t, n) for t, n in zip(_vae_modules(torch.nn), (encoder, decoder)))
    t_opt = torch.optim.Adam([*t_enc.parameters(), *t_dec.parameters()], lr=1e-3)

    def torch_step():
        t_opt.zero_grad()
        mu, logvar = torch.chunk(t_enc(x), 2, dim=1)
        logits = t_dec(mu + torch.exp(0.5 * logvar) * eps)
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = 0.5 * torch.sum(mu**2 + torch.exp(logvar) - 1.0 - logvar)
        loss = (nll + kl) / x.shape[0]
        loss.backward()
        t_opt.step()
        return loss
    return torch_step


def _prefixed(encoder_dict, decoder_dict):
    out = {f"encoder.{k}": v for k, v in encoder_dict.items()}
    out.update({f"decoder.{k}": v for k, v in decoder_dict.items()})
    return out


def _dcgan_modules(lib, nz=100, width=64):
    """32x32 DCGAN: D 3->w->2w->4w->1 logit, G nz->4w->2w->w->3 (k4 s2 p1, BN, no bias)."""
    seed = {"seed": 0} if lib is nn else {}  # npgen's weights are then copied into torch's

    def conv(a, b, s=2, p=1):
        return lib.Conv2d(a, b, 4, s, p, bias=False, **seed)

    def deconv(a, b, s=2, p=1):
        return lib.ConvTranspose2d(a, b, 4, s, p, bias=False, **seed)

    w = width
    disc = lib.Sequential(
        conv(3, w), lib.LeakyReLU(0.2),                               # 32 -> 16
        conv(w, 2 * w), lib.BatchNorm2d(2 * w), lib.LeakyReLU(0.2),   # 16 -> 8
        conv(2 * w, 4 * w), lib.BatchNorm2d(4 * w), lib.LeakyReLU(0.2),  # 8 -> 4
        conv(4 * w, 1, 1, 0), lib.Flatten())                          # 4 -> 1: (N, 1)
    gen = lib.Sequential(
        lib.Unflatten(1, (nz, 1, 1)),
        deconv(nz, 4 * w, 1, 0), lib.BatchNorm2d(4 * w), lib.ReLU(),  # 1 -> 4
        deconv(4 * w, 2 * w), lib.BatchNorm2d(2 * w), lib.ReLU(),     # 4 -> 8
        deconv(2 * w, w), lib.BatchNorm2d(w), lib.ReLU(),             # 8 -> 16
        deconv(w, 3), lib.Tanh())                                     # 16 -> 32
    return disc, gen


def _build_dcgan(impl, batch, nz=100):
    """One DCGAN step: D on real then fake (BCE with logits), Adam; G non-saturating, Adam."""
    disc, gen = _dcgan_modules(nn, nz)
    real, z = _to(impl, np.tanh(_host((batch, 3, 32, 32), 5))), _to(impl, _host((batch, nz), 6))
    ones, zeros = (_to(impl, np.full((batch, 1), v, np.float32)) for v in (1.0, 0.0))
    if impl == "npgen":
        opt_d = Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_g = Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))

        def step():
            disc.zero_grad()
            disc.backward(bce_with_logits(disc(real), ones)[1])
            fake = gen(z)
            disc.backward(bce_with_logits(disc(fake), zeros)[1])
            opt_d.step(disc.gradients())
            gen.zero_grad()
            loss, d_fake_logits = gan_generator_loss(disc(fake))
            gen.backward(disc.backward(d_fake_logits))
            opt_g.step(gen.gradients())
            return loss
        return step
    import torch
    import torch.nn.functional as F

    t_disc, t_gen = (_torch_copy(t, n) for t, n in zip(_dcgan_modules(torch.nn, nz), (disc, gen)))
    t_opt_d = torch.optim.Adam(t_disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    t_opt_g = torch.optim.Adam(t_gen.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def torch_step():
        t_opt_d.zero_grad()
        F.binary_cross_entropy_with_logits(t_disc(real), ones).backward()
        fake = t_gen(z)
        F.binary_cross_entropy_with_logits(t_disc(fake.detach()), zeros).backward()
        t_opt_d.step()
        t_opt_g.zero_grad()
        loss = F.binary_cross_entropy_with_logits(t_disc(fake), ones)
        loss.backward()
        t_opt_g.step()
        return loss
    return torch_step


CASES = (
    # one layer per registry module entry's benchmark shapes (its ``bench`` field)
    *(_layer_case(op.name.removeprefix("nn."), bench) for op, bench in bench_cases()),
    Case("vae-step", "train_step", "MLP VAE 784-400-20 step: forward, -ELBO, backward, Adam",
         128, 1.3, _build_vae),
    Case("dcgan-step", "train_step", "DCGAN 32x32 (width 64, nz 100) D step + G step, Adam",
         64, 1.3, _build_dcgan),
)


def select_cases(patterns=None):
    """The cases whose name starts with one of ``patterns`` (all when None); unknown -> error."""
    if not patterns:
        return list(CASES)
    chosen = [c for c in CASES if any(c.name.startswith(p) for p in patterns)]
    unknown = [p for p in patterns if not any(c.name.startswith(p) for c in CASES)]
    if unknown:
        names = ", ".join(c.name for c in CASES)
        raise ValueError(f"bench: no case starts with {unknown}; the cases are: {names}")
    return chosen
