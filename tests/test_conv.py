"""Conv2d / ConvTranspose2d: forward vs loop twins, gradient checks, duality, torch, errors.

Every backend-agnostic test takes the ``backend`` fixture (numpy, array_api_strict on
device1, torch). References are independent of the code under test: the loop twins in
``npgen.testing.reference``, the adjoint identity, and ``torch.nn.functional`` in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import host
from hypothesis import given
from hypothesis import strategies as st

import npgen
from npgen.backend import backend_of
from npgen.functional.conv import (
    conv2d_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from npgen.gradcheck import check_vjp
from npgen.nn import Conv2d, ConvTranspose2d
from npgen.testing import strategies as nst
from npgen.testing.reference import conv2d_reference, conv_transpose2d_reference


def conv_args(g):
    return dict(stride=g.stride, padding=g.padding, dilation=g.dilation)


def conv_t_args(g):
    return dict(stride=g.stride, padding=g.padding, output_padding=g.output_padding,
                dilation=g.dilation)


def draw_operands(data, g, bias: bool):
    x = data.draw(nst.float_arrays(g.input_shape), label="x")
    weight = data.draw(nst.float_arrays(g.weight_shape), label="weight")
    b = data.draw(nst.float_arrays((g.out_channels,)), label="bias") if bias else None
    return x, weight, b


# ----------------------------------------------------------------------------
# Forward against the loop twins
# ----------------------------------------------------------------------------


@given(g=nst.conv2d_geometries(), bias=st.booleans(), data=st.data())
def test_conv2d_forward_matches_loop_reference(backend, g, bias, data):
    x, weight, b = draw_operands(data, g, bias)
    y, _ = conv2d_forward(x, weight, b, **conv_args(g))
    assert tuple(y.shape) == g.output_shape
    assert backend_of(y).name == backend.name and str(backend_of(y).device) == str(
        backend.device)
    expected = conv2d_reference(host(x), host(weight), host(b), **conv_args(g))
    np.testing.assert_allclose(npgen.to_numpy(y), expected, rtol=1e-12, atol=1e-12)


@given(g=nst.conv_transpose2d_geometries(), bias=st.booleans(), data=st.data())
def test_conv_transpose2d_forward_matches_loop_reference(backend, g, bias, data):
    x, weight, b = draw_operands(data, g, bias)
    y, _ = conv_transpose2d_forward(x, weight, b, **conv_t_args(g))
    assert tuple(y.shape) == g.output_shape
    assert backend_of(y).name == backend.name
    expected = conv_transpose2d_reference(host(x), host(weight), host(b), **conv_t_args(g))
    np.testing.assert_allclose(npgen.to_numpy(y), expected, rtol=1e-12, atol=1e-12)


def test_float32_stays_float32(backend):
    x = npgen.asarray(np.ones((1, 2, 5, 5)), dtype="float32")
    w = npgen.asarray(np.ones((3, 2, 3, 3)), dtype="float32")
    y, cache = conv2d_forward(x, w, padding=1)
    dx, dw, db = conv2d_backward(y, cache)
    assert {npgen.backend.dtype_name(a.dtype) for a in (y, dx, dw)} == {"float32"}
    assert db is None
    y_t, cache_t = conv_transpose2d_forward(x, npgen.asarray(np.ones((2, 3, 3, 3)),
                                                             dtype="float32"), stride=2)
    assert npgen.backend.dtype_name(conv_transpose2d_backward(y_t, cache_t)[0].dtype) == "float32"


# ----------------------------------------------------------------------------
# Gradient checks (float64 central differences, default tolerances)
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
def test_output_padding_not_smaller_than_stride(backend, bias):
    """op >= s is allowed when d > s: the conv2d computing dx must stop at H x W."""
    rng = np.random.default_rng(5)
    g = nst.ConvTransposeGeometry(batch=2, in_channels=2, out_channels=3, size=(3, 2),
                                  kernel_size=(2, 3), stride=(1, 2), padding=(1, 0),
                                  output_padding=(1, 2), dilation=(2, 3))
    x, weight, b = (npgen.asarray(rng.normal(size=shape), dtype="float64")
                    for shape in (g.input_shape, g.weight_shape, (g.out_channels,)))
    inputs = (x, weight, b) if bias else (x, weight)

    def f(*args):
        return conv_transpose2d_forward(*args, **conv_t_args(g))[0]

    def vjp(dy, *args):
        return conv_transpose2d_backward(dy, conv_transpose2d_forward(*args, **conv_t_args(g))[1])[
            :len(args)]

    assert tuple(f(*inputs).shape) == g.output_shape
    check_vjp(f, vjp, inputs)
    expected = conv_transpose2d_reference(*(host(a) for a in inputs), **conv_t_args(g))
    np.testing.assert_allclose(npgen.to_numpy(f(*inputs)), expected, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------
# Duality: conv_transpose2d is the adjoint of conv2d in x
# ----------------------------------------------------------------------------


@given(g=nst.conv2d_geometries(), data=st.data())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(backend, g, data):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for every x and y."""
    x = data.draw(nst.float_arrays(g.input_shape), label="x")
    weight = data.draw(nst.float_arrays(g.weight_shape), label="weight")
    y = data.draw(nst.float_arrays(g.output_shape), label="y")
    # The rows of x that a strided conv2d never reads decide which output size is meant.
    output_padding = tuple(
        (n + 2 * p - d * (k - 1) - 1) % s
        for n, k, s, p, d in zip(g.size, g.kernel_size, g.stride, g.padding, g.dilation))
    conv_x, _ = conv2d_forward(x, weight, **conv_args(g))
    transposed_y, _ = conv_transpose2d_forward(y, weight, output_padding=output_padding,
                                               **conv_args(g))
    assert tuple(transposed_y.shape) == g.input_shape
    lhs = float(np.sum(npgen.to_numpy(conv_x) * npgen.to_numpy(y)))
    rhs = float(np.sum(npgen.to_numpy(x) * npgen.to_numpy(transposed_y)))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-10)


