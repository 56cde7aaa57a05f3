"""Choosing a backend: the global one new arrays go to, and the one an array lives on.

:func:`get_backend`, :func:`set_backend` and :func:`use_backend` pick where NEW
arrays are created; :func:`backend_of` and :func:`namespace_of` read where an
existing array lives (its library, namespace and device).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import array_api_compat

BACKEND_NAMES = ("numpy", "cupy", "torch", "array_api_strict")
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
    return _DEVICES[name](library, device)


def _numpy_device(numpy, device):
    """NumPy has one device, 'cpu'."""
    if device not in (None, "cpu"):
        raise ValueError(f"npgen backend 'numpy' has only the device 'cpu'; got {device!r}")
    return "cpu"


def _cupy_device(cupy, device):
    """A cupy.cuda.Device from None (GPU 0), an int, 'cuda:<i>' or a Device."""
    if device is None:
        return cupy.cuda.Device(0)
    if isinstance(device, cupy.cuda.Device):
        return device
    return cupy.cuda.Device(int(str(device).removeprefix("cuda:")))


def _strict_device(array_api_strict, device):
    """array_api_strict's "CPU_DEVICE" (default), "device1", "device2", or a Device."""
    if device is None:
        return array_api_strict.Device("CPU_DEVICE")
    if isinstance(device, array_api_strict.Device):
        return device
    try:
        return array_api_strict.Device(str(device))
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


_DEVICES = {"numpy": _numpy_device, "cupy": _cupy_device, "torch": _torch_device,
            "array_api_strict": _strict_device}  # one device resolver per backend


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


def is_jax_array(x) -> bool:
    """True for a JAX array (immutable: gradient checks work on NumPy copies of it)."""
    return array_api_compat.is_jax_array(x)


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
