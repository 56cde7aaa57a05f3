"""Conv2d and ConvTranspose2d: thin modules over :mod:`npgen.functional.conv` (torch layouts).

Parameters, their layouts, default initialization, ``extra_repr`` and state-dict keys are
those of ``torch.nn.Conv2d`` / ``torch.nn.ConvTranspose2d`` (groups=1, zero padding), so
weights move between the two libraries. Unlike PyTorch, the input must be batched
(N, C, H, W) and must already have the layer's dtype, library and device.
"""

from __future__ import annotations

from npgen import init
from npgen._checks import conv as checks
from npgen._checks.primitives import check_positive_int, pair
from npgen.functional.conv import (
    Geometry,
    conv2d,
    conv2d_double_backward,
    conv2d_vjp,
    conv_transpose2d,
    conv_transpose2d_double_backward,
    conv_transpose2d_vjp,
)
from npgen.nn.module import Module, check_parameter_dtype, make_rng

__all__ = ["Conv2d", "ConvTranspose2d"]


class Conv2d(Module):
    """2-D convolution (cross-correlation), ``torch.nn.Conv2d`` with groups=1.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out.
    kernel_size, stride, padding, dilation : int or (int, int)
        (kh, kw), s >= 1, p >= 0 (zeros), d >= 1.
    bias : bool
        Add a learned ``bias`` (C_out,).
    dtype : "float32" (default), "float64" or a dtype object
    rng : npgen.RNG, optional
        Source of the initial weights; default ``npgen.RNG(seed, portable=True)``,
        drawn on the host and copied to the global backend
        (the same seed gives the same weights on every backend).
    seed : int, optional

    Notes
    -----
    ``weight`` (C_out, C_in, kh, kw) and ``bias`` (C_out,) start as PyTorch's:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_in*kh*kw. Input (N, C_in, H, W),
    output (N, C_out, H_out, W_out), H_out = floor((H + 2p - d(kh - 1) - 1) / s) + 1.
    The math is in :func:`npgen.functional.conv.conv2d_forward` and docs/layers/convolution.md.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True, *, dtype=None, rng=None, seed=None):
        super().__init__()
        _set_geometry(self, "Conv2d", in_channels, out_channels, kernel_size, stride, padding,
                      dilation, output_padding=0)
        weight_shape = (self.out_channels, self.in_channels, *self.kernel_size)
        _init_parameters(self, "Conv2d", weight_shape, bias, dtype, rng, seed)

    def extra_repr(self) -> str:
        return _extra_repr(self)

    def forward(self, x):
        weight, geometry = self._parameters["weight"], _geometry(self)
        checks.layer_input(_label(self), "conv2d", x, weight, self.in_channels, geometry)
        y, self._cache = conv2d(x, weight, self._parameters.get("bias"), geometry)
        return y

    def backward(self, dy):
        cache = self._require_cache()
        checks.upstream(f"{_label(self)}: conv2d_backward", dy, cache)
        dx, dweight, dbias = conv2d_vjp(dy, cache)
        self._accumulate(weight=dweight, bias=dbias)
        self._dy = dy
        return dx

    def double_backward(self, ddx):
        return _double_backward(self, "conv2d_double_backward", conv2d_double_backward, ddx)


class ConvTranspose2d(Module):
    """2-D transposed convolution, ``torch.nn.ConvTranspose2d`` with groups=1.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out.
    kernel_size, stride, padding, output_padding, dilation : int or (int, int)
        (kh, kw), s >= 1, p >= 0, 0 <= op < max(s, d), d >= 1.
    bias : bool
        Add a learned ``bias`` (C_out,).
    dtype : "float32" (default), "float64" or a dtype object
    rng : npgen.RNG, optional
        Source of the initial weights; default ``npgen.RNG(seed, portable=True)``,
        drawn on the host and copied to the global backend
        (the same seed gives the same weights on every backend).
    seed : int, optional

    Notes
    -----
    ``weight`` is (C_in, C_out, kh, kw), as in PyTorch, and so fan_in = C_out*kh*kw for the
    default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) of weight and bias. Input (N, C_in, H, W),
    output (N, C_out, H_out, W_out), H_out = (H - 1)s - 2p + d(kh - 1) + op + 1. It is the
    input gradient of a Conv2d(C_out, C_in, ...) with the same weight (see
    :func:`npgen.functional.conv.conv_transpose2d_forward`).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, dilation=1, bias: bool = True, *, dtype=None, rng=None,
                 seed=None):
        super().__init__()
        _set_geometry(self, "ConvTranspose2d", in_channels, out_channels, kernel_size, stride,
                      padding, dilation, output_padding)
        weight_shape = (self.in_channels, self.out_channels, *self.kernel_size)
        _init_parameters(self, "ConvTranspose2d", weight_shape, bias, dtype, rng, seed)

    def extra_repr(self) -> str:
        return _extra_repr(self)

    def forward(self, x):
        weight, geometry = self._parameters["weight"], _geometry(self)
        checks.layer_input(_label(self), "conv_transpose2d", x, weight, self.in_channels,
                           geometry)
        y, self._cache = conv_transpose2d(x, weight, self._parameters.get("bias"), geometry)
        return y

    def backward(self, dy):
        cache = self._require_cache()
        checks.upstream(f"{_label(self)}: conv_transpose2d_backward", dy, cache)
        dx, dweight, dbias = conv_transpose2d_vjp(dy, cache)
        self._accumulate(weight=dweight, bias=dbias)
        self._dy = dy
        return dx

    def double_backward(self, ddx):
        return _double_backward(self, "conv_transpose2d_double_backward",
                                conv_transpose2d_double_backward, ddx)


