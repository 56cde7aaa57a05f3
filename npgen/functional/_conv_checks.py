"""Input checks of :mod:`npgen.functional.conv`: each message names the op, what was
expected and what came.

Kept apart from the math so that ``conv.py`` reads as the definition; the
output-size formulas live here because they double as the geometry checks.
"""

from __future__ import annotations

from npgen._validation import check_float, check_like, namespace, pair

__all__ = [
    "check_operands",
    "check_upstream",
    "conv_output_size",
    "geometry",
    "output_padding_pair",
    "transposed_output_size",
]



def check_operands(where, x, weight, bias, weight_layout, in_axis, out_axis):
    """Types, backends, devices, dtypes, ranks, channel counts and the bias shape."""
    check_float(where, x, "input")
    check_float(where, weight, "weight")
    namespace(where, *(a for a in (x, weight, bias) if a is not None))
    check_like(where, x, weight, "input", "weight")
    _check_batched(where, x)
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


def _check_batched(where, x):
    if x.ndim == 4:
        if 0 in tuple(x.shape[1:]):  # as torch; an empty batch (N = 0) passes through
            raise ValueError(f"{where}: expected an input (N, C, H, W) with C, H, W >= 1; "
                             f"got shape {tuple(x.shape)}")
        return
    hint = ("; an unbatched (C, H, W) input is not accepted: add the batch axis with "
            "x[None, ...]") if x.ndim == 3 else ""
    raise ValueError(f"{where}: expected a 4-D input (N, C, H, W){hint}; "
                     f"got shape {tuple(x.shape)}")


def check_upstream(where, dy, cache):
    """dy must be an array like the forward's output: same library, device, dtype and shape."""
    xp = check_float(where, dy, "dy")
    check_like(where, dy, cache.weight, "dy", "weight")
    if tuple(dy.shape) != cache.output_shape:
        raise ValueError(f"{where}: expected dy of the output's shape {cache.output_shape}; "
                         f"got shape {tuple(dy.shape)}")
    return xp


def geometry(where, stride, padding, dilation):
    return (pair(where, stride, "stride", 1), pair(where, padding, "padding", 0),
            pair(where, dilation, "dilation", 1))


def output_padding_pair(where, output_padding, stride, dilation):
    op = pair(where, output_padding, "output_padding", 0)
    if any(o >= max(s, d) for o, s, d in zip(op, stride, dilation)):
        raise ValueError(
            f"{where}: output_padding must be smaller than max(stride, dilation) on each axis; "
            f"got output_padding={op}, stride={stride}, dilation={dilation}"
        )
    return op


def conv_output_size(where, size, kernel, stride, padding, dilation):
    """(H_out, W_out); an error if the dilated kernel d(k - 1) + 1 exceeds H + 2p."""
    out = []
    for axis, n, k, s, p, d in zip(("height", "width"), size, kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        if span > n + 2 * p:
            raise ValueError(
                f"{where}: the kernel (dilated {axis} d(k - 1) + 1 = {span}) is larger than the "
                f"padded input ({axis} {n} + 2*{p} = {n + 2 * p}); input size {tuple(size)}, "
                f"kernel {tuple(kernel)}, padding {padding}, dilation {dilation}"
            )
        out.append((n + 2 * p - span) // s + 1)
    return tuple(out)


def transposed_output_size(where, size, kernel, stride, padding, output_padding, dilation):
    """(H_out, W_out) = (H - 1)s - 2p + d(k - 1) + op + 1; an error if it is < 1."""
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1
                for n, k, s, p, op, d in zip(size, kernel, stride, padding, output_padding,
                                             dilation))
    if min(out) < 1:
        raise ValueError(
            f"{where}: the output size (H - 1)s - 2p + d(k - 1) + op + 1 would be {out}; "
            f"input size {tuple(size)}, kernel {tuple(kernel)}, stride {stride}, padding "
            f"{padding}, output_padding {output_padding}, dilation {dilation}: reduce padding"
        )
    return out