# ----------------------------------------------------------------------------
# PyTorch cross-checks (float64)
# ----------------------------------------------------------------------------


def _torch_grads(torch_fn, x, weight, b, dy, kwargs):
    import torch

    tensors = [torch.tensor(host(a), requires_grad=True) for a in (x, weight, b) if a is not None]
    y = torch_fn(*tensors[:2], tensors[2] if b is not None else None, **kwargs)
    y.backward(torch.tensor(host(dy)))
    return y.detach().numpy(), [t.grad.numpy() for t in tensors]


@given(g=nst.conv2d_geometries(), bias=st.booleans(), data=st.data())
def test_conv2d_matches_torch(backend, g, bias, data):
    torch = pytest.importorskip("torch")
    x, weight, b = draw_operands(data, g, bias)
    dy = data.draw(nst.float_arrays(g.output_shape), label="dy")
    y, cache = conv2d_forward(x, weight, b, **conv_args(g))
    grads = [a for a in conv2d_backward(dy, cache) if a is not None]
    y_ref, grads_ref = _torch_grads(torch.nn.functional.conv2d, x, weight, b, dy, conv_args(g))
    for ours, theirs in zip([y, *grads], [y_ref, *grads_ref]):
        np.testing.assert_allclose(npgen.to_numpy(ours), theirs, rtol=1e-11, atol=1e-11)


@given(g=nst.conv_transpose2d_geometries(), bias=st.booleans(), data=st.data())
def test_conv_transpose2d_matches_torch(backend, g, bias, data):
    torch = pytest.importorskip("torch")
    x, weight, b = draw_operands(data, g, bias)
    dy = data.draw(nst.float_arrays(g.output_shape), label="dy")
    y, cache = conv_transpose2d_forward(x, weight, b, **conv_t_args(g))
    grads = [a for a in conv_transpose2d_backward(dy, cache) if a is not None]
    y_ref, grads_ref = _torch_grads(torch.nn.functional.conv_transpose2d, x, weight, b, dy,
                                    conv_t_args(g))
    for ours, theirs in zip([y, *grads], [y_ref, *grads_ref]):
        np.testing.assert_allclose(npgen.to_numpy(ours), theirs, rtol=1e-11, atol=1e-11)


