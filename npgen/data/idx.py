"""MNIST and Fashion-MNIST from the IDX files in a local folder (never downloaded).

IDX layout (big-endian throughout)::

    bytes 0-1   0x0000
    byte  2     element type: 0x08 unsigned byte (also 0x09 i1, 0x0B i2, 0x0C i4,
                0x0D f4, 0x0E f8)
    byte  3     number of dimensions d (3 for images, 1 for labels)
    4 * d       the dimensions as big-endian uint32: (N, H, W) or (N,)
    rest        the elements, C order

so an image file opens with the magic number 0x00000803 and a label file with
0x00000801. Both data sets use the same four file names, gzipped (``.gz``) or
raw.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from npgen.data.dataset import Dataset

__all__ = ["IDX_FILES", "load_idx_dataset", "read_idx"]

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_SOURCES = {
    "mnist": "the MNIST files from Yann LeCun's MNIST page or one of its mirrors",
    "fashion-mnist": "the Fashion-MNIST files from Zalando Research's fashion-mnist repository",
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (``.gz`` or raw) into a NumPy array of its stored shape.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        Not an IDX file, an unknown element type, or a size that disagrees
        with the header (truncated or trailing bytes), or a broken gzip stream.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as stream:
            raw = stream.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"IDX file {path}: cannot be read ({exc}); corrupted download?") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"IDX file {path}: not an IDX file (header {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"IDX file {path}: truncated inside its header")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header_size + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"IDX file {path}: header says shape {dims} ({expected} bytes) but the file has "
            f"{len(raw)} bytes; truncated or corrupted?"
        )
    values = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(dims)  # dims
    return values.astype(dtype.newbyteorder("="))


def _magic(values: np.ndarray) -> int:
    """The magic number an unsigned-byte IDX file of this rank carries."""
    return 0x00000800 | values.ndim


def _find(folder: Path, stem: str, name: str) -> Path:
    """Locate ``stem`` or ``stem.gz`` (also the ``train-images.idx3-ubyte`` spelling)."""
    places = [folder, folder / "raw", folder / "MNIST" / "raw", folder / "FashionMNIST" / "raw"]
    spellings = [stem, stem.replace("-idx", ".idx")]
    for place in places:
        for spelling in spellings:
            for candidate in (place / spelling, place / f"{spelling}.gz"):
                if candidate.is_file():
                    return candidate
    expected = ", ".join(f"{s}[.gz]" for s in IDX_FILES.values())
    raise FileNotFoundError(
        f"npgen data set {name!r}: no {stem} or {stem}.gz in {folder} (also looked in its "
        f"raw/, MNIST/raw/ and FashionMNIST/raw/ subfolders). Expected the four IDX files "
        f"{expected}, gzipped or raw: {_SOURCES[name]}. npgen never downloads data."
    )


def _read_split(folder: Path, split: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 1, H, W)`` float32 in [0, 1] and labels ``(N,)`` int64 of one split."""
    image_path = _find(folder, IDX_FILES[f"{split}_images"], name)
    label_path = _find(folder, IDX_FILES[f"{split}_labels"], name)
    images, labels = read_idx(image_path), read_idx(label_path)
    for path, values, magic in ((image_path, images, IMAGES_MAGIC),
                                (label_path, labels, LABELS_MAGIC)):
        if _magic(values) != magic or values.dtype != np.uint8:
            raise ValueError(
                f"npgen data set {name!r}: {path} should be unsigned bytes with magic number "
                f"{magic:#010x}; got {values.dtype} of shape {values.shape}"
            )
    if images.ndim != 3 or 0 in images.shape:
        raise ValueError(f"npgen data set {name!r}: {image_path} holds no images (shape "
                         f"{images.shape}); expected (N, H, W) with N, H, W >= 1")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"npgen data set {name!r}: {image_path} holds {images.shape[0]} images but "
            f"{label_path} holds {labels.shape[0]} labels"
        )
    pixels = (images.astype(np.float32) / 255.0)[:, None, :, :]  # (N, 1, H, W)
    return pixels, labels.astype(np.int64)


def load_idx_dataset(folder: str | Path, name: str = "mnist") -> Dataset:
    """MNIST (``name="mnist"``) or Fashion-MNIST (``"fashion-mnist"``) from ``folder``.

    Parameters
    ----------
    folder : str or Path
        Folder holding the four IDX files (or a ``raw/`` subfolder, or the
        torchvision layout ``MNIST/raw`` / ``FashionMNIST/raw``).
    name : {"mnist", "fashion-mnist"}
        Which data set the files are (only names it in the result and errors).

    Returns
    -------
    Dataset
        ``train`` (60000, 1, 28, 28) and ``test`` (10000, 1, 28, 28) float32
        pixels in [0, 1] for the real files, int64 labels.
    """
    if name not in _SOURCES:
        raise ValueError(f"load_idx_dataset: name must be one of {sorted(_SOURCES)}; got {name!r}")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"npgen data set {name!r}: folder {folder} does not exist; it should hold "
            f"{', '.join(IDX_FILES.values())} (each possibly .gz): {_SOURCES[name]}"
        )
    train, train_labels = _read_split(folder, "train", name)
    test, test_labels = _read_split(folder, "test", name)
    if train.shape[1:] != test.shape[1:]:
        raise ValueError(
            f"npgen data set {name!r}: train images are {train.shape[2:]} but test images "
            f"are {test.shape[2:]}"
        )
    return Dataset(name=name, kind="image", train=train, test=test,
                   train_labels=train_labels, test_labels=test_labels,
                   image_shape=tuple(train.shape[1:]))
