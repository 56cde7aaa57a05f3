"""scikit-learn's bundled 8x8 handwritten digits: the default data set (no download).

The 1797 images of ``sklearn.datasets.load_digits`` (UCI "Optical Recognition
of Handwritten Digits", 16 gray levels) are scaled to [0, 1] and split with a
seeded permutation: the first 1500 indices of
``np.random.default_rng(seed).permutation(1797)`` are the training set, the
remaining 297 the test set.
"""

from __future__ import annotations

import numpy as np

from npgen.data.dataset import Dataset

__all__ = ["DIGITS_NUM_TRAIN", "load_digits"]

DIGITS_NUM_TRAIN = 1500  # the remaining 297 of the 1797 images are the test set
_DIGITS_MAX_LEVEL = 16.0  # pixels are integers 0..16


def load_digits(*, seed: int = 0) -> Dataset:
    """The 8x8 digits as ``(N, 1, 8, 8)`` float32 images in [0, 1].

    Parameters
    ----------
    seed : int
        Seed of the train/test permutation (same seed, same split).

    Returns
    -------
    Dataset
        ``train`` (1500, 1, 8, 8), ``test`` (297, 1, 8, 8), int64 labels 0..9.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as exc:
        raise ImportError(
            "npgen data set 'digits' needs scikit-learn (it ships the 8x8 digits): "
            'pip install "npgen[examples]" or pip install scikit-learn'
        ) from exc
    bunch = sklearn_load_digits()
    images = (bunch.images / _DIGITS_MAX_LEVEL).astype(np.float32)  # (1797, 8, 8)
    images = images[:, None, :, :]  # (1797, 1, 8, 8)
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(images.shape[0])
    train_idx, test_idx = order[:DIGITS_NUM_TRAIN], order[DIGITS_NUM_TRAIN:]
    return Dataset(
        name="digits",
        kind="image",
        train=images[train_idx],
        test=images[test_idx],
        train_labels=labels[train_idx],
        test_labels=labels[test_idx],
        image_shape=(1, 8, 8),
    )
