"""The backend layer: selection, errors, data transfer, dtypes and the RNG adapters."""

import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgen
from npgen import backend as backend_module


def test_default_backend_is_numpy_and_names_are_listed():
    assert npgen.BACKEND_NAMES == ("numpy", "cupy", "torch", "array_api_strict")
    with npgen.use_backend("numpy") as b:
        assert b.name == "numpy" and npgen.get_backend() is b


def test_unknown_backend_lists_the_valid_names():
    with pytest.raises(ValueError, match="numpy, cupy, torch, array_api_strict") as info:
        npgen.set_backend("jax")
    assert "'jax'" in str(info.value)


def test_env_variable_selects_backend():
    env = {**os.environ, "NPGEN_BACKEND": "array_api_strict"}
    out = subprocess.run(
        [sys.executable, "-c", "import npgen; print(npgen.get_backend().name)"],
        env=env, capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "array_api_strict"


def test_env_variable_device():
    env = {**os.environ, "NPGEN_BACKEND": "array_api_strict", "NPGEN_DEVICE": "device1"}
    code = "import npgen; print(npgen.get_backend().device)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert "device1" in out.stdout


def test_use_backend_restores_previous():
    before = npgen.get_backend()
    with npgen.use_backend("array_api_strict", "device1") as inner:
        assert npgen.get_backend() is inner
    assert npgen.get_backend() is before


def test_use_backend_restores_after_an_exception():
    before = npgen.get_backend()
    with pytest.raises(RuntimeError), npgen.use_backend("array_api_strict"):
        raise RuntimeError("boom")
    assert npgen.get_backend() is before


def test_cupy_missing_says_what_to_install(monkeypatch):
    real_import = backend_module.importlib.import_module

    def fake_import(name, *args):
        if name == "cupy":
            raise ImportError("No module named 'cupy'")
        return real_import(name, *args)

    monkeypatch.setattr(backend_module.importlib, "import_module", fake_import)
    with pytest.raises(ImportError, match=r'pip install "npgen\[cuda12\]"'):
        npgen.set_backend("cupy")


def test_cupy_without_gpu_says_so(monkeypatch):
    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(is_available=lambda: False)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        npgen.set_backend("cupy")


def test_asarray_and_to_numpy_round_trip(backend):
    host = np.arange(6, dtype=np.float64).reshape(2, 3)
    a = npgen.asarray(host)
    assert npgen.backend.backend_of(a).name == backend.name
    assert str(npgen.backend.backend_of(a).device) == str(backend.device)
    back = npgen.to_numpy(a)
    assert isinstance(back, np.ndarray) and back.dtype == np.float64
    np.testing.assert_array_equal(back, host)
    host[0, 0] = 99.0  # asarray copies: the backend array does not see host edits
    assert npgen.to_numpy(a)[0, 0] == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_asarray_dtype_strings(backend, dtype):
    a = npgen.asarray([1.0, 2.0], dtype=dtype)
    assert a.dtype == getattr(backend.xp, dtype)


def test_resolve_dtype_accepts_objects_of_other_libraries(backend):
    xp = backend.xp
    assert npgen.backend.resolve_dtype(np.float64, xp) == xp.float64
    assert npgen.backend.resolve_dtype(np.dtype("float32"), xp) == xp.float32
    assert npgen.backend.resolve_dtype(xp.float64, xp) == xp.float64
    assert npgen.backend.resolve_dtype(None, xp) == xp.float32
    with pytest.raises(TypeError, match="float32 and float64"):
        npgen.backend.resolve_dtype("int8", xp)


def test_portable_rng_gives_identical_numbers_on_every_backend(backend):
    rng = npgen.default_rng(123, portable=True)
    here = npgen.to_numpy(rng.normal((3, 4), dtype="float64"))
    expected = np.random.default_rng(123).normal(0.0, 1.0, size=(3, 4))
    np.testing.assert_array_equal(here, expected)


def test_rng_arrays_live_on_the_backend_device(backend):
    rng = npgen.default_rng(0)
    for a in (rng.normal((2, 2)), rng.uniform((2, 2), -1.0, 1.0, dtype="float64")):
        where = npgen.backend.backend_of(a)
        assert (where.name, str(where.device)) == (backend.name, str(backend.device))


def test_rng_state_round_trip_continues_identically(backend):
    rng = npgen.default_rng(7)
    rng.normal((5,))
    state = rng.state_dict()
    first = npgen.to_numpy(rng.normal((4,), dtype="float64"))
    other = npgen.default_rng(99)
    other.load_state_dict(state)
    np.testing.assert_array_equal(npgen.to_numpy(other.normal((4,), dtype="float64")), first)


def test_uniform_range_and_permutation(backend):
    rng = npgen.default_rng(1)
    u = npgen.to_numpy(rng.uniform((1000,), 2.0, 3.0, dtype="float64"))
    assert u.min() >= 2.0 and u.max() < 3.0
    assert sorted(rng.permutation(10).tolist()) == list(range(10))


def test_to_numpy_refuses_nothing_the_backends_hold(backend):
    x = npgen.asarray(np.ones((2, 2)), dtype="float32")
    assert npgen.to_numpy(x).dtype == np.float32


def _numpy_only_helper(a):
    """A typical porting mistake: convert to NumPy implicitly to do the math there."""
    return np.asarray(a) * 2.0


def test_matrix_catches_a_numpy_only_call():
    """The device1 row exists to catch host round-trips like the helper above."""
    with npgen.use_backend("array_api_strict", "device1"):
        x = npgen.asarray(np.ones(3), dtype="float64")
        with pytest.raises(RuntimeError, match="device1"):
            _numpy_only_helper(x)
        # ... while the same mistake passes silently on numpy:
    with npgen.use_backend("numpy"):
        assert _numpy_only_helper(npgen.asarray(np.ones(3))).sum() == 6.0


def test_matrix_catches_a_missing_device_argument():
    """Creating an array without device= puts it on the default device: mixing then fails."""
    with npgen.use_backend("array_api_strict", "device1") as b:
        x = npgen.asarray(np.ones(3), dtype="float64")
        forgot_device = b.xp.zeros(3, dtype=b.xp.float64)
        with pytest.raises(ValueError, match="different devices"):
            _ = x + forgot_device


# ----------------------------------------------------------------------------
# The RNG adapters draw exactly what their library draws
# ----------------------------------------------------------------------------

_DRAWS = st.tuples(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 4), min_size=1, max_size=3),
                   st.floats(-3.0, 3.0), st.floats(0.1, 4.0),
                   st.sampled_from(["float32", "float64"]))


