"""Peak memory of one benchmark case in THIS process: run as a fresh subprocess per case.

``python -m npgen.bench.memory CASE IMPL BATCH BACKEND DEVICE THREADS`` builds the case
(model, data, optimizer), reads its resident set size as the baseline, resets the kernel's
high-water mark where Linux allows (``/proc/self/clear_refs``), runs the step twice and
prints one JSON line: the baseline, the peak and the increase (MB). The increase counts what
a library keeps between steps (npgen modules hold their last forward cache; torch frees its
graph but keeps its one-time kernel and optimizer state) and the transients of a step. The
npgen process never imports torch, so neither library's import cost enters the other's
figure.
Host memory only: device memory of CuPy or torch on CUDA is not seen.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

MB = 1024.0 * 1024.0


def _status_kb(field: str):
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def measure(case_name: str, impl: str, batch: int, backend: str, device: str,
            threads: int) -> dict:
    import npgen
    from npgen.bench import set_threads
    from npgen.bench.cases import select_cases

    if impl == "npgen":
        npgen.set_backend(backend, device or None)
    set_threads(threads) if impl == "torch" else _pin_blas(threads)
    (case,) = [c for c in select_cases([case_name]) if c.name == case_name]
    step = case.build(impl, batch)
    baseline_kb = _status_kb("VmRSS")
    reset = _reset_peak()
    if baseline_kb is None or not reset:  # no /proc: the lifetime peak is the best we have
        baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step()
    step()  # the second step runs while the first one's leftovers (npgen's caches) still live
    peak_kb = _status_kb("VmHWM") if reset else None
    if peak_kb is None:
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"impl": impl, "baseline_mb": baseline_kb * 1024 / MB, "peak_mb": peak_kb * 1024 / MB,
            "peak_increase_mb": max(peak_kb - baseline_kb, 0) * 1024 / MB,
            "method": "VmHWM after clear_refs" if reset else "ru_maxrss"}


def _pin_blas(threads: int) -> None:
    try:
        import threadpoolctl
    except ImportError:
        return
    threadpoolctl.threadpool_limits(limits=threads)


if __name__ == "__main__":
    name, impl, batch, backend, device, threads = sys.argv[1:7]
    print(json.dumps(measure(name, impl, int(batch), backend, device, int(threads))))
