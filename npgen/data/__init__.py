"""Data sets on the host: 8x8 digits (default), MNIST, Fashion-MNIST, CIFAR-10, toy 2-D.

Everything here returns NumPy float32 arrays; a training loop moves batches to
the compute backend with ``npgen.asarray``. Nothing is ever downloaded: the
files of the larger data sets are read from a local folder named in the spec.

==========================  ======================================================
spec                        data
==========================  ======================================================
``digits``                  scikit-learn's 8x8 digits, (N, 1, 8, 8), 1500/297 split
``mnist:PATH``              MNIST IDX files in PATH, (N, 1, 28, 28)
``fashion-mnist:PATH``      Fashion-MNIST IDX files in PATH, (N, 1, 28, 28)
``cifar10:PATH``            CIFAR-10 python batches in PATH, (N, 3, 32, 32)
``ring``                    8 Gaussians on a circle, (N, 2)
``grid``                    25 Gaussians on a 5x5 grid, (N, 2)
==========================  ======================================================

See ``docs/data.md`` for file names, folder layouts and the split rules.
"""

from __future__ import annotations

from npgen.data.batches import iterate_batches, num_batches
from npgen.data.cifar import CIFAR10_FILES, load_cifar10, read_cifar_batch
from npgen.data.dataset import Dataset
from npgen.data.digits import load_digits
from npgen.data.idx import IDX_FILES, load_idx_dataset, read_idx
from npgen.data.toy2d import grid_modes, load_toy2d, ring_modes, sample_mixture

__all__ = [
    "CIFAR10_FILES",
    "DATASET_SPECS",
    "IDX_FILES",
    "Dataset",
    "grid_modes",
    "iterate_batches",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_idx_dataset",
    "load_toy2d",
    "num_batches",
    "read_cifar_batch",
    "read_idx",
    "ring_modes",
    "sample_mixture",
]

DATASET_SPECS = ("digits", "mnist:PATH", "fashion-mnist:PATH", "cifar10:PATH", "ring", "grid")
_WITH_PATH = ("mnist", "fashion-mnist", "cifar10")
_WITHOUT_PATH = ("digits", "ring", "grid")


def load_dataset(spec: str, *, seed: int = 0) -> Dataset:
    """Load the data set named by ``spec`` (see the table in this module's docstring).

    Parameters
    ----------
    spec : str
        ``"digits"``, ``"ring"``, ``"grid"``, or ``"<name>:PATH"`` for
        ``mnist``, ``fashion-mnist`` and ``cifar10`` (PATH is a local folder;
        only the first colon separates, so PATH may contain colons).
    seed : int
        Seed of the digits train/test split and of the toy 2-D samples
        (MNIST and CIFAR-10 come with fixed splits and ignore it).

    Returns
    -------
    Dataset
    """
    if not isinstance(spec, str):
        raise TypeError(f"load_dataset: spec must be a string; got {type(spec).__name__}")
    name, sep, path = spec.partition(":")
    name = name.strip().lower()
    if name in _WITHOUT_PATH and not sep:
        return load_digits(seed=seed) if name == "digits" else load_toy2d(name, seed=seed)
    if name in _WITH_PATH and path:
        if name == "cifar10":
            return load_cifar10(path)
        return load_idx_dataset(path, name)
    if name in _WITH_PATH:
        raise ValueError(f"load_dataset: {name!r} needs a local folder: '{name}:PATH'")
    if name in _WITHOUT_PATH:
        raise ValueError(f"load_dataset: {name!r} takes no path; got {spec!r}")
    raise ValueError(f"load_dataset: unknown spec {spec!r}; expected one of {DATASET_SPECS}")