def _library_draws(backend, seed, shape, a, b, dtype, portable):
    """normal(a, b), uniform(a, a + b) and permutation(7) drawn by the library itself."""
    if portable or backend.name != "torch":
        host = np.random.default_rng(seed)
        return (host.normal(a, b, size=shape).astype(dtype),
                host.uniform(a, a + b, size=shape).astype(dtype), host.permutation(7))
    import torch

    generator = torch.Generator().manual_seed(seed)
    kind = getattr(torch, dtype)
    return (torch.empty(shape, dtype=kind).normal_(a, b, generator=generator).numpy(),
            torch.empty(shape, dtype=kind).uniform_(a, a + b, generator=generator).numpy(),
            torch.randperm(7, generator=generator).numpy())


@pytest.mark.parametrize("portable", [False, True])
@given(draw=_DRAWS)
@settings(max_examples=10)
def test_rng_draws_bit_identically_to_its_library(backend, portable, draw):
    seed, shape, a, b, dtype = draw
    rng = npgen.RNG(seed, portable=portable)
    ours = (npgen.to_numpy(rng.normal(tuple(shape), a, b, dtype=dtype)),
            npgen.to_numpy(rng.uniform(tuple(shape), a, a + b, dtype=dtype)), rng.permutation(7))
    for got, expected in zip(ours, _library_draws(backend, seed, tuple(shape), a, b, dtype,
                                                  portable), strict=True):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


