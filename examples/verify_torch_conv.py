"""Verify PyTorch's convolutions against npgen, then a whole torch model through the bridge.

    python examples/verify_torch_conv.py [--max-examples 50] [--seed 0] [--show-bug]

1. ``npgen.verify`` runs torch.nn.functional.conv2d / conv_transpose2d (float64, gradients
   from autograd via ``torch_vjp``) and npgen on Hypothesis-generated geometries.
2. ``--show-bug`` also verifies a conv2d that pads on one side only, to show the minimal
   failing configuration that shrinking reports.
3. ``compare_with_torch`` converts a small DCGAN-style generator to npgen and compares its
   output, input gradient, every parameter gradient and the batch-norm buffers.
Needs PyTorch (pip install "npgen[torch]").

There is no ``--backend`` flag, unlike the other examples: npgen's reference side of
``npgen.verify`` and ``compare_with_torch`` always runs on NumPy in float64, and the code
under test is torch, so an npgen backend would change nothing here.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import npgen.verify
from npgen.interop.torch import compare_with_torch, from_torch, torch_vjp


def conv_transpose2d(x, weight, bias, stride, padding, output_padding, dilation):
    """npgen's argument order (dilation last) mapped onto torch's keywords."""
    return F.conv_transpose2d(x, weight, bias, stride=stride, padding=padding,
                              output_padding=output_padding, dilation=dilation)


def conv2d_padding_one_side(x, weight, bias, stride, padding, dilation):
    """A plausible bug: all of the padding goes to the top and the left."""
    x = F.pad(x, (2 * padding[1], 0, 2 * padding[0], 0))
    return F.conv2d(x, weight, bias, stride, 0, dilation)


def verify_functional(max_examples: int, seed: int, show_bug: bool) -> None:
    options = dict(array_library="torch", max_examples=max_examples, seed=seed)
    print(npgen.verify.verify_conv2d(F.conv2d, torch_vjp(F.conv2d, 3), **options))
    print(npgen.verify.verify_conv_transpose2d(conv_transpose2d, torch_vjp(conv_transpose2d, 3),
                                               **options))
    if show_bug:
        report = npgen.verify.verify_conv2d(conv2d_padding_one_side, raise_exception=False,
                                            **options)
        print(report)


def generator() -> nn.Sequential:
    """A DCGAN-style generator: latent (N, 8) -> image (N, 1, 8, 8)."""
    return nn.Sequential(
        nn.Linear(8, 16 * 2 * 2), nn.Unflatten(1, (16, 2, 2)), nn.BatchNorm2d(16), nn.ReLU(),
        nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1), nn.Tanh(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show-bug", action="store_true",
                        help="also verify a deliberately wrong conv2d")
    args = parser.parse_args()
    verify_functional(args.max_examples, args.seed, args.show_bug)

    torch.manual_seed(args.seed)
    model = generator()
    z = np.random.default_rng(args.seed).standard_normal((4, 8))
    print(compare_with_torch(model, z))  # training mode: batch statistics
    print(compare_with_torch(model.eval(), z))  # eval mode: running statistics
    twin = from_torch(model)  # an npgen Sequential with the same weights, ready to use
    print(f"npgen twin: {len(twin)} layers, {len(twin.parameters())} parameter arrays")


if __name__ == "__main__":
    main()