LAYERS = [
    (Conv2d, dict(stride=2, padding=1), (2, 16, 9, 9)),
    (ConvTranspose2d, dict(stride=2, padding=1, output_padding=1), (2, 16, 4, 4)),
]


@pytest.mark.parametrize("layer_cls, kwargs, input_shape", LAYERS,
                         ids=[c.__name__ for c, _, _ in LAYERS])
def test_default_init_and_state_dict_match_torch(backend, layer_cls, kwargs, input_shape):
    """Same bounds as torch (fan_in from the weight layout), same keys, same outputs."""
    torch = pytest.importorskip("torch")
    ours = layer_cls(16, 256, 3, dtype="float64", seed=0, **kwargs)
    torch.manual_seed(0)
    theirs = getattr(torch.nn, layer_cls.__name__)(16, 256, 3, dtype=torch.float64, **kwargs)
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict()) == ["weight", "bias"]
    fan_in = 16 * 9 if layer_cls is Conv2d else 256 * 9  # torch: weight.shape[1] * kh * kw
    bound = 1.0 / np.sqrt(fan_in)
    for key in ("weight", "bias"):
        ours_max = np.abs(state[key]).max()
        theirs_max = theirs.state_dict()[key].abs().max().item()
        for largest in (ours_max, theirs_max):  # thousands (weight) or 256 (bias) draws
            assert 0.9 * bound < largest <= bound
    assert repr(ours) == repr(theirs)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    x_host = np.random.default_rng(1).normal(size=input_shape)
    y = ours(npgen.asarray(x_host, dtype="float64"))
    expected = theirs(torch.tensor(x_host)).detach().numpy()
    np.testing.assert_allclose(npgen.to_numpy(y), expected, rtol=1e-11, atol=1e-12)


def test_no_bias_state_dict(backend):
    layer = ConvTranspose2d(2, 3, 2, bias=False)
    assert list(layer.state_dict()) == ["weight"] == list(layer.gradients())
    assert layer.state_dict()["weight"].shape == (2, 3, 2, 2)
    assert npgen.backend.dtype_name(layer.parameters()["weight"].dtype) == "float32"


# ----------------------------------------------------------------------------
# Module protocol
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("layer_cls", [Conv2d, ConvTranspose2d])
def test_backward_before_forward_is_an_error(backend, layer_cls):
    layer = layer_cls(2, 3, 3)
    with pytest.raises(RuntimeError, match=f"{layer_cls.__name__}.backward called before"):
        layer.backward(npgen.asarray(np.ones((1, 3, 3, 3)), dtype="float32"))


@pytest.mark.parametrize("layer_cls", [Conv2d, ConvTranspose2d])
def test_gradients_accumulate_and_zero_grad_resets(backend, layer_cls):
    layer = layer_cls(2, 3, 3, padding=1, dtype="float64", seed=3)
    accumulators = layer.gradients()
    x = npgen.asarray(np.random.default_rng(0).normal(size=(2, 2, 4, 4)), dtype="float64")
    y = layer(x)
    dy = npgen.asarray(np.random.default_rng(1).normal(size=tuple(y.shape)), dtype="float64")
    layer.backward(dy)
    once = {k: npgen.to_numpy(g).copy() for k, g in layer.gradients().items()}
    layer.backward(dy)
    for key, g in layer.gradients().items():
        assert g is accumulators[key]  # the same live arrays, updated in place
        np.testing.assert_allclose(npgen.to_numpy(g), 2 * once[key], rtol=1e-14)
        assert np.abs(once[key]).max() > 0
    layer.zero_grad()
    assert all(not npgen.to_numpy(g).any() for g in layer.gradients().values())


# ----------------------------------------------------------------------------
# Bad input: the right error type, a message naming the op or the layer
# ----------------------------------------------------------------------------


def _arr(shape, dtype="float64"):
    return npgen.asarray(np.ones(shape), dtype=dtype)


