"""Array backends: the only compute module that names numpy, cupy, torch or array_api_strict.

Everything else in npgen is written against the Python Array API standard and
takes its namespace from its inputs (``xp = array_namespace(x)``). This module
decides only three things:

* where NEW arrays are created (parameters, noise, buffers): the *global
  backend*, chosen by ``NPGEN_BACKEND`` (and ``NPGEN_DEVICE``),
  :func:`set_backend` or the :func:`use_backend` context manager;
* how data crosses between the host and a backend: :func:`asarray` and
  :func:`to_numpy`, the one visible crossing point;
* how random numbers are drawn: :class:`RNG`, one adapter per backend, with a
  *portable* mode that draws on the host so every backend sees the same numbers.

Supported names: ``numpy`` (default), ``cupy``, ``torch``, ``array_api_strict``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "BACKEND_NAMES",
    "Backend",
    "RNG",
    "asarray",
    "backend_of",
    "batch_chunks",
    "default_rng",
    "get_cpu_workers",
    "get_backend",
    "namespace_of",
    "resolve_dtype",
    "run_chunks",
    "set_backend",
    "set_cpu_workers",
    "to_numpy",
    "use_backend",
]

BACKEND_NAMES = ("numpy", "cupy", "torch", "array_api_strict")
FLOAT_DTYPE_NAMES = ("float32", "float64")
CUPY_INSTALL_HINT = 'pip install "npgen[cuda12]" (CUDA 12) or "npgen[cuda13]" (CUDA 13)'


@dataclass(frozen=True)
class Backend:
    """An array library plus the device new arrays are created on.

    Attributes
    ----------
    name : str
        One of :data:`BACKEND_NAMES`.
    xp : module
        The Array API namespace (``array_api_compat``'s wrapper for numpy,
        cupy and torch; ``array_api_strict`` itself).
    device : object
        The library's device object, passed as ``device=`` to every creation.
    """

    name: str
    xp: Any
    device: Any

    def __repr__(self) -> str:
        return f"Backend(name={self.name!r}, device={self.device!r})"


# ----------------------------------------------------------------------------
# Selecting a backend
# ----------------------------------------------------------------------------


def _import_library(name: str):
    """Import the array library behind ``name`` with an actionable error."""
    if name not in BACKEND_NAMES:
        raise ValueError(
            f"unknown npgen backend {name!r}; expected one of {', '.join(BACKEND_NAMES)}"
        )
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        hint = {
            "cupy": CUPY_INSTALL_HINT,
            "torch": 'pip install "npgen[torch]"',
            "array_api_strict": 'pip install "npgen[test]" (or array-api-strict)',
        }.get(name, f"pip install {name}")
        raise ImportError(
            f"npgen backend {name!r} needs {name}, which is not installed: {hint}"
        ) from exc
    if name == "cupy" and not module.cuda.is_available():
        raise RuntimeError(
            "npgen backend 'cupy': CuPy is installed but no usable CUDA GPU was found "
            "(cupy.cuda.is_available() is False: no GPU, no driver, or a driver too old for "
            "this CuPy build). Use backend 'numpy' on this machine."
        )
    return module


def _resolve_device(name: str, library, device):
    """Turn ``device`` (None, a string or a library device) into the library's device."""
    if name == "numpy":
        if device not in (None, "cpu"):
            raise ValueError(f"npgen backend 'numpy' has only the device 'cpu'; got {device!r}")
        return "cpu"
    if name == "torch":
        return _torch_device(library, device)
    if name == "cupy":
        if device is None:
            return library.cuda.Device(0)
        if isinstance(device, library.cuda.Device):
            return device
        return library.cuda.Device(int(str(device).removeprefix("cuda:")))
    # array_api_strict: "CPU_DEVICE" (default), "device1", "device2", or a Device.
    if device is None:
        return library.Device("CPU_DEVICE")
    if isinstance(device, library.Device):
        return device
    try:
        return library.Device(str(device))
    except ValueError:
        raise ValueError(f"npgen backend 'array_api_strict' has the devices 'CPU_DEVICE', "
                         f"'device1' and 'device2'; got {device!r}") from None


