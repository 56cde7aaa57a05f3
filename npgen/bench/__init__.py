"""Benchmarks: npgen against PyTorch on the same machine, in the same process, interleaved.

For every case (see :mod:`npgen.bench.cases`) both implementations are built on identical
data, warmed up, then timed in alternation (npgen, torch, torch, npgen, ...) so that a change
of machine load hits both alike; the figure kept is the median of ``repeats`` runs, and the
verdict is the RATIO npgen / torch against the case's target. With ``memory=True`` every
(case, implementation) pair also runs once in a fresh subprocess that reports its peak
resident memory above the baseline it had after building the case (:mod:`npgen.bench.memory`):
tracemalloc cannot see torch's allocations, a fresh process's peak RSS sees both.

Timing is wall clock with a device synchronization after each step (CuPy, torch on CUDA),
so ``npgen bench --backend cupy`` gives GPU figures. Thread counts are pinned: torch's
intra-op threads, every BLAS/OpenMP pool (threadpoolctl, when installed) and npgen's own
batch-chunk workers (:func:`npgen.backend.set_cpu_workers`) use ``threads``.

Noisy samples. Other processes on the machine slow both libraries, but not alike (a waiting
2-thread OpenMP barrier loses a whole scheduler quantum). Around every sample the machine's
busy CPU ticks and this process's own ticks are read from ``/proc/stat`` and
``/proc/self/stat``; their difference is what OTHER processes used. A sample during which
they kept more than :data:`QUIET_CORES` cores busy on average is noisy; each median is taken
over the quiet samples (over all, flagged ``"filtered": false``, if fewer than 3 are quiet).
"""

from __future__ import annotations

import datetime
import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import npgen
from npgen.bench.cases import CASES, Case, select_cases

__all__ = ["CASES", "Case", "environment", "format_table", "run_benchmarks", "select_cases",
           "set_threads", "write_json"]

QUIET_CORES = 0.25  # a sample is quiet if other processes used less than this many cores
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
RESULT_KEYS = ("name", "group", "description", "batch", "target_ratio", "npgen", "torch",
               "ratio", "meets_target", "memory", "load_average")


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def set_threads(threads: int) -> list:
    """Pin torch's threads, every BLAS/OpenMP pool and npgen's chunk workers; threadpoolctl info."""
    npgen.backend.set_cpu_workers(threads)
    if torch_available():
        import torch

        torch.set_num_threads(threads)
    try:
        import threadpoolctl
    except ImportError:
        return []
    threadpoolctl.threadpool_limits(limits=threads)
    return threadpoolctl.threadpool_info()


def _synchronize():
    """A function that waits for the current npgen backend's device to finish its work."""
    backend = npgen.get_backend()
    if backend.name == "cupy":
        import cupy

        return lambda: cupy.cuda.Device().synchronize()
    if backend.name == "torch" and str(backend.device).startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return lambda: None


