"""Array backends: the only compute package that names numpy, cupy, torch or array_api_strict.

Everything else in npgen is written against the Python Array API standard and
takes its namespace from its inputs (``xp = namespace_of(x)``). This package
decides only three things:

* where NEW arrays are created (parameters, noise, buffers): the *global
  backend*, chosen by ``NPGEN_BACKEND`` (and ``NPGEN_DEVICE``),
  :func:`set_backend` or the :func:`use_backend` context manager
  (``_select.py``, with :func:`namespace_of` and :func:`backend_of`);
* how data crosses between the host and a backend: :func:`asarray` and
  :func:`to_numpy`, the one visible crossing point (``_transfer.py``; dtypes
  by name in ``_dtypes.py``);
* how random numbers are drawn: :class:`RNG`, one adapter per backend, with a
  *portable* mode that draws on the host so every backend sees the same numbers
  (``_rng.py``).

``_chunks.py`` splits a batch over CPU worker threads on NumPy
(:func:`set_cpu_workers`, :func:`batch_chunks`, :func:`run_chunks`).

Supported names: ``numpy`` (default), ``cupy``, ``torch``, ``array_api_strict``.
"""

from __future__ import annotations

import importlib  # noqa: F401  (npgen.backend.importlib: tests patch its import_module)

from npgen.backend._chunks import batch_chunks, get_cpu_workers, run_chunks, set_cpu_workers
from npgen.backend._dtypes import resolve_dtype
from npgen.backend._rng import RNG, default_rng
from npgen.backend._select import (
    BACKEND_NAMES,
    Backend,
    backend_of,
    get_backend,
    namespace_of,
    set_backend,
    use_backend,
)
from npgen.backend._transfer import asarray, to_numpy

# Importable for npgen's own modules, outside __all__ ("X as X" marks a re-export).
from npgen.backend._chunks import CHUNK_ROWS as CHUNK_ROWS  # isort: skip
from npgen.backend._dtypes import FLOAT_DTYPE_NAMES as FLOAT_DTYPE_NAMES  # isort: skip
from npgen.backend._dtypes import dtype_name as dtype_name  # isort: skip
from npgen.backend._select import CUPY_INSTALL_HINT as CUPY_INSTALL_HINT  # isort: skip
from npgen.backend._select import _make_backend as _make_backend  # isort: skip
from npgen.backend._select import is_jax_array as is_jax_array  # isort: skip
from npgen.backend._transfer import check_host_numeric as check_host_numeric  # isort: skip
from npgen.backend._transfer import host_numeric as host_numeric  # isort: skip

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
