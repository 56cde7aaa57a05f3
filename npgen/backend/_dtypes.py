"""dtypes by name: the same 'float32'/'float64' in every library's terms."""

from __future__ import annotations

import contextlib

import numpy as np

from npgen.backend._select import get_backend

FLOAT_DTYPE_NAMES = ("float32", "float64")


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