# ----------------------------------------------------------------------------
# Shared plumbing (construction, input checks, gradient accumulation)
# ----------------------------------------------------------------------------


def _set_geometry(module, where, in_channels, out_channels, kernel_size, stride, padding,
                  dilation, output_padding):
    """Validate and store the hyper-parameters as torch does (ints, (h, w) pairs)."""
    module.in_channels = check_positive_int(where, in_channels, "in_channels")
    module.out_channels = check_positive_int(where, out_channels, "out_channels")
    module.kernel_size = pair(where, kernel_size, "kernel_size", 1)
    geometry = checks.geometry(where, stride, padding, dilation, output_padding)
    module.stride, module.padding, module.dilation, module.output_padding = geometry


def _geometry(module) -> Geometry:
    """The layer's stride, padding, dilation and output_padding (checked when it was built)."""
    return Geometry(module.stride, module.padding, module.dilation, module.output_padding)


def _init_parameters(module, where, weight_shape, bias, dtype, rng, seed):
    """PyTorch's defaults: weight and bias ~ U(+-1/sqrt(fan_in)), fan_in from the weight."""
    dtype = check_parameter_dtype(where, dtype)
    rng = make_rng(where, rng, seed)
    module._add_parameter("weight", init.torch_default_weight(weight_shape, rng=rng, dtype=dtype))
    if bias:
        fan_in = init.fans(weight_shape)[0]
        b = init.torch_default_bias((module.out_channels,), fan_in, rng=rng, dtype=dtype)
        module._add_parameter("bias", b)


def _label(module) -> str:
    """'Conv2d(3, 8, kernel_size=(3, 3))': how error messages name the layer."""
    return (f"{type(module).__name__}({module.in_channels}, {module.out_channels}, "
            f"kernel_size={module.kernel_size})")


def _double_backward(module, where, second_order, ddx):
    """Check ddx and the kept dy once with the layer's label, then ``second_order``.

    ``second_order`` is the public ``*_double_backward`` (tests swap it for a planted bug),
    which checks the same two arrays again, without the label: it cannot fail here.
    """
    dy, cache = module._require_upstream(), module._require_cache()
    checks.second_order(f"{_label(module)}: {where}", ddx, dy, cache)
    d_dy, d_x, dweight, dbias = second_order(ddx, dy, cache)
    module._accumulate(weight=dweight, bias=dbias)
    return d_dy, d_x


def _extra_repr(module) -> str:
    """torch's wording: non-default padding, output_padding, dilation and bias are shown."""
    s = (f"{module.in_channels}, {module.out_channels}, kernel_size={module.kernel_size}, "
         f"stride={module.stride}")
    if module.padding != (0, 0):
        s += f", padding={module.padding}"
    if module.dilation != (1, 1):
        s += f", dilation={module.dilation}"
    if module.output_padding != (0, 0):
        s += f", output_padding={module.output_padding}"
    if "bias" not in module._parameters:
        s += ", bias=False"
    return s