def _torch_device(torch, device):
    """A torch device that can hold a tensor on this machine, checked at selection time."""
    if device is None:
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"npgen backend 'torch': {device!r} is not a torch device "
                         "(e.g. 'cpu', 'cuda:0')") from exc
    try:  # fails here, not at the first layer, e.g. "cuda" on a CPU-only torch build
        torch.empty(0, device=resolved)
    except (RuntimeError, AssertionError, AttributeError) as exc:
        raise ValueError(f"npgen backend 'torch': device {device!r} cannot be used on this "
                         f"machine ({exc}); use 'cpu' or install a torch build for it") from exc
    return resolved


def _make_backend(name: str, device=None) -> Backend:
    library = _import_library(name)
    if name == "array_api_strict":
        xp = library
    else:  # array_api_compat's standard-conforming wrapper of the library
        xp = importlib.import_module(f"array_api_compat.{name}")
    return Backend(name=name, xp=xp, device=_resolve_device(name, library, device))


_current: Backend | None = None


def get_backend() -> Backend:
    """Return the global backend (where new arrays are created).

    On first use it is read from the environment: ``NPGEN_BACKEND`` (default
    ``numpy``) and, optionally, ``NPGEN_DEVICE`` (e.g. ``device1`` for
    array_api_strict, ``cuda:0`` for torch).
    """
    global _current
    if _current is None:
        name = os.environ.get("NPGEN_BACKEND", "numpy").strip() or "numpy"
        device = os.environ.get("NPGEN_DEVICE") or None
        _current = _make_backend(name, device)
    return _current


def set_backend(name: str, device=None) -> Backend:
    """Make ``name`` (on ``device``) the global backend and return it."""
    global _current
    _current = _make_backend(name, device)
    return _current


@contextlib.contextmanager
def use_backend(name: str, device=None) -> Iterator[Backend]:
    """Context manager: use a backend inside the block, restore the previous one after."""
    global _current
    previous = get_backend()
    _current = _make_backend(name, device)
    try:
        yield _current
    finally:
        _current = previous


_NAMESPACES: dict = {}  # array type -> its Array API namespace (array_namespace, memoized)


def namespace_of(*arrays):
    """``array_api_compat.array_namespace(*arrays)``, memoized by array type.

    The namespace of an array depends only on its type (numpy.ndarray ->
    array_api_compat.numpy, torch.Tensor -> array_api_compat.torch, ...), so
    the hot path of every op is one dict lookup; mixed types and unknown
    objects go through ``array_namespace`` and its errors.
    """
    kinds = {type(a) for a in arrays if a is not None}
    if len(kinds) == 1:
        kind = kinds.pop()
        xp = _NAMESPACES.get(kind)
        if xp is None:
            xp = _NAMESPACES[kind] = array_api_compat.array_namespace(*arrays)
        return xp
    return array_api_compat.array_namespace(*arrays)


def backend_of(x) -> Backend:
    """The :class:`Backend` an existing array lives on (name, namespace, device)."""
    xp = array_api_compat.array_namespace(x)
    return Backend(name=_library_name(x), xp=xp, device=array_api_compat.device(x))


def _library_name(x) -> str:
    if array_api_compat.is_numpy_array(x):
        return "numpy"
    if array_api_compat.is_cupy_array(x):
        return "cupy"
    if array_api_compat.is_torch_array(x):
        return "torch"
    if type(x).__module__.startswith("array_api_strict"):
        return "array_api_strict"
    raise TypeError(f"npgen: unsupported array type {type(x).__module__}.{type(x).__name__}")


# ----------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------


