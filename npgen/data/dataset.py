"""The :class:`Dataset` record every loader returns (host NumPy arrays)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset"]


@dataclass(frozen=True, eq=False)  # arrays make field-wise == ambiguous
class Dataset:
    """A train/test split held on the host as NumPy arrays.

    Attributes
    ----------
    name : str
        ``"digits"``, ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``, ``"ring"``
        or ``"grid"``.
    kind : str
        ``"image"`` (``train`` is ``(N, C, H, W)``) or ``"points"`` (``train``
        is ``(N, 2)``).
    train, test : ndarray, float32
        ``(N_train, *feature_shape)`` and ``(N_test, *feature_shape)``; images
        have pixels in [0, 1].
    train_labels, test_labels : ndarray of int64 or None
        ``(N_train,)`` and ``(N_test,)``: the class of each image, or the
        index of the mode a toy point was drawn from.
    image_shape : tuple of int or None
        ``(C, H, W)`` for images, None for points.
    modes : ndarray or None
        ``(M, 2)`` mode centers of a toy 2-D mixture (None for images).
    mode_std : float or None
        Standard deviation of every toy mixture component (None for images).
    """

    name: str
    kind: str
    train: np.ndarray
    test: np.ndarray
    train_labels: np.ndarray | None
    test_labels: np.ndarray | None
    image_shape: tuple[int, int, int] | None = None
    modes: np.ndarray | None = None
    mode_std: float | None = None

    def __post_init__(self):
        for split in ("train", "test"):  # an empty split would train on / report NaN
            values = getattr(self, split)
            if values.ndim < 2 or 0 in values.shape:
                raise ValueError(f"npgen data set {self.name!r}: the {split} split must hold at "
                                 f"least one example of non-zero size; got shape "
                                 f"{tuple(values.shape)}")

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Shape of one example: ``(C, H, W)`` or ``(2,)``."""
        return tuple(self.train.shape[1:])

    @property
    def num_features(self) -> int:
        """Number of values in one example (the input size of an MLP)."""
        return int(np.prod(self.feature_shape))

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, kind={self.kind!r}, train={self.train.shape}, "
            f"test={self.test.shape}, image_shape={self.image_shape})"
        )