def _cpu_ticks():
    """(ticks the whole machine was busy, ticks this process used), from /proc; None elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = [int(f) for f in fields]
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]  # all but idle and iowait
    return busy, int(own[11]) + int(own[12])  # utime + stime of every thread of this process


def _timed(step, sync) -> tuple:
    """(wall ms, cores other processes kept busy on average meanwhile, or None)."""
    before = _cpu_ticks()
    start = time.perf_counter()
    step()
    sync()
    seconds = time.perf_counter() - start
    after = _cpu_ticks()
    if before is None or after is None:
        return seconds * 1e3, None
    others = (after[0] - before[0]) - (after[1] - before[1])
    return seconds * 1e3, max(others, 0) / (TICKS_PER_SECOND * seconds)


def _summary(samples: list, others: list, batch: int) -> dict:
    """Median over the QUIET samples (others below QUIET_CORES), or all if fewer than 3 are."""
    quiet = [t for t, o in zip(samples, others) if o is not None and o < QUIET_CORES]
    kept = quiet if len(quiet) >= 3 else samples
    return {"median_ms": statistics.median(kept), "min_ms": min(samples), "samples_ms": samples,
            "other_cores": others, "quiet_samples": len(quiet),
            "filtered": kept is quiet, "median_all_ms": statistics.median(samples),
            "ms_per_sample": statistics.median(kept) / batch}


def time_case(case: Case, batch: int, repeats: int, warmup: int, with_torch: bool,
              pause: float = 0.25) -> dict:
    """Median wall time (ms) of npgen and torch on one case, runs interleaved.

    ``pause`` seconds pass after every run: OpenBLAS's and OpenMP's worker threads keep
    spinning for a while after a call, and would otherwise steal the cores from the other
    library's next run (measured here: torch's conv 64->128 took 110 ms right after an npgen
    run without the pause, 77 ms with it).
    """
    runners = {"npgen": (case.build("npgen", batch), _synchronize())}
    if with_torch:
        runners["torch"] = (case.build("torch", batch), lambda: None)
    samples = {impl: [] for impl in runners}
    others = {impl: [] for impl in runners}
    gc.collect()
    for _ in range(warmup):
        for step, sync in runners.values():
            _timed(step, sync)
            time.sleep(pause)
    order = list(runners)
    for _ in range(repeats):
        for impl in order:
            ms, other = _timed(*runners[impl])
            samples[impl].append(ms)
            others[impl].append(other)
            time.sleep(pause)
        order.reverse()  # npgen, torch, torch, npgen, ...: drift hits both alike
    return {impl: _summary(s, others[impl], batch) for impl, s in samples.items()}


def measure_memory(case: Case, batch: int, impl: str, threads: int) -> dict:
    """Peak RSS of a fresh subprocess running ``case`` with ``impl``, above its baseline."""
    backend = npgen.get_backend()
    command = [sys.executable, "-m", "npgen.bench.memory", case.name, impl, str(batch),
               backend.name, str(backend.device) if impl == "npgen" else "", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench: the memory run of {case.name} ({impl}) failed:\n"
                           f"{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_benchmarks(cases=None, batches=None, repeats: int = 7, warmup: int = 2,
                   with_torch: bool = True, memory: bool = False, threads: int = 2,
                   pause: float = 0.25, progress=None) -> dict:
    """Time (and optionally measure) every case; return the JSON-ready results.

    Parameters
    ----------
    cases : list of Case, optional
        Default: every case in :data:`CASES`.
    batches : list of int, optional
        Run each case at each of these batch sizes; default each case's own batch.
    repeats, warmup : int
        Timed runs (median kept) and untimed runs before them, per implementation.
    with_torch : bool
        Time PyTorch as the reference (ignored when torch is not installed).
    memory : bool
        Also measure peak memory, one subprocess per case and implementation.
    threads : int
        Thread count for both libraries.
    pause : float
        Seconds of idle time after every run (see :func:`time_case`).
    progress : callable, optional
        Called with each finished result dict (the CLI prints a row).
    """
    blas = set_threads(threads)
    with_torch = with_torch and torch_available()
    results = []
    for case in cases or CASES:
        for batch in batches or [case.batch]:
            load_before = _load()
            times = time_case(case, batch, repeats, warmup, with_torch, pause)
            result = {"name": case.name, "group": case.group, "description": case.description,
                      "batch": batch, "target_ratio": case.target_ratio,
                      "npgen": times["npgen"], "torch": times.get("torch"),
                      "ratio": None, "meets_target": None, "memory": None,
                      "load_average": [load_before, _load()]}
            if result["torch"] is not None:
                ratio = times["npgen"]["median_ms"] / times["torch"]["median_ms"]
                result["ratio"] = ratio
                result["meets_target"] = ratio <= case.target_ratio
            if memory:
                result["memory"] = _memory_entry(case, batch, threads, with_torch)
            results.append(result)
            if progress is not None:
                progress(result)
    return {"environment": environment(threads, blas),
            "settings": {"backend": npgen.get_backend().name,
                         "device": str(npgen.get_backend().device), "repeats": repeats,
                         "warmup": warmup, "threads": threads, "pause_s": pause,
                         "dtype": "float32",
                         "torch_reference": with_torch, "memory": memory},
            "results": results}


def _memory_entry(case, batch, threads, with_torch) -> dict:
    entry = {"npgen": measure_memory(case, batch, "npgen", threads), "torch": None,
             "ratio": None, "target_ratio": 1.5, "meets_target": None}
    if with_torch:
        entry["torch"] = measure_memory(case, batch, "torch", threads)
        ratio = entry["npgen"]["peak_increase_mb"] / max(entry["torch"]["peak_increase_mb"], 1e-3)
        entry["ratio"], entry["meets_target"] = ratio, ratio <= 1.5
    return entry


def _load():
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def environment(threads: int, blas=None) -> dict:
    """What the figures depend on: machine, versions, BLAS kernel, threads, load."""
    import numpy

    env = {"created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
           "command": " ".join(sys.argv), "platform": platform.platform(),
           "machine": platform.machine(), "processor": _cpu_model(),
           "cpu_count": os.cpu_count(), "python": platform.python_version(),
           "npgen": npgen.__version__, "numpy": numpy.__version__, "torch": None,
           "threads": threads, "blas": blas if blas is not None else [],
           "openblas_env": {k: os.environ.get(k) for k in
                            ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                             "OMP_NUM_THREADS")},
           "malloc_env": {k: os.environ.get(k) for k in
                          ("LD_PRELOAD", "MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_",
                           "MALLOC_TRIM_THRESHOLD_")},
           "npgen_cpu_workers": npgen.backend.get_cpu_workers(),
           "quiet_cores": QUIET_CORES,
           "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
    if torch_available():
        import torch

        env["torch"] = torch.__version__
    return env


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def format_table(results: dict) -> str:
    """The results as an aligned text table (one row per case and batch)."""
    header = (f"{'case':32s} {'batch':>5s} {'npgen ms':>9s} {'torch ms':>9s} {'ratio':>6s} "
              f"{'target':>6s} {'ok':>3s} {'mem MB':>7s} {'torch MB':>8s} {'ratio':>6s}")
    return "\n".join([header, "-" * len(header)] + [format_row(r) for r in results["results"]])


def format_row(r: dict) -> str:
    def num(v, fmt):
        return format(v, fmt) if v is not None else "-"

    torch_ms = r["torch"]["median_ms"] if r["torch"] else None
    mem = r["memory"] or {}
    mem_n = mem.get("npgen", {}).get("peak_increase_mb") if mem else None
    mem_t = (mem.get("torch") or {}).get("peak_increase_mb") if mem else None
    ok = {True: "yes", False: "NO", None: "-"}[r["meets_target"]]
    return (f"{r['name']:32s} {r['batch']:5d} {r['npgen']['median_ms']:9.2f} "
            f"{num(torch_ms, '9.2f'):>9s} {num(r['ratio'], '6.2f'):>6s} "
            f"{r['target_ratio']:6.2f} {ok:>3s} {num(mem_n, '7.1f'):>7s} "
            f"{num(mem_t, '8.1f'):>8s} {num(mem.get('ratio'), '6.2f'):>6s}")


def default_json_path(root: Path | str = "benchmarks/results") -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{stamp}.json"


def write_json(results: dict, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