def resolve_dtype(dtype, xp=None):
    """The namespace's float dtype for ``dtype``.

    ``dtype`` may be ``None`` (float32, the default for parameters), the
    strings ``"float32"``/``"float64"``, or a dtype object of any supported
    library (``numpy.float64``, ``torch.float64``, ...): they are matched by
    name, so weights and inputs can be described in one library's terms and
    created in another's.
    """
    xp = get_backend().xp if xp is None else xp
    if dtype is None:
        return xp.float32
    for name in FLOAT_DTYPE_NAMES:
        if isinstance(dtype, str):
            if dtype == name:
                return getattr(xp, name)
            continue
        if _dtype_name(dtype) == name:
            return getattr(xp, name)
    raise TypeError(f"npgen supports the float dtypes float32 and float64; got {dtype!r}")


_DTYPE_NAMES: dict = {}  # (type, dtype) -> portable name (memoized: np.dtype() is slow)


def _dtype_name(dtype) -> str:
    """'float64' for numpy.float64, np.dtype('float64'), torch.float64, xp.float64 ..."""
    key = (type(dtype), dtype)  # keyed by type too: dtypes of two libraries are never compared
    try:
        return _DTYPE_NAMES[key]
    except (KeyError, TypeError):  # not seen yet, or unhashable
        pass
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(dtype).rsplit(".", 1)[-1]
    with contextlib.suppress(TypeError):
        _DTYPE_NAMES[key] = name
    return name


def dtype_name(dtype) -> str:
    """The portable name ('float32', 'float64', 'int64', ...) of any library's dtype."""
    return _dtype_name(dtype)


# ----------------------------------------------------------------------------
# Crossing between host and backend
# ----------------------------------------------------------------------------


def to_numpy(a) -> np.ndarray:
    """Copy an array of any supported library (or a Python scalar/list) to a NumPy array.

    Ragged lists and non-numeric data (strings, objects) are a clear error.
    """
    return _to_host("npgen.to_numpy", a)


def _to_host(where: str, a) -> np.ndarray:
    if isinstance(a, np.ndarray):
        return a
    if array_api_compat.is_cupy_array(a):
        return a.get()
    if array_api_compat.is_torch_array(a):
        return a.detach().cpu().numpy()
    if type(a).__module__.startswith("array_api_strict"):
        import array_api_strict

        return np.from_dlpack(a.to_device(array_api_strict.Device("CPU_DEVICE")))
    return host_numeric(where, a)


_NUMERIC_KINDS = "biuf"  # bool, signed and unsigned ints, floats (numpy dtype kinds)


def host_numeric(where: str, obj) -> np.ndarray:
    """``np.asarray(obj)`` for numeric data only: ragged lists, strings and objects refused."""
    try:
        host = np.asarray(obj)
    except ValueError as exc:  # e.g. [[1, 2], [3]]: "inhomogeneous shape"
        raise ValueError(f"{where}: expected numeric data of a regular (rectangular) shape; "
                         f"got {_preview(obj)} ({exc})") from None
    check_host_numeric(where, host)
    return host


def check_host_numeric(where: str, host: np.ndarray, name: str = "data") -> None:
    """Refuse a host array whose dtype is not bool, int or float (str, bytes, object, complex)."""
    if host.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"{where}: expected numeric {name} (bool, int or float); got "
                        f"{_preview(host)} of dtype {host.dtype}")


def _preview(obj) -> str:
    text = repr(obj)
    return text if len(text) <= 60 else text[:57] + "..."


def asarray(obj, dtype=None, backend: Backend | None = None):
    """Copy ``obj`` (NumPy, another library's array, lists, scalars) onto a backend.

    The target is ``backend`` or the global one; ``dtype`` is resolved with
    :func:`resolve_dtype` (None keeps a float input's precision and leaves
    integer and boolean data as they are).
    """
    backend = get_backend() if backend is None else backend
    host = _to_host("npgen.asarray", obj)
    check_host_numeric("npgen.asarray", host)
    if dtype is not None:
        host = host.astype(_dtype_name(resolve_dtype(dtype, np)), copy=False)
    if backend.name == "numpy":
        return np.array(host, copy=True)
    if backend.name == "torch":
        import torch

        return torch.as_tensor(np.array(host, copy=True), device=backend.device)
    if backend.name == "cupy":
        import cupy

        with backend.device:
            return cupy.asarray(host)
    return backend.xp.asarray(host, device=backend.device, copy=True)


