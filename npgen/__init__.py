"""npgen: VAE and GAN building blocks with hand-written, gradient-checked backward passes.

The same code runs on NumPy, CuPy, torch or any Array API library; see
``docs/index.md`` for the map.

``import npgen`` loads only the backend layer. The public subpackages are
imported on first attribute access (PEP 562), as in NumPy and SciPy::

    import npgen
    layer = npgen.nn.Dense(4, 2)      # imports npgen.nn now
    npgen.verify.verify_dense         # imports npgen.verify (needs hypothesis)

A subpackage whose optional dependency is missing raises an ``ImportError``
naming the extra to install (e.g. ``pip install "npgen[verify]"``).
"""

from __future__ import annotations

import importlib

from npgen.backend import (
    BACKEND_NAMES,
    RNG,
    Backend,
    asarray,
    default_rng,
    get_backend,
    set_backend,
    set_cpu_workers,
    to_numpy,
    use_backend,
)
from npgen.functional.conv import get_conv_path, set_conv_path, use_conv_path

__version__ = "0.1.0"

# Public subpackages reachable as ``npgen.<name>`` after a bare ``import npgen``.
SUBMODULES = (
    "nn", "functional", "losses", "optim", "init", "gradcheck", "testing", "verify", "interop",
    "models", "data", "metrics", "evaluation", "training", "pictures", "checkpoint",
)

# Optional third-party module -> the extra that installs it.
_EXTRAS = {"hypothesis": "verify", "torch": "torch", "jax": "jax", "jaxlib": "jax",
           "matplotlib": "examples", "PIL": "examples", "tqdm": "examples",
           "sklearn": "examples", "array_api_strict": "test"}

__all__ = [
    "BACKEND_NAMES",
    "RNG",
    "Backend",
    "__version__",
    "asarray",
    "default_rng",
    "get_backend",
    "get_conv_path",
    "set_backend",
    "set_conv_path",
    "set_cpu_workers",
    "to_numpy",
    "use_backend",
    *SUBMODULES,
    "use_conv_path",
]


def __getattr__(name: str):
    """Import the subpackage ``npgen.<name>`` on first access (PEP 562)."""
    if name not in SUBMODULES:
        raise AttributeError(f"module 'npgen' has no attribute {name!r}")
    try:
        module = importlib.import_module(f"npgen.{name}")
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in _EXTRAS:
            raise
        raise ImportError(f"npgen.{name} needs {missing}, which is not installed: "
                          f'pip install "npgen[{_EXTRAS[missing]}]"', name=exc.name) from exc
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(SUBMODULES))
