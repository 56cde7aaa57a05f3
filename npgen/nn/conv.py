"""Conv2d and ConvTranspose2d: thin modules over :mod:`npgen.functional.conv` (torch layouts).

Parameters, their layouts, default initialization, ``extra_repr`` and state-dict keys are
those of ``torch.nn.Conv2d`` / ``torch.nn.ConvTranspose2d`` (groups=1, zero padding), so
weights move between the two libraries. Unlike PyTorch, the input must be batched
(N, C, H, W) and must already have the layer's dtype, library and device.
"""

from __future__ import annotations

from npgen import init
from npgen._validation import check_axis, check_like, check_positive_int, pair
from npgen.functional.conv import (
    conv2d_backward,
    conv2d_double_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_double_backward,
    conv_transpose2d_forward,
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
        _check_input(self, x)
        y, self._cache = _named(self, conv2d_forward, x, self._parameters["weight"],
                                self._parameters.get("bias"), self.stride, self.padding,
                                self.dilation)
        return y

    def backward(self, dy):
        dx, dweight, dbias = _named(self, conv2d_backward, dy, self._require_cache())
        self._accumulate(weight=dweight, bias=dbias)
        self._dy = dy
        return dx

    def double_backward(self, ddx):
        d_dy, d_x, dweight, dbias = _named(self, conv2d_double_backward, ddx,
                                           self._require_upstream(), self._require_cache())
        self._accumulate(weight=dweight, bias=dbias)
        return d_dy, d_x


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
        _check_input(self, x)
        y, self._cache = _named(self, conv_transpose2d_forward, x, self._parameters["weight"],
                                self._parameters.get("bias"), self.stride, self.padding,
                                self.output_padding, self.dilation)
        return y

    def backward(self, dy):
        dx, dweight, dbias = _named(self, conv_transpose2d_backward, dy, self._require_cache())
        self._accumulate(weight=dweight, bias=dbias)
        self._dy = dy
        return dx

    def double_backward(self, ddx):
        d_dy, d_x, dweight, dbias = _named(self, conv_transpose2d_double_backward, ddx,
                                           self._require_upstream(), self._require_cache())
        self._accumulate(weight=dweight, bias=dbias)
        return d_dy, d_x


# ----------------------------------------------------------------------------
# Shared plumbing (construction, input checks, gradient accumulation)
# ----------------------------------------------------------------------------


def _set_geometry(module, where, in_channels, out_channels, kernel_size, stride, padding,
                  dilation, output_padding):
    """Validate and store the hyper-parameters as torch does (ints, (h, w) pairs)."""
    module.in_channels = check_positive_int(where, in_channels, "in_channels")
    module.out_channels = check_positive_int(where, out_channels, "out_channels")
    module.kernel_size = pair(where, kernel_size, "kernel_size", 1)
    module.stride = pair(where, stride, "stride", 1)
    module.padding = pair(where, padding, "padding", 0)
    module.dilation = pair(where, dilation, "dilation", 1)
    module.output_padding = pair(where, output_padding, "output_padding", 0)
    if any(o >= max(s, d) for o, s, d in zip(module.output_padding, module.stride,
                                             module.dilation)):
        raise ValueError(
            f"{where}: output_padding must be smaller than max(stride, dilation) on each axis; "
            f"got output_padding={module.output_padding}, stride={module.stride}, "
            f"dilation={module.dilation}"
        )


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


def _check_input(module, x) -> None:
    """Same library, device and dtype as the weight; batched NCHW; C_in channels."""
    where = _label(module)
    check_like(where, x, module._parameters["weight"])
    if x.ndim != 4:
        hint = (" (an unbatched (C, H, W) input is not accepted: add the batch axis with "
                "x[None, ...])") if x.ndim == 3 else ""
        raise ValueError(f"{where}: expected a 4-D input (N, {module.in_channels}, H, W)"
                         f"{hint}; got shape {tuple(x.shape)}")
    check_axis(where, x, 1, module.in_channels, "channels")


def _named(module, function, *args):
    """Call a functional op; its ValueError/TypeError messages are prefixed with the layer."""
    try:
        return function(*args)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{_label(module)}: {exc}") from exc


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
