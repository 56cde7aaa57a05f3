"""JAX bridge: arrays both ways, and ``jax_vjp``: a backward for npgen.verify from ``jax.vjp``.

JAX is an optional dependency (``pip install "npgen[jax]"``): importing
:mod:`npgen` never imports it, and importing this module without it raises an
ImportError with the pip command.

npgen's references are float64. JAX computes in float32 unless
``jax_enable_x64`` is on, so :func:`jax_vjp` refuses to run without it (or,
with ``allow_float32=True``, warns loudly that float32 tolerances apply).
"""

from __future__ import annotations

try:
    import jax
    import jax.numpy as jnp
except ImportError as exc:  # pragma: no cover - exercised by a test that hides jax
    raise ImportError(
        'npgen.interop.jax needs JAX, which is not installed: pip install "npgen[jax]" '
        "(or pip install jax)"
    ) from exc

import warnings

import numpy as np

from npgen.verify._convert import as_numpy

__all__ = ["X64_HINT", "from_jax", "jax_vjp", "to_jax"]

X64_HINT = "jax.config.update('jax_enable_x64', True)"


def _check_x64(where: str, allow_float32: bool) -> None:
    if jax.config.jax_enable_x64:
        return
    message = (f"{where}: jax_enable_x64 is off, so JAX computes in float32 and npgen's "
               f"float64 reference can only be matched to float32 tolerances; call "
               f"{X64_HINT} at startup")
    if not allow_float32:
        raise RuntimeError(message + " (or pass allow_float32=True to accept float32)")
    warnings.warn(message + "; float32 tolerances apply", UserWarning, stacklevel=3)


def to_jax(a, dtype=None):
    """A JAX array from a NumPy array or any library's array (float64 stays float64 with x64)."""
    host = as_numpy(a, "to_jax")
    return jnp.asarray(host if dtype is None else host.astype(dtype))


def from_jax(a) -> np.ndarray:
    """A NumPy copy of a JAX array (or anything :func:`npgen.verify.as_numpy` takes)."""
    return np.array(as_numpy(a, "from_jax"), copy=True)


def jax_vjp(forward, num_inputs: int, *, loss: bool = False, allow_float32: bool = False):
    """A ``backward`` for :mod:`npgen.verify` from ``jax.vjp`` of ``forward``.

    The first ``num_inputs`` arguments are differentiated (None entries, e.g. a
    missing bias, get None; the others are closed over). The result is
    ``backward(dy, *args)``: one gradient when ``num_inputs`` is 1, else a tuple.
    With ``loss=True`` ``dy`` is the scalar ``dloss`` of a loss. Because the
    cotangent goes through ``jax.vjp``, a ``jax.custom_vjp``'s ``bwd`` receives
    npgen's cotangent: a ``bwd`` that ignores it is caught. Arguments may be NumPy
    or JAX arrays; they are converted with :func:`to_jax`.

    Example: ``verify_dense(f, jax_vjp(f, 3), array_library="jax")``.
    """
    where = "jax_vjp"
    _check_x64(where, allow_float32)
    if isinstance(num_inputs, bool) or not isinstance(num_inputs, int) or num_inputs < 1:
        raise ValueError(f"{where}: num_inputs must be a positive int; got {num_inputs!r}")
    if not isinstance(loss, bool):
        raise TypeError(f"{where}: loss must be True or False; got {loss!r}")

    def backward(dy, *args):
        args = [a if i >= num_inputs or a is None else to_jax(a) for i, a in enumerate(args)]
        present = [i for i in range(num_inputs) if args[i] is not None]

        def of_present(*values):
            full = list(args)
            for i, v in zip(present, values):
                full[i] = v
            return forward(*full)

        out, vjp = jax.vjp(of_present, *(args[i] for i in present))
        found = iter(vjp(jnp.reshape(to_jax(dy, dtype=None).astype(out.dtype), out.shape)))
        grads = tuple(next(found) if i in present else None for i in range(num_inputs))
        return grads[0] if num_inputs == 1 else grads

    backward.npgen_backward_form = "vjp"
    return backward