def test_rng_state_kind_follows_the_adapter(backend):
    native, portable = npgen.RNG(3), npgen.RNG(3, portable=True)
    kind = "torch" if backend.name == "torch" else "numpy-pcg64"
    assert native.state_dict()["kind"] == kind and native.portable == (kind != "torch")
    assert portable.state_dict()["kind"] == "numpy-pcg64" and portable.portable
    if backend.name == "torch":
        with pytest.raises(ValueError, match="cannot load a 'numpy-pcg64' state into a torch"):
            native.load_state_dict(portable.state_dict())
    with pytest.raises(ValueError, match="cannot load a 'torch' state into a portable"):
        portable.load_state_dict({"kind": "torch", "state": None})
    with pytest.raises(ValueError, match="cannot load a None state"):
        portable.load_state_dict({"state": None})


class _FakeCupyDevice:
    """Stands in for cupy.cuda.Device: a context manager that counts its uses."""

    def __init__(self):
        self.entered = 0

    def __enter__(self):
        self.entered += 1

    def __exit__(self, *exc):
        return False


class _FakeCupyArray(np.ndarray):
    def get(self):
        return np.asarray(self)


def _fake_cupy_generator(seed):
    """cupy.random.default_rng's three methods, drawn by NumPy's PCG64 on the host."""
    host = np.random.default_rng(seed)
    return types.SimpleNamespace(normal=host.normal, uniform=host.uniform,
                                 permutation=lambda n: host.permutation(n).view(_FakeCupyArray))


def test_cupy_adapter_draws_on_the_device_and_refuses_checkpoints(monkeypatch):
    """No GPU here: a fake cupy checks the adapter's calls, its device context and its
    refusal to save or load a state."""
    fake = types.ModuleType("cupy")
    fake.random = types.SimpleNamespace(default_rng=_fake_cupy_generator)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    device = _FakeCupyDevice()
    rng = npgen.RNG(11, backend=npgen.Backend(name="cupy", xp=np, device=device))
    expected = np.random.default_rng(11)
    np.testing.assert_array_equal(rng.normal((2, 3), dtype="float64"), expected.normal(size=(2, 3)))
    np.testing.assert_array_equal(rng.uniform((4,), dtype="float64"), expected.uniform(size=4))
    assert type(rng.permutation(5)) is np.ndarray
    assert not rng.portable and device.entered == 4  # constructor + three draws
    with pytest.raises(NotImplementedError, match="portable=True"):
        rng.state_dict()
    with pytest.raises(ValueError, match="cannot load a 'numpy-pcg64' state into a cupy"):
        rng.load_state_dict(npgen.RNG(0, portable=True).state_dict())


def test_namespace_of_is_array_namespace_memoized(backend):
    """The one way npgen code gets xp: the same namespace and the same TypeErrors as
    array_api_compat.array_namespace (non-arrays, no array at all, two libraries)."""
    import array_api_compat

    x = npgen.asarray(np.ones((2, 3)), dtype="float64")
    expected = array_api_compat.array_namespace(x)
    assert npgen.backend.namespace_of(x) is expected
    assert npgen.backend.namespace_of(x, None, x[0, ...]) is expected  # None is skipped
    assert npgen.backend.namespace_of(x) is expected  # the memoized path
    for bad in ([1.0, 2.0], "x", 3.0, None):
        with pytest.raises(TypeError):
            npgen.backend.namespace_of(bad)
    with pytest.raises(TypeError):
        npgen.backend.namespace_of()
    if backend.name != "numpy":
        with pytest.raises(TypeError, match="Multiple namespaces"):
            npgen.backend.namespace_of(x, np.ones(3))


def test_only_the_backend_package_asks_array_api_compat_for_a_namespace():
    """One way to get xp: every module outside npgen/backend/ calls npgen.backend.namespace_of."""
    package = Path(npgen.__file__).parent
    strays = [str(path.relative_to(package)) for path in package.rglob("*.py")
              if "backend" not in path.relative_to(package).parts
              and "array_api_compat" in path.read_text()]
    assert strays == []
