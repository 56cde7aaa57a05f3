"""The boundary between npgen.verify and the implementation under test: arrays both ways.

npgen's reference side always works on NumPy float64. The user's callables
receive arrays of the library they choose (``array_library=`` or a
``to_theirs=`` converter) and may return arrays of any library: they come back
through :func:`as_numpy`, which knows numpy, torch, cupy and array_api_strict
and falls back to DLPack and then to ``__array__`` (JAX, dask, xarray, ...).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable

import numpy as np

from npgen.backend import to_numpy

__all__ = ["as_numpy", "resolve_converter"]

# Array libraries whose array-creating namespace is not the top-level module.
_NAMESPACES = {"jax": "jax.numpy", "mxnet": "mxnet.numpy"}


def as_numpy(a, where: str = "npgen.verify") -> np.ndarray:
    """A NumPy copy of an array (or Python scalar) from any library.

    Order of attempts: NumPy itself; npgen's :func:`npgen.to_numpy` (torch,
    cupy, array_api_strict; torch tensors are detached first); DLPack
    (``np.from_dlpack``, for any library that exports host memory); finally
    ``np.asarray``, which uses ``__array__`` (JAX on the CPU, for instance).
    Object arrays (a list of tensors, a string) are a TypeError naming ``where``.
    """
    if isinstance(a, np.ndarray):
        out = a
    elif isinstance(a, (bool, int, float, np.generic)):
        out = np.asarray(a)
    else:
        out = _library_to_numpy(a)
    if out.dtype == object or out.dtype.kind not in "biuf":
        raise TypeError(f"{where}: expected a real numeric array or scalar; got "
                        f"{type(a).__module__}.{type(a).__name__} (NumPy dtype {out.dtype})")
    return out


def _library_to_numpy(a) -> np.ndarray:
    module = type(a).__module__.split(".", 1)[0]
    if module in ("torch", "cupy", "array_api_strict"):
        return to_numpy(a.detach() if module == "torch" else a)
    if hasattr(a, "__dlpack__"):
        with contextlib.suppress(TypeError, ValueError, RuntimeError, BufferError,
                                 AttributeError):
            return np.from_dlpack(a)
    return np.asarray(a)


def resolve_converter(where: str, array_library: str | None,
                      to_theirs: Callable | None) -> Callable[[np.ndarray], object]:
    """The function that turns a NumPy float64 array into the array the user's callable takes.

    ``to_theirs`` wins when given; else ``array_library`` names a module whose
    ``asarray`` creates the arrays (``"numpy"`` (default), ``"torch"``,
    ``"jax"`` (``jax.numpy``), ``"cupy"``, ``"array_api_strict"``, ...).
    Every converted array is a fresh copy, so their code may modify it.
    """
    if to_theirs is not None and array_library is not None:
        raise ValueError(f"{where}: pass array_library= or to_theirs=, not both")
    if to_theirs is not None:
        if not callable(to_theirs):
            raise TypeError(f"{where}: to_theirs must be callable; got {to_theirs!r}")
        return lambda a: to_theirs(a.copy())
    name = "numpy" if array_library is None else array_library
    if not isinstance(name, str):
        raise TypeError(f"{where}: array_library must be a module name such as 'torch'; "
                        f"got {name!r}")
    if name == "numpy":
        return lambda a: a.copy()
    try:
        module = importlib.import_module(_NAMESPACES.get(name, name))
    except ImportError as exc:
        raise ImportError(f"{where}: array_library={name!r} is not importable: {exc}") from exc
    if not hasattr(module, "asarray"):
        raise ValueError(f"{where}: module {module.__name__!r} has no asarray(); pass "
                         "to_theirs=<function of a NumPy array> instead")
    return lambda a: module.asarray(a.copy())
