"""Modules: thin stateful wrappers over the functional forward/backward pairs (PyTorch layouts)."""

from npgen.nn.conv import Conv2d, ConvTranspose2d
from npgen.nn.layers import (
    BatchNorm1d,
    BatchNorm2d,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    Tanh,
    Unflatten,
)
from npgen.nn.module import Module, Sequential

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "ConvTranspose2d",
    "Dense",
    "Dropout",
    "Flatten",
    "LeakyReLU",
    "Linear",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "Unflatten",
]