# ----------------------------------------------------------------------------
# Random numbers
# ----------------------------------------------------------------------------


class RNG:
    """A seeded random source that creates arrays on one backend.

    Parameters
    ----------
    seed : int or None
        Seed of the underlying generator.
    portable : bool
        Draw on the host with NumPy's PCG64 and copy the result to the
        backend, so that every backend sees bit-identical numbers (used by
        cross-backend tests). numpy and array_api_strict always draw this
        way; torch and cupy draw natively (on the device) unless
        ``portable=True``.
    backend : Backend or None
        Where the arrays go; the global backend at construction time if None.
    """

    def __init__(self, seed: int | None = None, *, portable: bool = False, backend=None):
        self.backend = get_backend() if backend is None else backend
        self.portable = portable or self.backend.name in ("numpy", "array_api_strict")
        self.seed = seed
        if self.portable:
            self._host = np.random.default_rng(seed)
        elif self.backend.name == "torch":
            import torch

            self._torch = torch.Generator(device=self.backend.device)
            self._torch.manual_seed(seed if seed is not None else int(torch.seed()))
        else:  # cupy
            import cupy

            with self.backend.device:
                self._cupy = cupy.random.default_rng(seed)

    # Each draw returns an array of `dtype` (a name or dtype object) on the backend.
    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        """Samples of N(mean, std^2), shape ``shape``."""
        dtype = resolve_dtype(dtype, self.backend.xp)
        if self.portable:
            return self._from_host(self._host.normal(mean, std, size=shape), dtype)
        if self.backend.name == "torch":
            import torch

            out = torch.empty(shape, dtype=dtype, device=self.backend.device)
            return out.normal_(mean, std, generator=self._torch)
        with self.backend.device:
            return self._cupy.normal(mean, std, size=shape).astype(dtype)

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        """Samples of U[low, high), shape ``shape``."""
        dtype = resolve_dtype(dtype, self.backend.xp)
        if self.portable:
            return self._from_host(self._host.uniform(low, high, size=shape), dtype)
        if self.backend.name == "torch":
            import torch

            out = torch.empty(shape, dtype=dtype, device=self.backend.device)
            return out.uniform_(low, high, generator=self._torch)
        with self.backend.device:
            return self._cupy.uniform(low, high, size=shape).astype(dtype)

    def permutation(self, n: int):
        """A random permutation of ``range(n)`` as a host NumPy int64 array (for batching)."""
        if self.portable:
            return self._host.permutation(n)
        if self.backend.name == "torch":
            import torch

            order = torch.randperm(n, generator=self._torch, device=self.backend.device)
            return order.cpu().numpy()
        with self.backend.device:
            return self._cupy.permutation(n).get()

    def _from_host(self, values: np.ndarray, dtype):
        return asarray(values.astype(_dtype_name(dtype)), backend=self.backend)

    # Checkpointing -----------------------------------------------------------
    def state_dict(self) -> dict:
        """The generator state as plain Python/NumPy data (for checkpoints)."""
        if self.portable:
            return {"kind": "numpy-pcg64", "state": self._host.bit_generator.state}
        if self.backend.name == "torch":
            return {"kind": "torch", "state": self._torch.get_state().numpy()}
        raise NotImplementedError(
            "npgen RNG: saving the state of a native CuPy generator is not supported; "
            "create the RNG with portable=True to make runs resumable"
        )

    def load_state_dict(self, state: dict) -> None:
        """Restore a state produced by :meth:`state_dict` on the same kind of generator."""
        kind = state.get("kind")
        if self.portable and kind == "numpy-pcg64":
            self._host.bit_generator.state = state["state"]
        elif not self.portable and self.backend.name == "torch" and kind == "torch":
            import torch

            self._torch.set_state(torch.as_tensor(np.asarray(state["state"], dtype=np.uint8)))
        else:
            raise ValueError(
                f"npgen RNG: cannot load a {kind!r} state into a "
                f"{'portable' if self.portable else self.backend.name} generator"
            )


