"""The checks at the door of the conv ops and layers: each message names the op (or the
layer), what was expected and what came.

:mod:`npgen.functional.conv` (and ``conv_second_order``) call one function here per public
entry point; the layers of :mod:`npgen.nn.conv` call :func:`geometry` when built and
:func:`layer_input` / :func:`upstream` / :func:`second_order` with their label. The math
then runs without checks. The size checks call conv.py's output-size formulas. The
output_padding rule and the batched-input check are written here once, for both.
"""

from __future__ import annotations

from npgen._checks.primitives import check_axis, check_float, check_like, namespace, pair
from npgen.functional import conv

__all__ = ["conv2d_operands", "conv_transpose2d_operands", "geometry", "layer_input",
           "second_order", "upstream"]

_UNBATCHED = "an unbatched (C, H, W) input is not accepted: add the batch axis with x[None, ...]"


def conv2d_operands(where, x, weight, bias, stride, padding, dilation):
    """conv2d_forward's arrays and geometry, and an output of at least 1 x 1: -> Geometry."""
    _check_operands(where, x, weight, bias, "(C_out, C_in, kh, kw)", in_axis=1, out_axis=0)
    checked = geometry(where, stride, padding, dilation)
    _check_output_size(where, x.shape[2:], weight.shape[2:], checked)
    return checked


def conv_transpose2d_operands(where, x, weight, bias, stride, padding, output_padding,
                              dilation):
    """conv_transpose2d_forward's arrays and geometry, and an output of at least 1 x 1."""
    _check_operands(where, x, weight, bias, "(C_in, C_out, kh, kw)", in_axis=0, out_axis=1)
    checked = geometry(where, stride, padding, dilation, output_padding)
    _check_transposed_output_size(where, x.shape[2:], weight.shape[2:], checked)
    return checked


def geometry(where, stride, padding, dilation, output_padding=0):
    """Each an int or a pair: s >= 1, p >= 0, d >= 1, 0 <= op < max(s, d) -> Geometry."""
    checked = conv.Geometry(pair(where, stride, "stride", 1), pair(where, padding, "padding", 0),
                            pair(where, dilation, "dilation", 1),
                            pair(where, output_padding, "output_padding", 0))
    if any(o >= max(s, d) for o, s, d in zip(checked.output_padding, checked.stride,
                                             checked.dilation)):
        raise ValueError(
            f"{where}: output_padding must be smaller than max(stride, dilation) on each axis; "
            f"got output_padding={checked.output_padding}, stride={checked.stride}, "
            f"dilation={checked.dilation}"
        )
    return checked


def layer_input(label, op, x, weight, in_channels, checked_geometry):
    """A layer's input: like its weight, (N, C_in, H, W) and large enough for its kernel.

    Messages open with the layer's label, those about the op's own rules with
    ``"<label>: <op>"`` (op "conv2d" or "conv_transpose2d").
    """
    check_like(label, x, weight)
    _check_batched(label, x, channels=in_channels, hint=" ({})")
    check_axis(label, x, 1, in_channels, "channels")
    where = f"{label}: {op}"
    _check_nonempty(where, x)
    check_size = _check_output_size if op == "conv2d" else _check_transposed_output_size
    check_size(where, x.shape[2:], weight.shape[2:], checked_geometry)


def upstream(where, dy, cache):
    """dy must be an array like the forward's output: same library, device, dtype and shape."""
    check_float(where, dy, "dy")
    check_like(where, dy, cache.weight, "dy", "weight")
    if tuple(dy.shape) != cache.output_shape:
        raise ValueError(f"{where}: expected dy of the output's shape {cache.output_shape}; "
                         f"got shape {tuple(dy.shape)}")


def second_order(where, ddx, dy, cache):
    """dy like the forward's output and ddx like its input (library, device, dtype, shape)."""
    upstream(where, dy, cache)
    check_like(where, ddx, cache.weight, "ddx", "weight")
    if tuple(ddx.shape) != cache.input_shape:
        raise ValueError(f"{where}: expected ddx of the input's shape {cache.input_shape}; "
                         f"got shape {tuple(ddx.shape)}")


def _check_operands(where, x, weight, bias, weight_layout, in_axis, out_axis):
    """Types, backends, devices, dtypes, ranks, channel counts and the bias shape."""
    check_float(where, x, "input")
    check_float(where, weight, "weight")
    namespace(where, *(a for a in (x, weight, bias) if a is not None))
    check_like(where, x, weight, "input", "weight")
    _check_batched(where, x)
    _check_nonempty(where, x)
    if weight.ndim != 4:
        raise ValueError(f"{where}: expected a 4-D weight {weight_layout}; "
                         f"got shape {tuple(weight.shape)}")
    if x.shape[1] != weight.shape[in_axis]:
        raise ValueError(
            f"{where}: the input has {x.shape[1]} channels (shape {tuple(x.shape)}) but the "
            f"weight {weight_layout} expects {weight.shape[in_axis]} (shape {tuple(weight.shape)})"
        )
    if bias is not None:
        check_like(where, bias, weight, "bias", "weight")
        if tuple(bias.shape) != (weight.shape[out_axis],):
            raise ValueError(f"{where}: expected a bias of shape ({weight.shape[out_axis]},) "
                             f"(one per output channel); got shape {tuple(bias.shape)}")


def _check_batched(where, x, channels="C", hint="; {}"):
    """x is 4-D (N, C, H, W); a 3-D x is told to add the batch axis.

    The functions and the layers have always worded this slightly differently (the layers
    name their C_in and bracket the hint); ``channels`` and ``hint`` keep both messages.
    """
    if x.ndim != 4:
        extra = hint.format(_UNBATCHED) if x.ndim == 3 else ""
        raise ValueError(f"{where}: expected a 4-D input (N, {channels}, H, W){extra}; "
                         f"got shape {tuple(x.shape)}")


def _check_nonempty(where, x):
    """C, H, W >= 1, as torch; an empty batch (N = 0) passes through."""
    if 0 in tuple(x.shape[1:]):
        raise ValueError(f"{where}: expected an input (N, C, H, W) with C, H, W >= 1; "
                         f"got shape {tuple(x.shape)}")


def _check_output_size(where, size, kernel, checked):
    """conv2d's H_out, W_out >= 1, i.e. the dilated kernel d(k - 1) + 1 fits in H + 2p."""
    g = checked
    for axis, n, k, p, d, out in zip(("height", "width"), size, kernel, g.padding, g.dilation,
                                     conv.output_size(size, kernel, g)):
        if out < 1:
            span = d * (k - 1) + 1
            raise ValueError(
                f"{where}: the kernel (dilated {axis} d(k - 1) + 1 = {span}) is larger than the "
                f"padded input ({axis} {n} + 2*{p} = {n + 2 * p}); input size {tuple(size)}, "
                f"kernel {tuple(kernel)}, padding {g.padding}, dilation {g.dilation}"
            )


def _check_transposed_output_size(where, size, kernel, checked):
    """conv_transpose2d's H_out = (H - 1)s - 2p + d(k - 1) + op + 1 >= 1 on both axes."""
    g = checked
    out = conv.output_size(size, kernel, g, transposed=True)
    if min(out) < 1:
        raise ValueError(
            f"{where}: the output size (H - 1)s - 2p + d(k - 1) + op + 1 would be {out}; "
            f"input size {tuple(size)}, kernel {tuple(kernel)}, stride {g.stride}, padding "
            f"{g.padding}, output_padding {g.output_padding}, dilation {g.dilation}: reduce padding"
        )
