"""Batch-chunked execution: the one place npgen runs work on threads (NumPy only).

A NumPy op runs on one core (only BLAS is threaded), so a conv layer's copies and
transforms leave the other cores idle. Ops that can split the batch ask
:func:`batch_chunks` for (start, stop) ranges of about ``rows`` GEMM rows each and
:func:`run_chunks` runs them on a pool of ``workers`` threads, with BLAS pinned to one
thread per worker (threadpoolctl) while the pool runs. Elsewhere (CuPy, torch,
array_api_strict) the device parallelizes one big op: one chunk, no threads.
"""

from __future__ import annotations

import contextlib
import os

import array_api_compat

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
