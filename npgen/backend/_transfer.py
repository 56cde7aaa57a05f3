"""Crossing between the host and a backend: :func:`asarray` and :func:`to_numpy`."""

from __future__ import annotations

import array_api_compat
import numpy as np

from npgen.backend._dtypes import _dtype_name, resolve_dtype
from npgen.backend._select import Backend, get_backend


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
    return _FROM_HOST.get(backend.name, _standard_from_host)(host, backend)


def _numpy_from_host(host: np.ndarray, backend: Backend):
    """A NumPy copy (the caller's array is never shared)."""
    return np.array(host, copy=True)


def _torch_from_host(host: np.ndarray, backend: Backend):
    """A tensor on ``backend.device`` made from a private copy of ``host``."""
    import torch

    return torch.as_tensor(np.array(host, copy=True), device=backend.device)


def _cupy_from_host(host: np.ndarray, backend: Backend):
    """A CuPy array on ``backend.device`` (the transfer copies)."""
    import cupy

    with backend.device:
        return cupy.asarray(host)


def _standard_from_host(host: np.ndarray, backend: Backend):
    """Any Array API library (array_api_strict): ``xp.asarray`` with ``device=``."""
    return backend.xp.asarray(host, device=backend.device, copy=True)


_FROM_HOST = {"numpy": _numpy_from_host, "torch": _torch_from_host, "cupy": _cupy_from_host,
              "array_api_strict": _standard_from_host}  # one host-to-device copy per backend
