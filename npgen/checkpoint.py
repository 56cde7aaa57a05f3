"""Training checkpoints: one ``.npz`` file, written atomically.

Layout of the file (a NumPy ``.npz``, i.e. a zip of ``.npy`` members, read
with ``allow_pickle=False``)::

    __npgen_checkpoint__      0-d unicode array: the JSON document below
    model/<name>/<key>        one array per model parameter or buffer
    optim/<name>/<key...>     one array per optimizer state tensor
    rng/<key...>              arrays inside the RNG state (e.g. a torch state)
    extra/<key...>            arrays inside ``extra``

The JSON document holds ``format``, ``version``, ``epoch``, ``config`` and the
*trees* of ``model_state``, ``optimizer_state``, ``rng_state`` and ``extra``:
nested dicts whose leaves are JSON values (ints of any size, such as the
128-bit PCG64 state, floats, strings, bools, None, lists) or references
``{"__array__": "<npz key>"}`` to an array member. Dict order is kept, so a
``state_dict`` comes back in its original order; tuples come back as lists.

Atomicity: the file is written to a temporary file in the destination folder,
flushed and fsync'ed, then moved over the destination with ``os.replace``
(atomic on POSIX and Windows). A crash at any point leaves either the old
checkpoint or the new one, never a partial file under the final name; the
temporary file it may leave behind (``.checkpoint.npz.<random>.tmp``) is
removed by :func:`remove_stale_temporaries` when the next run starts. Every
file gets the permissions of a plain ``open(path, "w")``: 0666 minus the
user's umask (a temporary file alone would be 0600).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from npgen._checks.primitives import load_json
from npgen.backend import to_numpy

__all__ = ["CHECKPOINT_VERSION", "Checkpoint", "atomic_write", "load_checkpoint",
           "remove_stale_temporaries", "save_checkpoint"]

CHECKPOINT_FORMAT = "npgen-checkpoint"
CHECKPOINT_VERSION = 1
_META_KEY = "__npgen_checkpoint__"
_ARRAY_REF = "__array__"


@dataclass
class Checkpoint:
    """Everything needed to resume a run (the fields of :func:`save_checkpoint`)."""

    model_state: dict[str, dict[str, np.ndarray]]
    optimizer_state: dict[str, dict]
    rng_state: dict
    epoch: int
    config: dict
    extra: dict = field(default_factory=dict)
    path: Path | None = None


_UMASK_LOCK = threading.Lock()


def _current_umask() -> int:
    """The process's umask (read by setting it and putting it back, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _temporary_name(path: Path) -> tuple[str, str]:
    """(prefix, suffix) of the temporary files :func:`atomic_write` makes for ``path``."""
    return f".{path.name}.", ".tmp"


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[Any]:
    """Open a binary temporary file next to ``path``; on success move it onto ``path``.

    The parent folder is created. The data is flushed and fsync'ed before the
    ``os.replace``; if the block (or the replace) raises, the temporary file
    is removed and ``path`` is untouched. The file gets mode ``0o666 & ~umask``,
    like any file the user creates (not the temporary file's 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = _temporary_name(path)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=prefix, suffix=suffix,
                                         delete=False)
    try:
        os.chmod(handle.name, 0o666 & ~_current_umask())
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def remove_stale_temporaries(folder: str | Path, names) -> list[Path]:
    """Delete the temporary files a crashed :func:`atomic_write` of ``folder/<name>`` left.

    ``names`` are the final file names (e.g. ``["checkpoint.npz"]``); only files
    matching ``.<name>.*.tmp`` are touched. Returns the removed paths.
    """
    folder, removed = Path(folder), []
    if not folder.is_dir():
        return removed
    for name in names:
        prefix, suffix = _temporary_name(folder / name)
        for stale in folder.glob(f"{prefix}*{suffix}"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
                removed.append(stale)
    return removed


# ----------------------------------------------------------------------------
# Splitting nested state into a JSON tree plus named arrays, and back
# ----------------------------------------------------------------------------


def _is_array(value) -> bool:
    """NumPy arrays and arrays of any backend (anything with shape and dtype)."""
    return isinstance(value, np.ndarray) or (
        hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic)
    )


def _split(value, key: str, arrays: dict[str, np.ndarray]):
    """The JSON form of ``value``; its arrays are moved into ``arrays`` under ``key``."""
    if isinstance(value, dict):
        tree = {}
        for name, item in value.items():
            if not isinstance(name, str) or "/" in name or name == _ARRAY_REF:
                raise ValueError(f"save_checkpoint: key {name!r} under {key!r} must be a str "
                                 "without '/' (and not '__array__')")
            tree[name] = _split(item, f"{key}/{name}", arrays)
        return tree
    if _is_array(value):
        host = to_numpy(value)  # the one crossing from a backend to the host
        if host.dtype.hasobject:
            raise TypeError(f"save_checkpoint: {key!r} is an object array; cannot be saved")
        arrays[key] = np.asarray(host, order="C")  # (ascontiguousarray would make 0-d 1-d)
        return {_ARRAY_REF: key}
    if isinstance(value, (list, tuple)):
        return [_split(item, f"{key}/{i}", arrays) for i, item in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"save_checkpoint: {key!r} holds a {type(value).__name__}, which is "
                    "neither an array nor a JSON value")


def _join(tree, arrays, path: Path):
    """Inverse of :func:`_split`: replace array references by the loaded arrays."""
    if isinstance(tree, dict):
        if set(tree) == {_ARRAY_REF}:
            key = tree[_ARRAY_REF]
            if key not in arrays:
                raise ValueError(f"npgen checkpoint {path}: array {key!r} is missing")
            return arrays[key]
        return {name: _join(item, arrays, path) for name, item in tree.items()}
    if isinstance(tree, list):
        return [_join(item, arrays, path) for item in tree]
    return tree


# ----------------------------------------------------------------------------
# Saving and loading
# ----------------------------------------------------------------------------


def save_checkpoint(path: str | Path, *, model_state: dict[str, dict[str, np.ndarray]],
                    optimizer_state: dict[str, dict], rng_state: dict, epoch: int,
                    config: dict, extra: dict | None = None) -> Path:
    """Write a checkpoint to ``path`` atomically (see the module docstring for the layout).

    Parameters
    ----------
    path : str or Path
        Destination, conventionally ending in ``.npz``; parent folders are created.
    model_state : dict of str to dict of str to ndarray
        Several named models, e.g. ``{"generator": G.state_dict(), ...}``.
    optimizer_state : dict of str to dict
        Named optimizer ``state_dict()``s (nested dicts of arrays and JSON values).
    rng_state : dict
        E.g. ``{"batches": rng.bit_generator.state, "noise": npgen_rng.state_dict()}``.
    epoch : int
        The number of finished epochs.
    config : dict
        The run's configuration (JSON values only).
    extra : dict or None
        Anything else: loss history, step counter, ...

    Returns
    -------
    Path
        ``path``.
    """
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)):
        raise TypeError(f"save_checkpoint: epoch must be an int; got {epoch!r}")
    parts = {"model": model_state, "optim": optimizer_state, "rng": rng_state,
             "extra": {} if extra is None else extra, "config": config}
    arrays: dict[str, np.ndarray] = {}
    trees = {}
    for prefix, part in parts.items():
        if not isinstance(part, dict):
            raise TypeError(f"save_checkpoint: {prefix} state must be a dict; got "
                            f"{type(part).__name__}")
        trees[prefix] = _split(part, prefix, arrays)
    if any(ref.startswith("config/") for ref in arrays):
        raise TypeError("save_checkpoint: config must hold JSON values only, not arrays")
    document = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                "epoch": int(epoch), **trees}
    arrays[_META_KEY] = np.array(json.dumps(document))
    with atomic_write(path) as handle:
        np.savez(handle, allow_pickle=False, **arrays)
    return Path(path)


_PARTS = ("model", "optim", "rng", "extra", "config")
_META_MAX_BYTES = 64 * 2**20  # the JSON entry: config, history and trees, never near this


def _references(tree, found: list) -> list:
    """The npz keys referenced by ``{"__array__": key}`` leaves of a JSON tree, in order."""
    pending = [tree]
    while pending:  # iterative: the tree's depth is bounded, but no recursion is needed
        node = pending.pop()
        if isinstance(node, dict):
            if set(node) == {_ARRAY_REF} and isinstance(node[_ARRAY_REF], str):
                found.append(node[_ARRAY_REF])
            else:
                pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    """One ``.npy`` member, its header checked against the member's size BEFORE the data is read.

    npgen writes members uncompressed (``np.savez``), so a member's size is
    bounded by the file's: a small archive cannot ask for gigabytes.
    """
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"{where}: the member is compressed; npgen checkpoints store their "
                         "arrays uncompressed (np.savez)")
    with archive.open(info) as handle:
        version = np.lib.format.read_magic(handle)
        readers = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}
        if version not in readers:
            raise ValueError(f"{where}: unsupported .npy format version {version}")
        shape, fortran, dtype = readers[version](handle)
        if dtype.hasobject:
            raise ValueError(f"{where}: an object array; refused (no pickles in checkpoints)")
        declared = math.prod(shape) * dtype.itemsize
        if handle.tell() + declared != info.file_size:
            raise ValueError(f"{where}: its header declares {dtype} {shape} ({declared} bytes) "
                             f"but the member holds {info.file_size - handle.tell()} bytes")
        data = handle.read(declared)
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return array.copy()  # writable and owning its memory, as np.load returns


def _read_archive(path: Path, parts: tuple) -> tuple[dict, dict[str, np.ndarray]]:
    """(JSON document, referenced arrays of ``parts``), every member checked before reading."""
    if not path.is_file():
        raise FileNotFoundError(f"npgen checkpoint not found: {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            meta = infos.get(f"{_META_KEY}.npy")
            if meta is None:
                raise _NotACheckpoint()
            if meta.file_size > _META_MAX_BYTES:
                raise ValueError(f"member {_META_KEY!r} is {meta.file_size} bytes; at most "
                                 f"{_META_MAX_BYTES} are read")
            document = _parse_document(path, _read_npy(archive, meta, f"member {_META_KEY!r}"))
            referenced = {part: _references(document[part], []) for part in _PARTS}
            known = {f"{key}.npy" for keys in referenced.values() for key in keys}
            unexpected = sorted(set(infos) - known - {meta.filename})
            if unexpected:
                raise ValueError(f"unexpected members {unexpected[:5]} (an npgen checkpoint "
                                 "holds only the arrays its JSON entry references)")
            arrays = {}
            for key in (key for part in parts for key in referenced[part]):
                if f"{key}.npy" not in infos:
                    raise ValueError(f"array {key!r} is missing")
                arrays[key] = _read_npy(archive, infos[f"{key}.npy"], f"member {key!r}")
    except _NotACheckpoint:
        raise ValueError(f"npgen checkpoint {path}: no {_META_KEY!r} entry; not an npgen "
                         "checkpoint") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        if str(exc).startswith(f"npgen checkpoint {path}"):
            raise
        raise ValueError(f"npgen checkpoint {path}: unreadable (truncated or corrupted?): "
                         f"{exc}") from exc
    return document, arrays


class _NotACheckpoint(Exception):
    """A readable archive without npgen's JSON entry."""


