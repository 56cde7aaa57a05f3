"""The JAX bridge: jax_vjp feeds npgen's cotangent to custom_vjp, arrays both ways, x64 refused
when off, check_vjp on JAX arrays. Kept lean: JAX's first calls of each shape are slow."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from npgen.gradcheck import GradcheckError, check_vjp
from npgen.verify import api as verify

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

from npgen.interop.jax import from_jax, jax_vjp, to_jax  # noqa: E402  (after x64 is on)


def _dense(x, w, b):
    return x @ w.T + (0.0 if b is None else b)


def test_arrays_both_ways_keep_float64():
    a = np.arange(6.0).reshape(2, 3) / 7
    j = to_jax(a)
    assert isinstance(j, jax.Array) and j.dtype == jnp.float64
    back = from_jax(j)
    assert isinstance(back, np.ndarray) and back.dtype == np.float64
    np.testing.assert_array_equal(back, a)


def test_jax_dense_passes_and_a_wrong_one_is_caught():
    assert verify.verify_dense(_dense, jax_vjp(_dense, 3), array_library="jax",
                               max_examples=4).ok

    def half_weight(x, w, b):
        return x @ (0.5 * w).T + (0.0 if b is None else b)

    report = verify.verify_dense(half_weight, jax_vjp(half_weight, 3), array_library="jax",
                                 max_examples=4, raise_exception=False)
    assert report.stage == "forward" and report.failure.name == "y"


def test_custom_vjp_sees_npgens_cotangent():
    """A custom_vjp bwd that ignores g is caught through jax_vjp (but not through jax.grad)."""
    @jax.custom_vjp
    def kl(mu, lv):
        return 0.5 * jnp.sum(mu**2 + jnp.exp(lv) - 1 - lv) / mu.shape[0]

    def fwd(mu, lv):
        return kl(mu, lv), (mu, lv)

    def bwd(res, g):
        mu, lv = res
        return mu / mu.shape[0], 0.5 * jnp.expm1(lv) / mu.shape[0]  # g ignored

    kl.defvjp(fwd, bwd)
    options = dict(array_library="jax", max_examples=4, raise_exception=False)
    caught = verify.verify_gaussian_kl(kl, jax_vjp(kl, 2, loss=True), **options)
    assert not caught.ok and caught.stage == "backward"
    missed = verify.verify_gaussian_kl(kl, jax.grad(kl, argnums=(0, 1)), **options)
    assert missed.ok and "cannot be detected" in str(missed)


def test_check_vjp_takes_jax_arrays():
    x = jnp.linspace(-2.0, 2.0, 6).reshape(2, 3)
    report = check_vjp(jnp.tanh, lambda dy, x: (dy * (1 - jnp.tanh(x) ** 2),), (x,))
    assert report.ok and "JAX inputs" in report.notes[0]
    with pytest.raises(GradcheckError):
        check_vjp(jnp.tanh, lambda dy, x: (dy * (1 - jnp.tanh(x)),), (x,))


def test_x64_off_is_refused_or_loud():
    """In a fresh process (x64 is process-wide state): jax_vjp refuses, verify warns."""
    code = """
import warnings, numpy as np
import npgen.verify as v
from npgen.interop.jax import jax_vjp
try:
    jax_vjp(lambda x: x, 1)
    raise SystemExit("not refused")
except RuntimeError as exc:
    assert "jax_enable_x64 is off" in str(exc), exc
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    report = v.verify_activation("tanh", lambda x: __import__("jax").numpy.tanh(x),
                                 array_library="jax", max_examples=2)
assert any("float32 tolerances apply" in str(w.message) for w in caught)
assert "float32 tolerances apply" in str(report), report
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_import_npgen_does_not_import_jax():
    code = ("import sys, npgen, npgen.verify, npgen.verify.adapters, npgen.interop; "
            "assert 'jax' not in sys.modules, 'jax imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_jax_gives_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.delitem(sys.modules, "npgen.interop.jax", raising=False)
    with pytest.raises(ImportError, match=r'pip install "npgen\[jax\]"'):
        import npgen.interop.jax  # noqa: F401
