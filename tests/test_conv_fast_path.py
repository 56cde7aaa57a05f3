"""The Winograd fast path of conv2d / conv_transpose2d is held equal to the im2col reference.

Geometries that take the fast path (kernel 4, stride 2, dilation 1, channels > 3) are drawn by
``npgen.testing.strategies.fast_conv*_geometries``; each is run twice, under
``use_conv_path("reference")`` and ``use_conv_path("auto")``, on every backend row, with 1
and 2 chunk workers and chunk sizes that do not divide the batch. Tolerances: float64 1e-12
(both paths are exact up to rounding); float32 against the float64 reference, 1e-5 of the
output's scale (Winograd adds a few additions per product; measured worst about 2e-6).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgen
from npgen.backend import set_cpu_workers
from npgen.functional import conv_winograd
from npgen.functional.conv import (
    conv2d_backward,
    conv2d_forward,
    conv_path,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
    get_conv_path,
    set_conv_path,
    use_conv_path,
)
from npgen.gradcheck import check_double_backward, check_module, check_vjp
from npgen.nn import Conv2d, ConvTranspose2d
from npgen.testing import strategies as nst

FLOAT32_TOLERANCE = 1e-5  # of max |reference|: the float32 fast path against float64


@pytest.fixture(params=[1, 2], ids=["1-worker", "2-workers"])
def workers(request):
    """Chunked execution with ``workers`` threads; the chunk size is set by each test."""
    previous = set_cpu_workers(request.param)
    yield request.param
    set_cpu_workers(**previous)


def _chunk_rows(data, tiles_per_item):
    """A chunk of 1-3 items, so that the batch is split and often not evenly."""
    set_cpu_workers(rows=tiles_per_item * data.draw(st.integers(1, 3), label="items per chunk"))


def _tiles(out_size):
    return ((out_size[0] + 1) // 2) * ((out_size[1] + 1) // 2)


def _operands(shapes, bias, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    arrays[-1] = arrays[-1] if bias else None
    return [None if a is None else npgen.asarray(a, dtype=dtype) for a in arrays]


def _both_paths(forward, backward, args, kwargs, dy_shape, seed=1):
    """(reference results, fast results): forward output and every gradient, on the host."""
    dy = npgen.asarray(np.random.default_rng(seed).standard_normal(dy_shape),
                       dtype=npgen.backend.dtype_name(args[0].dtype))
    results = []
    for path in ("reference", "auto"):
        with use_conv_path(path):
            y, cache = forward(*args, **kwargs)
            grads = backward(dy, cache)
        results.append([npgen.to_numpy(a) for a in (y, *grads) if a is not None])
    return results


def _conv2d_case(g, bias, dtype="float64"):
    x, weight, b = _operands((g.input_shape, g.weight_shape, (g.out_channels,)), bias, dtype)
    return (x, weight, b), dict(stride=2, padding=g.padding), g.output_shape


def _conv_t_case(g, bias, dtype="float64"):
    x, weight, b = _operands((g.input_shape, g.weight_shape, (g.out_channels,)), bias, dtype)
    kwargs = dict(stride=2, padding=g.padding, output_padding=g.output_padding)
    return (x, weight, b), kwargs, g.output_shape


# ----------------------------------------------------------------------------
# Fast path == reference (forward and every gradient)
# ----------------------------------------------------------------------------


@given(g=nst.fast_conv2d_geometries(), bias=st.booleans(), data=st.data())
def test_conv2d_fast_path_equals_reference_float64(backend, workers, g, bias, data):
    _chunk_rows(data, _tiles(g.output_size))
    args, kwargs, out_shape = _conv2d_case(g, bias)
    assert conv_path(g.in_channels, g.out_channels, (4, 4), (2, 2), (1, 1))[0] == "winograd"
    reference, fast = _both_paths(conv2d_forward, conv2d_backward, args, kwargs, out_shape)
    for name, want, got in zip(("y", "dx", "dweight", "dbias"), reference, fast):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


@given(g=nst.fast_conv_transpose2d_geometries(), bias=st.booleans(), data=st.data())
def test_conv_transpose2d_fast_path_equals_reference_float64(backend, workers, g, bias, data):
    _chunk_rows(data, _tiles(g.size))
    args, kwargs, out_shape = _conv_t_case(g, bias)
    reference, fast = _both_paths(conv_transpose2d_forward, conv_transpose2d_backward, args,
                                  kwargs, out_shape)
    for name, want, got in zip(("y", "dx", "dweight", "dbias"), reference, fast):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@given(data=st.data())
def test_float32_fast_path_is_within_float32_noise_of_float64(backend, transposed, data):
    """The fast path in float32 against the float64 reference, for y and every gradient."""
    if transposed:
        g = data.draw(nst.fast_conv_transpose2d_geometries(max_channels=12), label="g")
        make, ops = _conv_t_case, (conv_transpose2d_forward, conv_transpose2d_backward)
    else:
        g = data.draw(nst.fast_conv2d_geometries(max_channels=12), label="g")
        make, ops = _conv2d_case, (conv2d_forward, conv2d_backward)
    exact = _both_paths(*ops, *make(g, True), g.output_shape)[0]  # float64 reference
    fast = _both_paths(*ops, *make(g, True, "float32"), g.output_shape)[1]
    for name, want, got in zip(("y", "dx", "dweight", "dbias"), exact, fast):
        assert got.dtype == np.float32, name
        scale = np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=0, atol=FLOAT32_TOLERANCE * scale,
                                   err_msg=name)


# ----------------------------------------------------------------------------
# Gradient checks of the fast path itself (float64 central differences)
# ----------------------------------------------------------------------------
# Few examples: the smallest fast-path weight already has 4*4*4*4 = 256 elements, two
# forwards each; the float64 equality tests above cover the geometry space.
GRADCHECK_EXAMPLES = settings(max_examples=3)


@GRADCHECK_EXAMPLES
@given(g=nst.fast_conv2d_geometries(max_batch=2, max_channels=4, max_size=5), data=st.data())
def test_conv2d_fast_path_gradcheck(backend, g, data):
    _chunk_rows(data, _tiles(g.output_size))
    args, kwargs, _ = _conv2d_case(g, True)

    def f(x, w, b):
        return conv2d_forward(x, w, b, **kwargs)[0]

    def vjp(dy, x, w, b):
        return conv2d_backward(dy, conv2d_forward(x, w, b, **kwargs)[1])

    try:
        assert isinstance(conv2d_forward(*args, **kwargs)[1], conv_winograd.WinogradConv2dCache)
        check_vjp(f, vjp, args, names=("x", "weight", "bias"))
    finally:
        set_cpu_workers()


@pytest.mark.parametrize("layer, size", [(Conv2d, (5, 6)), (ConvTranspose2d, (3, 2))])
def test_modules_on_the_fast_path_pass_check_module(backend, layer, size):
    """One fixed geometry per layer (the functional checks above draw the geometries)."""
    module = layer(4, 5, 4, 2, 1, dtype="float64", seed=0)
    x = _operands([(2, 4, *size), (1,)], False)[0]
    module(x)
    assert type(module._cache).__name__.startswith("Winograd")
    check_module(module, x)


@pytest.mark.parametrize("layer, size", [(Conv2d, (5, 6)), (ConvTranspose2d, (3, 2))])
def test_double_backward_on_a_fast_path_cache_equals_the_reference(backend, layer, size):
    """A WGAN-GP critic's k4 s2 layers run on the fast path: their second order (im2col, it
    never reads x) takes the Winograd cache's geometry and matches the reference path's."""
    x, dy_source = _operands([(2, 4, *size), (1,)], False)[0], None
    results = []
    for path in ("reference", "auto"):
        with use_conv_path(path):
            module = layer(4, 5, 4, 2, 1, dtype="float64", seed=0)
            y = module(x)
            dy_source = dy_source if dy_source is not None else _operands([tuple(y.shape),
                                                                           (1,)], False, seed=1)[0]
            module.backward(dy_source)
            module.zero_grad()
            d_dy, d_x = module.double_backward(x * 0.5)
            results.append([npgen.to_numpy(a) for a in (d_dy, d_x, module.gradients()["weight"])])
            fast_module = module
    assert type(fast_module._cache).__name__.startswith("Winograd")
    for reference, fast in zip(*results):
        assert np.allclose(fast, reference, rtol=1e-12, atol=1e-12)
    with use_conv_path("auto"):
        check_double_backward(fast_module, x)


# ----------------------------------------------------------------------------
# Dispatch: which geometry takes which path, and the switch
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("geometry, path", [
    ((64, 128, (4, 4), (2, 2), (1, 1)), "winograd"),
    ((4, 4, (4, 4), (2, 2), (1, 1)), "winograd"),
    ((3, 64, (4, 4), (2, 2), (1, 1)), "reference"),  # thin: C_in <= 3
    ((64, 3, (4, 4), (2, 2), (1, 1)), "reference"),  # thin: C_out <= 3
    ((64, 64, (3, 3), (2, 2), (1, 1)), "reference"),
    ((64, 64, (4, 4), (1, 1), (1, 1)), "reference"),
    ((64, 64, (4, 4), (2, 2), (2, 2)), "reference"),
    ((64, 64, (4, 2), (2, 2), (1, 1)), "reference"),
])
def test_conv_path_says_which_geometry_takes_the_fast_path(geometry, path):
    chosen, reason = conv_path(*geometry)
    assert chosen == path and reason
    with use_conv_path("reference"):
        assert conv_path(*geometry) == ("reference", conv_path(1, 1, (1, 1), (1, 1), (1, 1))[1])
        assert "forced" in conv_path(*geometry)[1]


def test_set_conv_path_env_var_and_errors(monkeypatch):
    assert get_conv_path() == "auto"
    monkeypatch.setenv("NPGEN_CONV_PATH", "reference")
    assert get_conv_path() == "reference"
    x, w = _operands([(2, 4, 8, 8), (5, 4, 4, 4), (1,)], False)[:2]
    assert type(conv2d_forward(x, w, None, 2, 1)[1]).__name__ == "Conv2dCache"
    monkeypatch.setenv("NPGEN_CONV_PATH", "fast")
    with pytest.raises(ValueError, match=r"NPGEN_CONV_PATH must be one of \('auto', 'refer"):
        get_conv_path()
    monkeypatch.delenv("NPGEN_CONV_PATH")
    assert set_conv_path("reference") is None
    try:
        assert npgen.get_conv_path() == "reference"
        monkeypatch.setenv("NPGEN_CONV_PATH", "auto")
        assert npgen.get_conv_path() == "reference"  # set_conv_path overrides the variable
    finally:
        assert set_conv_path(None) == "reference"
    with pytest.raises(ValueError, match=r"set_conv_path: expected one of \('auto', 'refer"):
        set_conv_path("winograd")
    assert type(conv2d_forward(x, w, None, 2, 1)[1]).__name__ == "WinogradConv2dCache"


def test_set_cpu_workers_rejects_bad_values():
    with pytest.raises(ValueError, match="set_cpu_workers: workers must be a positive int"):
        set_cpu_workers(0)
    with pytest.raises(ValueError, match="set_cpu_workers: rows must be a positive int"):
        set_cpu_workers(rows=2.5)
