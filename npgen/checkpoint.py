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
import os
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

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


def _read_members(path: Path) -> dict[str, np.ndarray]:
    """All members of the ``.npz`` at ``path``, with corrupted files reported clearly."""
    if not path.is_file():
        raise FileNotFoundError(f"npgen checkpoint not found: {path}")
    try:  # opened here so that the handle is closed even when np.load fails
        with open(path, "rb") as handle:
            archive = np.load(handle, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("a single .npy array, not an .npz archive")
            with archive:
                return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ValueError(f"npgen checkpoint {path}: unreadable (truncated or corrupted?): "
                         f"{exc}") from exc


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a readable ``.npz`` (e.g. truncated), is not an npgen
        checkpoint, has an unknown version, or misses a referenced array.
    """
    path = Path(path)
    members = _read_members(path)
    if _META_KEY not in members:
        raise ValueError(f"npgen checkpoint {path}: no {_META_KEY!r} entry; not an npgen "
                         "checkpoint")
    try:
        document = json.loads(str(members.pop(_META_KEY)))
    except json.JSONDecodeError as exc:
        raise ValueError(f"npgen checkpoint {path}: its JSON entry is corrupted: {exc}") from exc
    if document.get("format") != CHECKPOINT_FORMAT or \
            document.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"npgen checkpoint {path}: format {document.get('format')!r} "
                         f"version {document.get('version')!r}; this npgen reads "
                         f"{CHECKPOINT_FORMAT!r} version {CHECKPOINT_VERSION}")
    parts = {key: _join(document[key], members, path)
             for key in ("model", "optim", "rng", "extra", "config")}
    return Checkpoint(model_state=parts["model"], optimizer_state=parts["optim"],
                      rng_state=parts["rng"], epoch=int(document["epoch"]),
                      config=parts["config"], extra=parts["extra"], path=path)