def _parse_document(path: Path, entry: np.ndarray) -> dict:
    """The JSON entry, parsed with bounded depth and size, with format and parts checked."""
    document = load_json(f"npgen checkpoint {path}: member {_META_KEY!r}", str(entry))
    if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT or \
            document.get("version") != CHECKPOINT_VERSION:
        found = document if not isinstance(document, dict) else \
            f"format {document.get('format')!r} version {document.get('version')!r}"
        raise ValueError(f"npgen checkpoint {path}: {found}; this npgen reads "
                         f"{CHECKPOINT_FORMAT!r} version {CHECKPOINT_VERSION}")
    missing = [part for part in (*_PARTS, "epoch") if part not in document]
    if missing:
        raise ValueError(f"npgen checkpoint {path}: its metadata (the JSON entry) lacks {missing}")
    epoch = document["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"npgen checkpoint {path}: member {_META_KEY!r}: epoch must be an "
                         f"int >= 0; got {epoch!r}")
    return document


def _check_model_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Model members are finite floats (the int64 batch counter of batch norm aside)."""
    for key, array in arrays.items():
        if not key.startswith("model/"):
            continue
        if key.rsplit("/", 1)[-1].rsplit(".", 1)[-1] == "num_batches_tracked":
            wanted, ok = "an integer", array.dtype.kind in "iu"
        else:
            wanted, ok = "a float32 or float64", array.dtype.name in ("float32", "float64")
        if not ok:
            raise ValueError(f"npgen checkpoint {path}: member {key!r} is {array.dtype}; "
                             f"expected {wanted} array (no silent casts)")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(f"npgen checkpoint {path}: member {key!r} holds NaN or inf "
                             "weights; refusing to use them")


def load_checkpoint(path: str | Path, parts=_PARTS) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : str or Path
    parts : tuple of str
        Which of ``"model", "optim", "rng", "extra", "config"`` to read the
        arrays of (default all); the others come back as empty dicts, their
        arrays are never read (e.g. ``("model", "extra", "config")`` to sample).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a readable ``.npz`` (e.g. truncated), is not an npgen
        checkpoint, has an unknown version, misses a referenced array, holds
        members its JSON entry does not reference, a member whose header does
        not match its size, a negative epoch, or model weights that are not
        finite floats. Every message names the file and, where one is to
        blame, the member.
    """
    path = Path(path)
    unknown = [part for part in parts if part not in _PARTS]
    if unknown:
        raise ValueError(f"load_checkpoint: unknown parts {unknown}; expected some of {_PARTS}")
    document, arrays = _read_archive(path, tuple(parts))
    _check_model_arrays(path, arrays)
    trees = {key: _join(document[key], arrays, path) if key in parts else {} for key in _PARTS}
    return Checkpoint(model_state=trees["model"], optimizer_state=trees["optim"],
                      rng_state=trees["rng"], epoch=document["epoch"],
                      config=trees["config"], extra=trees["extra"], path=path)
