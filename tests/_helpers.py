"""Helpers shared by the test files: moving arrays between the host (NumPy float64) and
the current npgen backend. Import them with ``from _helpers import host, on_backend``
(pytest puts tests/ on ``sys.path``)."""

from __future__ import annotations

import numpy as np

import npgen


def host(a):
    """A backend array as a float64 NumPy array; None stays None (an absent bias)."""
    return None if a is None else np.asarray(npgen.to_numpy(a), dtype=np.float64)


def on_backend(values, dtype="float64"):
    """Host values (an array-like, or a dict of them) as arrays of ``dtype`` on the current
    backend; the values pass through float64 first."""
    if isinstance(values, dict):
        return {k: on_backend(v, dtype) for k, v in values.items()}
    return npgen.asarray(np.asarray(values, dtype=np.float64), dtype=dtype)
