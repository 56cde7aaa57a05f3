"""npgen: VAE and GAN building blocks with hand-written, gradient-checked backward passes.

The same code runs on NumPy, CuPy, torch or any Array API library; see
``docs/index.md`` for the map.
"""

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
    "use_conv_path",
]