def default_rng(seed: int | None = None, *, portable: bool = False) -> RNG:
    """An :class:`RNG` on the global backend (see :class:`RNG`)."""
    return RNG(seed, portable=portable)


# ----------------------------------------------------------------------------
# Batch-chunked execution: the one place npgen runs work on threads (NumPy only)
# ----------------------------------------------------------------------------
# A NumPy op runs on one core (only BLAS is threaded), so a conv layer's copies and
# transforms leave the other cores idle. Ops that can split the batch ask
# :func:`batch_chunks` for (start, stop) ranges of about ``rows`` GEMM rows each and
# :func:`run_chunks` runs them on a pool of ``workers`` threads, with BLAS pinned to one
# thread per worker (threadpoolctl) while the pool runs. Elsewhere (CuPy, torch,
# array_api_strict) the device parallelizes one big op: one chunk, no threads.

_CHUNKS = {"workers": None, "rows": None}  # None: the defaults below
CHUNK_ROWS = 256  # 512 ran at the same speed (2 cores), but each worker thread's malloc arena
# then kept more memory: DCGAN step peak +110 MB with 256, +119 MB with 512
_POOL: dict = {}


def set_cpu_workers(workers: int | None = None, rows: int | None = None) -> dict:
    """Set the NumPy worker threads and GEMM rows per chunk (None: default); return the old."""
    previous = dict(_CHUNKS)
    for name, value in (("workers", workers), ("rows", rows)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"set_cpu_workers: {name} must be a positive int or None; "
                             f"got {value!r}")
    _CHUNKS.update(workers=workers, rows=rows)
    return previous


def get_cpu_workers() -> int:
    """Worker threads of :func:`run_chunks`: set_cpu_workers, NPGEN_CPU_WORKERS, or the cores."""
    if _CHUNKS["workers"] is not None:
        return _CHUNKS["workers"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return int(os.environ.get("NPGEN_CPU_WORKERS", cores or 1))


def batch_chunks(x, batch: int, rows_per_item: int) -> list:
    """[(start, stop), ...] covering range(batch): about CHUNK_ROWS GEMM rows each, at least one
    chunk per worker (BLAS runs single-threaded inside them). ``rows`` if set explicitly.

    One chunk off NumPy unless ``rows`` was set explicitly (so tests reach every path).
    """
    rows = _CHUNKS["rows"]
    if rows is not None:
        size = max(1, rows // max(rows_per_item, 1))
    elif array_api_compat.is_numpy_array(x):
        per_worker = -(-batch // get_cpu_workers())  # ceil
        size = max(1, min(CHUNK_ROWS // max(rows_per_item, 1), per_worker))
    else:
        return [(0, batch)]
    return [(start, min(start + size, batch)) for start in range(0, batch, size)]


def run_chunks(x, function, chunks) -> list:
    """[function(start, stop) for each chunk], on threads when x is NumPy and workers > 1."""
    workers = min(get_cpu_workers(), len(chunks))
    if workers < 2 or not array_api_compat.is_numpy_array(x):
        return [function(start, stop) for start, stop in chunks]
    if _POOL.get("workers") != workers:
        import concurrent.futures

        _POOL.update(workers=workers, executor=concurrent.futures.ThreadPoolExecutor(workers),
                     blas=_blas_controller())
    pinned = _POOL["blas"].limit(limits=1, user_api="blas") if _POOL["blas"] else None
    with pinned or contextlib.nullcontext():
        return list(_POOL["executor"].map(lambda chunk: function(*chunk), chunks))


def _blas_controller():
    try:
        import threadpoolctl
    except ImportError:  # no pinning: BLAS may then oversubscribe the cores
        return None
    return threadpoolctl.ThreadpoolController()