CONV_ERRORS = [
    ("unbatched input", lambda: conv2d_forward(_arr((3, 5, 5)), _arr((2, 3, 3, 3))),
     ValueError, r"conv2d: expected a 4-D input.*unbatched"),
    ("weight rank", lambda: conv2d_forward(_arr((1, 3, 5, 5)), _arr((2, 3, 3))),
     ValueError, r"conv2d: expected a 4-D weight"),
    ("channels", lambda: conv2d_forward(_arr((1, 4, 5, 5)), _arr((2, 3, 3, 3))),
     ValueError, r"conv2d: the input has 4 channels"),
    ("kernel too large", lambda: conv2d_forward(_arr((1, 3, 4, 4)), _arr((2, 3, 3, 3)),
                                                dilation=2),
     ValueError, r"conv2d: the kernel .* is larger than the padded input"),
    ("stride 0", lambda: conv2d_forward(_arr((1, 3, 5, 5)), _arr((2, 3, 3, 3)), stride=0),
     ValueError, r"conv2d: stride must be >= 1"),
    ("dilation 0", lambda: conv2d_forward(_arr((1, 3, 5, 5)), _arr((2, 3, 3, 3)),
                                          dilation=(1, 0)),
     ValueError, r"conv2d: dilation must be >= 1"),
    ("negative padding", lambda: conv2d_forward(_arr((1, 3, 5, 5)), _arr((2, 3, 3, 3)),
                                                padding=-1),
     ValueError, r"conv2d: padding must be >= 0"),
    ("float stride", lambda: conv2d_forward(_arr((1, 3, 5, 5)), _arr((2, 3, 3, 3)), stride=1.5),
     TypeError, r"conv2d: stride must be an int or a pair"),
    ("bias shape", lambda: conv2d_forward(_arr((1, 3, 5, 5)), _arr((2, 3, 3, 3)), _arr((3,))),
     ValueError, r"conv2d: expected a bias of shape \(2,\)"),
    ("mixed dtypes", lambda: conv2d_forward(_arr((1, 3, 5, 5), "float32"), _arr((2, 3, 3, 3))),
     TypeError, r"conv2d: input is float32 but the weight is float64"),
    ("bias dtype", lambda: conv2d_forward(_arr((1, 3, 5, 5)), _arr((2, 3, 3, 3)),
                                          _arr((2,), "float32")),
     TypeError, r"conv2d: bias is float32"),
    ("integer input", lambda: conv2d_forward(npgen.asarray(np.ones((1, 3, 5, 5), dtype=int)),
                                             _arr((2, 3, 3, 3))),
     TypeError, r"conv2d: expected a floating-point input"),
    ("transposed channels", lambda: conv_transpose2d_forward(_arr((1, 2, 3, 3)),
                                                             _arr((3, 2, 3, 3))),
     ValueError, r"conv_transpose2d: the input has 2 channels"),
    ("transposed unbatched", lambda: conv_transpose2d_forward(_arr((2, 3, 3)),
                                                              _arr((2, 2, 3, 3))),
     ValueError, r"conv_transpose2d: expected a 4-D input.*unbatched"),
    ("output_padding >= max(s, d)", lambda: conv_transpose2d_forward(
        _arr((1, 2, 3, 3)), _arr((2, 2, 3, 3)), stride=2, output_padding=2),
     ValueError, r"conv_transpose2d: output_padding must be smaller than max\(stride, dil"),
    ("output_padding with stride 1", lambda: conv_transpose2d_forward(
        _arr((1, 2, 3, 3)), _arr((2, 2, 3, 3)), output_padding=1),
     ValueError, r"conv_transpose2d: output_padding must be smaller"),
    ("transposed output < 1", lambda: conv_transpose2d_forward(
        _arr((1, 2, 1, 1)), _arr((2, 2, 2, 2)), padding=1),
     ValueError, r"conv_transpose2d: the output size .* would be \(0, 0\)"),
    ("transposed bias", lambda: conv_transpose2d_forward(_arr((1, 2, 3, 3)), _arr((2, 4, 3, 3)),
                                                         _arr((2,))),
     ValueError, r"conv_transpose2d: expected a bias of shape \(4,\)"),
]


@pytest.mark.parametrize("build, error, match", [c[1:] for c in CONV_ERRORS],
                         ids=[c[0] for c in CONV_ERRORS])
