"""Modules: thin stateful wrappers over the functional forward/backward pairs (PyTorch layouts)."""

from npgen.nn.module import Module, Sequential

__all__ = ["Module", "Sequential"]
