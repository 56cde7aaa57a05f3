"""The two 2-D Gaussian mixtures used to study mode collapse in GANs.

* ``ring``: 8 components with means on a circle of radius 2 (angles 2 pi k / 8),
  standard deviation 0.02 (the mixture of Metz et al., "Unrolled Generative
  Adversarial Networks", 2017).
* ``grid``: 25 components with means on the 5x5 grid {-4, -2, 0, 2, 4}^2,
  standard deviation 0.05 (the grid of Srivastava et al., "VEEGAN", 2017, also
  used by PacGAN).

A point is drawn by picking a component uniformly and adding isotropic
Gaussian noise; the label of a point is the index of its component.
"""

from __future__ import annotations

import numpy as np

from npgen.data.dataset import Dataset

__all__ = ["GRID_STD", "RING_STD", "grid_modes", "load_toy2d", "ring_modes", "sample_mixture"]

RING_RADIUS, RING_COUNT, RING_STD = 2.0, 8, 0.02
GRID_VALUES, GRID_STD = (-4.0, -2.0, 0.0, 2.0, 4.0), 0.05


def ring_modes() -> np.ndarray:
    """The 8 ring means, ``(8, 2)`` float32, starting at angle 0 counter-clockwise."""
    angles = 2.0 * np.pi * np.arange(RING_COUNT) / RING_COUNT  # (8,)
    return (RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def grid_modes() -> np.ndarray:
    """The 25 grid means, ``(25, 2)`` float32, row-major over (x, y)."""
    xs, ys = np.meshgrid(GRID_VALUES, GRID_VALUES, indexing="ij")  # (5, 5) each
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)  # (25, 2)


def sample_mixture(modes: np.ndarray, std: float, n: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the equal-weight mixture of N(modes[m], std^2 I).

    Returns
    -------
    points : ndarray, float32, shape (n, 2)
    labels : ndarray, int64, shape (n,)
        The component each point was drawn from.
    """
    labels = rng.integers(0, modes.shape[0], size=n).astype(np.int64)  # (n,)
    noise = rng.normal(0.0, std, size=(n, modes.shape[1]))  # (n, 2)
    return (modes[labels] + noise).astype(np.float32), labels


def load_toy2d(name: str, *, seed: int = 0, num_train: int = 10000,
               num_test: int = 2000) -> Dataset:
    """The ``"ring"`` or ``"grid"`` mixture: seeded ``(num_train, 2)`` / ``(num_test, 2)`` points.

    The training points are drawn first, then the test points, from
    ``np.random.default_rng(seed)``; ``modes`` and ``mode_std`` describe the
    mixture for :func:`npgen.metrics.mode_coverage`.
    """
    tables = {"ring": (ring_modes, RING_STD), "grid": (grid_modes, GRID_STD)}
    if name not in tables:
        raise ValueError(f"load_toy2d: name must be 'ring' or 'grid'; got {name!r}")
    if num_train < 1 or num_test < 1:
        raise ValueError(f"load_toy2d: need positive sizes; got {num_train=}, {num_test=}")
    make_modes, std = tables[name]
    modes = make_modes()
    rng = np.random.default_rng(seed)
    train, train_labels = sample_mixture(modes, std, num_train, rng)
    test, test_labels = sample_mixture(modes, std, num_test, rng)
    return Dataset(name=name, kind="points", train=train, test=test,
                   train_labels=train_labels, test_labels=test_labels,
                   image_shape=None, modes=modes, mode_std=std)
