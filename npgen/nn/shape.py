"""Shape modules: Flatten and Unflatten (``torch.nn.Flatten`` / ``torch.nn.Unflatten``).

Thin wrappers around :mod:`npgen.functional.shape`; reshapes have no parameters, and their
second order is again a reshape. Their input errors name ``flatten_forward`` and
``unflatten_forward``, the checks they share with the functional names.
"""

from __future__ import annotations

from npgen._checks.layers import check_flatten, check_unflatten, check_unflatten_sizes
from npgen.functional.shape import (
    flatten,
    flatten_backward,
    flatten_double_backward,
    unflatten,
    unflatten_backward,
    unflatten_double_backward,
)
from npgen.nn.module import Module, check_construction_options

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` into one (``torch.nn.Flatten``)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1, *, dtype=None, rng=None,
                 seed=None):
        super().__init__()
        check_construction_options("Flatten", dtype, rng, seed)
        self.start_dim, self.end_dim = start_dim, end_dim

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def forward(self, x):
        xp, start, end = check_flatten("flatten_forward", x, self.start_dim, self.end_dim)
        y, self._cache = flatten(xp, x, start, end)
        return y

    def backward(self, dy):
        self._dy = dy
        return flatten_backward(dy, self._require_cache())

    def double_backward(self, ddx):
        return flatten_double_backward(ddx, self._require_upstream(), self._require_cache())


class Unflatten(Module):
    """Split axis ``dim`` into ``sizes`` (``torch.nn.Unflatten``)."""

    def __init__(self, dim: int, sizes, *, dtype=None, rng=None, seed=None):
        super().__init__()
        check_construction_options("Unflatten", dtype, rng, seed)
        self.dim, self.sizes = dim, check_unflatten_sizes("Unflatten", sizes)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.sizes}"

    def forward(self, x):
        xp, axis, sizes = check_unflatten("unflatten_forward", x, self.dim, self.sizes)
        y, self._cache = unflatten(xp, x, axis, sizes)
        return y

    def backward(self, dy):
        self._dy = dy
        return unflatten_backward(dy, self._require_cache())

    def double_backward(self, ddx):
        return unflatten_double_backward(ddx, self._require_upstream(), self._require_cache())
