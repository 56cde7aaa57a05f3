"""Random numbers: :class:`RNG` and one small adapter per backend, chosen once.

The Array API standard has no random module, so each library draws in its own
way. :class:`RNG` picks one adapter at construction and forwards to it; no
method branches on the backend name again.

=====================  ==========================================  =================
adapter                draws with                                  state kind
=====================  ==========================================  =================
:class:`_HostDraws`    host NumPy PCG64, then :func:`asarray`      ``"numpy-pcg64"``
                       (numpy, array_api_strict, or any backend
                       with ``portable=True``)
:class:`_TorchDraws`   ``torch.Generator`` on the device           ``"torch"``
:class:`_CupyDraws`    ``cupy.random.default_rng`` on the device   (not saved)
=====================  ==========================================  =================
"""

from __future__ import annotations

import numpy as np

from npgen.backend._dtypes import _dtype_name, resolve_dtype
from npgen.backend._select import get_backend
from npgen.backend._transfer import asarray


class _HostDraws:
    """Draw on the host with NumPy's PCG64 and copy to the backend: the same numbers anywhere."""

    state_kind = "numpy-pcg64"

    def __init__(self, seed, backend):
        self.backend = backend
        self._host = np.random.default_rng(seed)

    def normal(self, shape, mean, std, dtype):
        return self._to_backend(self._host.normal(mean, std, size=shape), dtype)

    def uniform(self, shape, low, high, dtype):
        return self._to_backend(self._host.uniform(low, high, size=shape), dtype)

    def permutation(self, n):
        return self._host.permutation(n)

    def _to_backend(self, values: np.ndarray, dtype):
        return asarray(values.astype(_dtype_name(dtype)), backend=self.backend)

    def get_state(self):
        return self._host.bit_generator.state

    def set_state(self, state) -> None:
        self._host.bit_generator.state = state


class _TorchDraws:
    """Draw natively with a ``torch.Generator`` on the backend's device."""

    state_kind = "torch"

    def __init__(self, seed, backend):
        import torch

        self.backend = backend
        self._torch = torch.Generator(device=backend.device)
        self._torch.manual_seed(seed if seed is not None else int(torch.seed()))

    def normal(self, shape, mean, std, dtype):
        import torch

        out = torch.empty(shape, dtype=dtype, device=self.backend.device)
        return out.normal_(mean, std, generator=self._torch)

    def uniform(self, shape, low, high, dtype):
        import torch

        out = torch.empty(shape, dtype=dtype, device=self.backend.device)
        return out.uniform_(low, high, generator=self._torch)

    def permutation(self, n):
        import torch

        order = torch.randperm(n, generator=self._torch, device=self.backend.device)
        return order.cpu().numpy()

    def get_state(self):
        return self._torch.get_state().numpy()

    def set_state(self, state) -> None:
        import torch

        self._torch.set_state(torch.as_tensor(np.asarray(state, dtype=np.uint8)))


class _CupyDraws:
    """Draw natively with ``cupy.random.default_rng`` on the backend's GPU (state not saved)."""

    state_kind = None  # no state_dict: loading any state into it is refused

    def __init__(self, seed, backend):
        import cupy

        self.backend = backend
        with backend.device:
            self._cupy = cupy.random.default_rng(seed)

    def normal(self, shape, mean, std, dtype):
        with self.backend.device:
            return self._cupy.normal(mean, std, size=shape).astype(dtype)

    def uniform(self, shape, low, high, dtype):
        with self.backend.device:
            return self._cupy.uniform(low, high, size=shape).astype(dtype)

    def permutation(self, n):
        with self.backend.device:
            return self._cupy.permutation(n).get()

    def get_state(self):
        raise NotImplementedError(
            "npgen RNG: saving the state of a native CuPy generator is not supported; "
            "create the RNG with portable=True to make runs resumable"
        )


_NATIVE_DRAWS = {"numpy": _HostDraws, "array_api_strict": _HostDraws,
                 "torch": _TorchDraws, "cupy": _CupyDraws}


class RNG:
    """A seeded random source that creates arrays on one backend.

    Parameters
    ----------
    seed : int or None
        Seed of the underlying generator.
    portable : bool
        Draw on the host with NumPy's PCG64 and copy the result to the
        backend, so that every backend sees bit-identical numbers (used by
        cross-backend tests). numpy and array_api_strict always draw this
        way; torch and cupy draw natively (on the device) unless
        ``portable=True``.
    backend : Backend or None
        Where the arrays go; the global backend at construction time if None.
    """

    def __init__(self, seed: int | None = None, *, portable: bool = False, backend=None):
        self.backend = get_backend() if backend is None else backend
        draws = _HostDraws if portable else _NATIVE_DRAWS[self.backend.name]
        self.portable = draws is _HostDraws
        self.seed = seed
        self._draws = draws(seed, self.backend)

    # Each draw returns an array of `dtype` (a name or dtype object) on the backend.
    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        """Samples of N(mean, std^2), shape ``shape``."""
        return self._draws.normal(shape, mean, std, resolve_dtype(dtype, self.backend.xp))

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        """Samples of U[low, high), shape ``shape``."""
        return self._draws.uniform(shape, low, high, resolve_dtype(dtype, self.backend.xp))

    def permutation(self, n: int):
        """A random permutation of ``range(n)`` as a host NumPy int64 array (for batching)."""
        return self._draws.permutation(n)

    # Checkpointing -----------------------------------------------------------
    def state_dict(self) -> dict:
        """The generator state as plain Python/NumPy data (for checkpoints)."""
        return {"kind": self._draws.state_kind, "state": self._draws.get_state()}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state produced by :meth:`state_dict` on the same kind of generator."""
        kind = state.get("kind")
        if kind is None or kind != self._draws.state_kind:
            raise ValueError(
                f"npgen RNG: cannot load a {kind!r} state into a "
                f"{'portable' if self.portable else self.backend.name} generator"
            )
        self._draws.set_state(state["state"])


def default_rng(seed: int | None = None, *, portable: bool = False) -> RNG:
    """An :class:`RNG` on the global backend (see :class:`RNG`)."""
    return RNG(seed, portable=portable)
