"""How many threads the array libraries may use during a run (``--threads``).

The models npgen trains on a CPU are small: a matrix product of a 256-wide
layer takes microseconds, less than it costs BLAS to wake and join its worker
threads. With other jobs on the same cores the waiting gets far worse (the
ring GAN took 48 s with NumPy's default threads on a loaded 2-core machine and
3.8 s with one thread, with identical results). So runs default to one thread;
``--threads 0`` keeps the libraries' own default.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

__all__ = ["DEFAULT_THREADS", "limit_threads", "set_threads"]

DEFAULT_THREADS = 1


@contextlib.contextmanager
def limit_threads(threads: int | None = DEFAULT_THREADS) -> Iterator[None]:
    """Limit BLAS/OpenMP pools (threadpoolctl) and torch to ``threads`` inside the block.

    ``threads`` None or 0 changes nothing. Without threadpoolctl only torch is limited.
    """
    if not threads:
        yield
        return
    if threads < 0:
        raise ValueError(f"limit_threads: threads must be >= 0; got {threads}")
    torch = sys.modules.get("torch")  # only a torch that is already in use
    torch_before = torch.get_num_threads() if torch is not None else None
    with contextlib.ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - a dependency of npgen
            pass
        else:
            stack.enter_context(threadpool_limits(limits=threads))
        if torch is not None:
            torch.set_num_threads(threads)
            stack.callback(torch.set_num_threads, torch_before)
        yield


def set_threads(threads: int | None = DEFAULT_THREADS) -> None:
    """Limit BLAS/OpenMP pools and torch to ``threads`` for the rest of the process.

    For scripts (the examples); :func:`limit_threads` undoes the limit after a block.
    None or 0 changes nothing.
    """
    if not threads:
        return
    if threads < 0:
        raise ValueError(f"set_threads: threads must be >= 0; got {threads}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of npgen
        pass
    else:
        threadpool_limits(limits=threads)  # applies now, for every pool already loaded
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
