"""CIFAR-10, "python version", from the pickled batches in a local folder (never downloaded).

The archive ``cifar-10-python.tar.gz`` unpacks to ``cifar-10-batches-py/`` with
``data_batch_1`` ... ``data_batch_5`` (10000 images each) and ``test_batch``.
Each batch is a pickled dict with ``b"data"``, a ``(10000, 3072)`` uint8 array
whose rows are the red, green and blue 32x32 planes in that order, and
``b"labels"``, a list of ints in 0..9.

Pickle can run code, so the batches are read with an unpickler that accepts
only the NumPy array reconstruction functions and refuses anything else.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from npgen.data.dataset import Dataset

__all__ = ["CIFAR10_FILES", "load_cifar10", "read_cifar_batch"]

CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
CIFAR10_SUBFOLDER = "cifar-10-batches-py"
CIFAR10_SOURCE = (
    "the CIFAR-10 'python version' (cifar-10-python.tar.gz) from the University of "
    "Toronto's CIFAR page, unpacked"
)
_IMAGE_SHAPE = (3, 32, 32)
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # how Python 3 writes bytes in pickle protocol 2
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds dicts, lists and NumPy arrays and nothing else."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        return super().find_class(module, name)


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch: images ``(N, 3, 32, 32)`` float32 in [0, 1] and int64 labels ``(N,)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR-10 batch not found: {path}")
    try:
        batch = _ArrayOnlyUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except Exception as exc:  # any unpickling failure means a broken or foreign file
        raise ValueError(
            f"CIFAR-10 batch {path}: not a readable CIFAR-10 python pickle ({exc}); "
            "corrupted or a different format?"
        ) from exc
    data = _field(batch, "data", path)
    labels = _field(batch, "labels", path)
    data = np.asarray(data)
    labels = np.asarray(labels, dtype=np.int64)
    per_image = int(np.prod(_IMAGE_SHAPE))
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != per_image:
        raise ValueError(
            f"CIFAR-10 batch {path}: 'data' should be uint8 of shape (N, {per_image}); "
            f"got {data.dtype} {data.shape}"
        )
    if labels.shape != (data.shape[0],):
        raise ValueError(
            f"CIFAR-10 batch {path}: {data.shape[0]} images but labels of shape {labels.shape}"
        )
    images = data.reshape(data.shape[0], *_IMAGE_SHAPE)  # (N, 3, 32, 32)
    return images.astype(np.float32) / np.float32(255.0), labels


def _field(batch, key: str, path: Path):
    """``batch[b"key"]`` (the original files) or ``batch["key"]`` (re-pickled copies)."""
    if isinstance(batch, dict):
        for candidate in (key.encode(), key):
            if candidate in batch:
                return batch[candidate]
    raise ValueError(f"CIFAR-10 batch {path}: expected a dict with a {key!r} entry")


def _batch_folder(folder: Path) -> Path:
    """``folder`` itself or its ``cifar-10-batches-py`` subfolder, whichever has the batches."""
    for candidate in (folder, folder / CIFAR10_SUBFOLDER):
        if all((candidate / name).is_file() for name in CIFAR10_FILES):
            return candidate
    subfolder = folder / CIFAR10_SUBFOLDER
    closest = subfolder if subfolder.is_dir() else folder
    missing = [n for n in CIFAR10_FILES if not (closest / n).is_file()]
    raise FileNotFoundError(
        f"npgen data set 'cifar10': {closest} lacks "
        f"{', '.join(missing)}. Expected the files {', '.join(CIFAR10_FILES)}: "
        f"{CIFAR10_SOURCE}. npgen never downloads data."
    )


def load_cifar10(folder: str | Path) -> Dataset:
    """CIFAR-10 from ``folder``: ``train`` (50000, 3, 32, 32), ``test`` (10000, 3, 32, 32).

    Parameters
    ----------
    folder : str or Path
        The unpacked ``cifar-10-batches-py`` folder or the folder containing it.
    """
    folder = _batch_folder(Path(folder).expanduser())
    parts = [read_cifar_batch(folder / name) for name in CIFAR10_FILES[:-1]]
    test, test_labels = read_cifar_batch(folder / CIFAR10_FILES[-1])
    return Dataset(
        name="cifar10",
        kind="image",
        train=np.concatenate([images for images, _ in parts]),
        test=test,
        train_labels=np.concatenate([labels for _, labels in parts]),
        test_labels=test_labels,
        image_shape=_IMAGE_SHAPE,
    )