def test_functional_bad_input(backend, build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_backward_rejects_a_wrong_dy(backend):
    y, cache = conv2d_forward(_arr((1, 3, 5, 5)), _arr((2, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d_backward: expected dy of the output's shape"):
        conv2d_backward(_arr((1, 2, 5, 5)), cache)
    with pytest.raises(TypeError, match=r"conv2d_backward: dy is float32"):
        conv2d_backward(_arr(tuple(y.shape), "float32"), cache)
    _, cache_t = conv_transpose2d_forward(_arr((1, 2, 3, 3)), _arr((2, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"conv_transpose2d_backward: expected dy"):
        conv_transpose2d_backward(_arr((1, 2, 3, 3)), cache_t)


def _other_backend_array(backend, shape):
    """The same data on another library (numpy, or torch when the row is numpy)."""
    other = "torch" if backend.name == "numpy" else "numpy"
    if other == "torch":
        pytest.importorskip("torch")
    with npgen.use_backend(other):
        return _arr(shape)


def test_mixed_libraries_and_devices_are_errors(backend):
    weight = _arr((2, 3, 3, 3))
    x_elsewhere = _other_backend_array(backend, (1, 3, 5, 5))
    with pytest.raises(TypeError, match=r"conv2d: arrays must come from one array library"):
        conv2d_forward(x_elsewhere, weight)
    with pytest.raises(TypeError, match=r"conv_transpose2d: arrays must come from one"):
        conv_transpose2d_forward(_arr((1, 2, 3, 3)), _arr((2, 2, 3, 3)),
                                 _other_backend_array(backend, (2,)))
    if backend.name == "array_api_strict":  # same library, another device
        with npgen.use_backend("array_api_strict", "CPU_DEVICE"):
            x_cpu = _arr((1, 3, 5, 5))
        with pytest.raises(TypeError, match=r"conv2d: input is on array_api_strict/.*CPU"):
            conv2d_forward(x_cpu, weight)


MODULE_ERRORS = [
    ("float64 into float32", lambda: Conv2d(3, 8, 3)(_arr((1, 3, 5, 5), "float64")),
     TypeError, r"Conv2d\(3, 8, kernel_size=\(3, 3\)\): input is float64 but the weight is "
                r"float32"),
    ("unbatched", lambda: Conv2d(3, 8, 3)(_arr((3, 5, 5), "float32")),
     ValueError, r"Conv2d\(3, 8, kernel_size=\(3, 3\)\): expected a 4-D input \(N, 3, H, W\) "
                 r"\(an unbatched"),
    ("channels", lambda: Conv2d(3, 8, 3)(_arr((1, 4, 5, 5), "float32")),
     ValueError, r"Conv2d\(3, 8, kernel_size=\(3, 3\)\): expected input with 3 channels"),
    ("input too small", lambda: Conv2d(3, 8, 3)(_arr((1, 3, 2, 2), "float32")),
     ValueError, r"Conv2d\(3, 8, kernel_size=\(3, 3\)\): conv2d: the kernel"),
    ("transposed channels", lambda: ConvTranspose2d(3, 8, 3)(_arr((1, 8, 5, 5), "float32")),
     ValueError, r"ConvTranspose2d\(3, 8, kernel_size=\(3, 3\)\): expected input with 3 ch"),
    ("transposed float64", lambda: ConvTranspose2d(3, 8, 3)(_arr((1, 3, 5, 5), "float64")),
     TypeError, r"ConvTranspose2d\(3, 8, kernel_size=\(3, 3\)\): input is float64"),
    ("transposed output < 1", lambda: ConvTranspose2d(1, 1, 1, padding=1)(
        _arr((1, 1, 1, 1), "float32")),
     ValueError, r"ConvTranspose2d\(1, 1, kernel_size=\(1, 1\)\): conv_transpose2d: the out"),
    ("wrong dy", lambda: _forwarded(Conv2d(3, 8, 3)).backward(_arr((1, 8, 2, 2), "float32")),
     ValueError, r"Conv2d\(3, 8, kernel_size=\(3, 3\)\): conv2d_backward: expected dy"),
    ("output_padding", lambda: ConvTranspose2d(3, 8, 3, stride=2, output_padding=2),
     ValueError, r"ConvTranspose2d: output_padding must be smaller than max"),
    ("zero channels", lambda: Conv2d(0, 8, 3),
     ValueError, r"Conv2d: in_channels must be a positive int"),
    ("kernel 0", lambda: ConvTranspose2d(3, 8, 0),
     ValueError, r"ConvTranspose2d: kernel_size must be >= 1"),
    ("negative padding", lambda: Conv2d(3, 8, 3, padding=-1),
     ValueError, r"Conv2d: padding must be >= 0"),
    ("dtype", lambda: Conv2d(3, 8, 3, dtype="int32"),
     TypeError, r"Conv2d: dtype must be float32 or float64"),
    ("rng and seed", lambda: Conv2d(3, 8, 3, rng=npgen.RNG(0), seed=0),
     ValueError, r"Conv2d: pass rng= or seed=, not both"),
]


def _forwarded(layer):
    layer(_arr((1, 3, 5, 5), "float32"))
    return layer


@pytest.mark.parametrize("build, error, match", [c[1:] for c in MODULE_ERRORS],
                         ids=[c[0] for c in MODULE_ERRORS])
def test_module_bad_input(backend, build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_module_rejects_another_library(backend):
    layer = Conv2d(3, 8, 3, dtype="float64")
    with pytest.raises(TypeError, match=r"Conv2d\(3, 8, kernel_size=\(3, 3\)\): input is on "):
        layer(_other_backend_array(backend, (1, 3, 5, 5)))


# ----------------------------------------------------------------------------
# One output-size rule: the checks refuse exactly the geometries torch refuses
# ----------------------------------------------------------------------------

_AXIS = st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(1, 3), st.integers(0, 3),
                  st.integers(1, 3))  # H, k, s, p, d of one axis, valid or not together


@given(axes=st.tuples(_AXIS, _AXIS), transposed=st.booleans(), data=st.data())
def test_output_size_checks_agree_with_torch(axes, transposed, data):
    """Function and layer raise (with their messages) exactly when torch does; otherwise the
    output has torch's shape, which is conv_output_size / conv_transpose_output_size's."""
    torch = pytest.importorskip("torch")
    (h, kh, sh, ph, dh), (w, kw, sw, pw, dw) = axes
    from npgen.functional.conv import conv_output_size, conv_transpose_output_size

    args = dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw))
    per_axis = list(zip((h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw)))  # (H, k, s, p, d)
    if transposed:
        args["output_padding"] = tuple(data.draw(st.integers(0, max(s, d) - 1), label="op")
                                       for s, d in ((sh, dh), (sw, dw)))
        size = tuple(conv_transpose_output_size(*a, op)
                     for a, op in zip(per_axis, args["output_padding"]))
    else:
        size = tuple(conv_output_size(*a) for a in per_axis)
    functional = conv_transpose2d_forward if transposed else conv2d_forward
    layer = (ConvTranspose2d if transposed else Conv2d)(1, 1, (kh, kw), dtype="float64", **args)
    x_host, w_host = np.ones((1, 1, h, w)), np.ones((1, 1, kh, kw))
    try:
        torch_function = torch.nn.functional.conv_transpose2d if transposed else \
            torch.nn.functional.conv2d
        expected = tuple(torch_function(torch.tensor(x_host), torch.tensor(w_host),
                                        **args).shape)
    except RuntimeError:
        expected = None
    assert (expected is None) == (min(size) < 1)
    x, weight = npgen.asarray(x_host), npgen.asarray(w_host)
    if expected is None:
        message = "the output size" if transposed else "the kernel"
        op_name = "conv_transpose2d" if transposed else "conv2d"
        with pytest.raises(ValueError, match=f"^{op_name}: {message}"):
            functional(x, weight, **args)
        with pytest.raises(ValueError, match=rf"\): {op_name}: {message}"):
            layer(x)
    else:
        assert expected == (1, 1, *size)
        assert tuple(functional(x, weight, **args)[0].shape) == expected
        assert tuple(layer(x).shape) == expected
