"""Modules: thin stateful wrappers over the functional forward/backward pairs (PyTorch layouts)."""

from npgen.nn.conv import Conv2d, ConvTranspose2d
from npgen.nn.layers import (
    BatchNorm1d,
    BatchNorm2d,
    Dense,
    Dropout,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    Tanh,
)
from npgen.nn.module import Module, Sequential
from npgen.nn.shape import Flatten, Unflatten

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
