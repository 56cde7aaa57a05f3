"""2-D convolution and transposed convolution: forward/backward pairs on any Array API library.

Symbols (the same in ``docs/layers/convolution.md``); every pair is (height, width):

    N              batch size
    C_in, C_out    input and output channels
    H, W           input height and width
    H_out, W_out   output height and width
    kh, kw         kernel height and width (kh * kw taps (i, j))
    s, p, d        stride, zero padding, dilation
    op             output padding of the transposed convolution
    M              rows of the GEMM: one per output pixel of conv2d (N * H_out * W_out)

conv2d is a cross-correlation, exactly ``torch.nn.functional.conv2d``::

    y[n, o, a, b] = bias[o] + sum_{c, i, j} weight[o, c, i, j] * x_pad[n, c, a*s + i*d, b*s + j*d]
    H_out = floor((H + 2p - d(kh - 1) - 1) / s) + 1

computed as im2col followed by ONE 2-D matrix product::

    cols   = im2col(x_pad)          (M, kh*kw*C_in)   row m = the patch under output pixel m
    W_mat  = weight as a matrix     (C_out, kh*kw*C_in)
    y_rows = cols @ W_mat^T         (M, C_out)

conv_transpose2d (``torch.nn.functional.conv_transpose2d``, weight (C_in, C_out, kh, kw)) is
the adjoint of conv2d in its input: every input pixel adds ``value * kernel`` into its output
window (col2im), and ``H_out = (H - 1)s - 2p + d(kh - 1) + op + 1``.

The duality is the code: conv2d's input gradient calls the transposed core
:func:`_conv_transpose`, and conv_transpose2d's input gradient calls the conv2d core
:func:`_conv2d`. Both weight gradients are the same product ``rows^T @ cols``.

Inside, images are channels-last (N, H, W, C) so that im2col is a ``stack`` of kh*kw strided
slices whose reshape to (M, kh*kw*C) is free; the patch order along a row is (i, j, c).
Inputs, outputs and weights keep torch's NCHW layouts.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import array_api_compat

from npgen._validation import check_float, check_like, namespace, pair

__all__ = [
    "Conv2dCache",
    "ConvTranspose2dCache",
    "conv2d_backward",
    "conv2d_forward",
    "conv_transpose2d_backward",
    "conv_transpose2d_forward",
]


class Conv2dCache(NamedTuple):
    """What :func:`conv2d_backward` reads."""

    cols: Any  # (N*H_out*W_out, kh*kw*C_in) im2col of the padded input
    weight: Any  # (C_out, C_in, kh, kw)
    input_shape: tuple  # (N, C_in, H, W)
    output_shape: tuple  # (N, C_out, H_out, W_out)
    stride: tuple
    padding: tuple
    dilation: tuple
    has_bias: bool


class ConvTranspose2dCache(NamedTuple):
    """What :func:`conv_transpose2d_backward` reads."""

    x_rows: Any  # (N*H*W, C_in) the input, one row per pixel
    weight: Any  # (C_in, C_out, kh, kw)
    input_shape: tuple  # (N, C_in, H, W)
    output_shape: tuple  # (N, C_out, H_out, W_out)
    stride: tuple
    padding: tuple
    dilation: tuple
    has_bias: bool


# ----------------------------------------------------------------------------
# conv2d
# ----------------------------------------------------------------------------


def conv2d_forward(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D cross-correlation, exactly ``torch.nn.functional.conv2d`` (groups=1).

    Parameters
    ----------
    x : array (N, C_in, H, W)
    weight : array (C_out, C_in, kh, kw)
    bias : array (C_out,) or None
    stride, padding, dilation : int or (int, int)
        s >= 1, p >= 0 (zeros on both sides), d >= 1.

    Returns
    -------
    y : array (N, C_out, H_out, W_out)
        ``H_out = floor((H + 2p - d(kh - 1) - 1) / s) + 1``, likewise W_out.
    cache : Conv2dCache
    """
    where = "conv2d"
    _check_operands(where, x, weight, bias, "(C_out, C_in, kh, kw)", in_axis=1, out_axis=0)
    stride, padding, dilation = _geometry(where, stride, padding, dilation)
    out_size = _conv_output_size(where, x.shape[2:], weight.shape[2:], stride, padding, dilation)
    y, cols = _conv2d(x, weight, bias, stride, padding, dilation, out_size)
    cache = Conv2dCache(cols, weight, tuple(x.shape), tuple(y.shape),
                        stride, padding, dilation, bias is not None)
    return y, cache


def conv2d_backward(dy, cache: Conv2dCache):
    """VJP of conv2d: dx = conv_transpose2d(dy, weight), dW = dY_rows^T cols, db = sum(dy).

    Parameters
    ----------
    dy : array (N, C_out, H_out, W_out)
    cache : Conv2dCache from :func:`conv2d_forward`

    Returns
    -------
    dx : array (N, C_in, H, W)
    dweight : array (C_out, C_in, kh, kw)
    dbias : array (C_out,), or None when the forward had no bias
    """
    xp = _check_upstream("conv2d_backward", dy, cache)
    batch, _, h, w = cache.input_shape
    dy_rows = _rows(dy)  # (M, C_out)
    dweight = _weight_gradient(dy_rows, cache.cols, cache.weight.shape[2:])  # (C_out, C_in, kh, kw)
    # The input gradient IS a transposed convolution of dy with the same weight,
    # producing exactly the H x W input (the rows a strided conv never read get zero).
    dx = _conv_transpose(dy_rows, cache.weight, batch, tuple(dy.shape[2:]), (h, w),
                         cache.stride, cache.padding, cache.dilation)  # (N, H, W, C_in)
    dx = xp.permute_dims(dx, (0, 3, 1, 2))  # (N, C_in, H, W)
    dbias = xp.sum(dy_rows, axis=0) if cache.has_bias else None  # (C_out,)
    return dx, dweight, dbias


# ----------------------------------------------------------------------------
# conv_transpose2d
# ----------------------------------------------------------------------------


def conv_transpose2d_forward(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                             dilation=1):
    """2-D transposed convolution, exactly ``torch.nn.functional.conv_transpose2d`` (groups=1).

    It is the input gradient of :func:`conv2d_forward` with the same weight, stride, padding
    and dilation: each input pixel scatters ``x[n, c, a, b] * weight[c]`` into its window.

    Parameters
    ----------
    x : array (N, C_in, H, W)
    weight : array (C_in, C_out, kh, kw)
    bias : array (C_out,) or None
    stride, padding, output_padding, dilation : int or (int, int)
        s >= 1, p >= 0, d >= 1 and 0 <= op < max(s, d) (torch's rule). ``op`` extra rows and
        columns at the bottom and right pick the one output size among those whose conv2d
        maps back to H x W.

    Returns
    -------
    y : array (N, C_out, H_out, W_out)
        ``H_out = (H - 1)s - 2p + d(kh - 1) + op + 1``, likewise W_out.
    cache : ConvTranspose2dCache
    """
    where = "conv_transpose2d"
    _check_operands(where, x, weight, bias, "(C_in, C_out, kh, kw)", in_axis=0, out_axis=1)
    stride, padding, dilation = _geometry(where, stride, padding, dilation)
    output_padding = _output_padding(where, output_padding, stride, dilation)
    out_size = _transposed_output_size(where, x.shape[2:], weight.shape[2:], stride, padding,
                                       output_padding, dilation)
    xp = array_api_compat.array_namespace(x)
    batch, _, h, w = x.shape
    x_rows = _rows(x)  # (N*H*W, C_in)
    # The same computation as conv2d's input gradient (see conv2d_backward).
    y = _conv_transpose(x_rows, weight, batch, (h, w), out_size,
                        stride, padding, dilation)  # (N, H_out, W_out, C_out)
    if bias is not None:
        y = y + bias  # (N, H_out, W_out, C_out)
    y = xp.permute_dims(y, (0, 3, 1, 2))  # (N, C_out, H_out, W_out)
    cache = ConvTranspose2dCache(x_rows, weight, tuple(x.shape), tuple(y.shape),
                                 stride, padding, dilation, bias is not None)
    return y, cache


def conv_transpose2d_backward(dy, cache: ConvTranspose2dCache):
    """VJP of conv_transpose2d: dx = conv2d(dy, weight), dW = X_rows^T im2col(dy), db = sum(dy).

    Parameters
    ----------
    dy : array (N, C_out, H_out, W_out)
    cache : ConvTranspose2dCache from :func:`conv_transpose2d_forward`

    Returns
    -------
    dx : array (N, C_in, H, W)
    dweight : array (C_in, C_out, kh, kw)
    dbias : array (C_out,), or None when the forward had no bias
    """
    xp = _check_upstream("conv_transpose2d_backward", dy, cache)
    _, _, h, w = cache.input_shape
    # The input gradient IS a conv2d forward of dy with the same weight, read as a conv2d
    # weight (C_out', C_in', kh, kw) = (C_in, C_out, kh, kw). It is evaluated at the H x W
    # positions that exist: when op >= s, the conv2d formula would give one more.
    dx, dy_cols = _conv2d(dy, cache.weight, None, cache.stride, cache.padding, cache.dilation,
                          (h, w))  # (N, C_in, H, W), (N*H*W, kh*kw*C_out)
    dweight = _weight_gradient(cache.x_rows, dy_cols, cache.weight.shape[2:])  # (C_in, C_out, kh, kw)
    dbias = xp.sum(dy, axis=(0, 2, 3)) if cache.has_bias else None  # (C_out,)
    return dx, dweight, dbias


# ----------------------------------------------------------------------------
# The two cores and the shared pieces
# ----------------------------------------------------------------------------


def _conv2d(x, weight, bias, stride, padding, dilation, out_size):
    """im2col + one GEMM. x (N, C_in, H, W), weight (C_out, C_in, kh, kw) -> (y, cols).

    y is (N, C_out, H_out, W_out) (a channels-last array seen through a transpose);
    cols is (N*H_out*W_out, kh*kw*C_in). ``out_size`` may be smaller than the conv2d formula:
    the trailing output pixels are then not computed.
    """
    xp = array_api_compat.array_namespace(x)
    batch, c_out = x.shape[0], weight.shape[0]
    x_pad = _pad_channels_last(x, padding)  # (N, H + 2p_h, W + 2p_w, C_in)
    cols = _im2col(x_pad, tuple(weight.shape[2:]), stride, dilation, out_size)  # (M, kh*kw*C_in)
    y_rows = cols @ _weight_matrix(weight).mT  # (M, C_out)
    if bias is not None:
        y_rows = y_rows + bias  # (M, C_out)
    y = xp.reshape(y_rows, (batch, *out_size, c_out))  # (N, H_out, W_out, C_out)
    return xp.permute_dims(y, (0, 3, 1, 2)), cols  # (N, C_out, H_out, W_out)


def _conv_transpose(x_rows, weight, batch, in_size, out_size, stride, padding, dilation):
    """One GEMM + col2im + crop: the adjoint of :func:`_conv2d` in its input.

    x_rows (N*H*W, C_in) and weight (C_in, C_out, kh, kw) -> y (N, H_out, W_out, C_out),
    channels-last. Row r of ``x_rows @ W_mat`` is pixel r's value times every kernel tap;
    col2im adds those patches into the padded output, and the padding is cropped off.
    """
    (h_out, w_out), (p_h, p_w) = out_size, padding
    c_out, kh, kw = weight.shape[1:]
    cols = x_rows @ _weight_matrix(weight)  # (N*H*W, kh*kw*C_out)
    canvas = (h_out + 2 * p_h, w_out + 2 * p_w)
    y_pad = _col2im(cols, batch, c_out, (kh, kw), stride, dilation, in_size, canvas)
    return y_pad[:, p_h:p_h + h_out, p_w:p_w + w_out, :]  # (N, H_out, W_out, C_out)


def _rows(x):
    """(N, C, H, W) -> (N*H*W, C): one row per pixel, channels along the row."""
    xp = array_api_compat.array_namespace(x)
    batch, channels, h, w = x.shape
    x_last = xp.permute_dims(x, (0, 2, 3, 1))  # (N, H, W, C)
    return xp.reshape(x_last, (batch * h * w, channels))  # (N*H*W, C)


def _weight_matrix(weight):
    """(A, B, kh, kw) -> (A, kh*kw*B): one filter per row, taps in im2col's (i, j, c) order."""
    xp = array_api_compat.array_namespace(weight)
    a, b, kh, kw = weight.shape
    w_last = xp.permute_dims(weight, (0, 2, 3, 1))  # (A, kh, kw, B)
    return xp.reshape(w_last, (a, kh * kw * b))  # (A, kh*kw*B)


def _weight_gradient(rows, cols, kernel):
    """sum over pixels of rows^T cols, in weight layout: (P, A), (P, kh*kw*B) -> (A, B, kh, kw).

    conv2d: rows = dy, cols = im2col(x). conv_transpose2d: rows = x, cols = im2col(dy).
    """
    xp = array_api_compat.array_namespace(rows)
    (kh, kw), a = kernel, rows.shape[1]
    grad = rows.mT @ cols  # (A, kh*kw*B)
    grad = xp.reshape(grad, (a, kh, kw, cols.shape[1] // (kh * kw)))  # (A, kh, kw, B)
    return xp.permute_dims(grad, (0, 3, 1, 2))  # (A, B, kh, kw)


def _pad_channels_last(x, padding):
    """(N, C, H, W) -> zero-padded channels-last (N, H + 2p_h, W + 2p_w, C)."""
    xp = array_api_compat.array_namespace(x)
    batch, channels, h, w = x.shape
    p_h, p_w = padding
    x_last = xp.permute_dims(x, (0, 2, 3, 1))  # (N, H, W, C), a view
    if p_h == 0 and p_w == 0:
        return x_last
    shape = (batch, h + 2 * p_h, w + 2 * p_w, channels)
    x_pad = xp.zeros(shape, dtype=x.dtype, device=array_api_compat.device(x))
    x_pad[:, p_h:p_h + h, p_w:p_w + w, :] = x_last
    return x_pad


def _tap(i, j, grid, stride, dilation):
    """Slices of a padded image that kernel tap (i, j) meets at each of grid = (rows, cols) positions."""
    (rows, cols), (s_h, s_w), (d_h, d_w) = grid, stride, dilation
    return (slice(i * d_h, i * d_h + s_h * (rows - 1) + 1, s_h),
            slice(j * d_w, j * d_w + s_w * (cols - 1) + 1, s_w))


def _im2col(x_pad, kernel, stride, dilation, out_size):
    """(N, H_p, W_p, C) -> (N*H_out*W_out, kh*kw*C): row m is the patch under output pixel m."""
    xp = array_api_compat.array_namespace(x_pad)
    batch, channels = x_pad.shape[0], x_pad.shape[3]
    kh, kw = kernel
    taps = [x_pad[:, rows, cols, :]  # (N, H_out, W_out, C)
            for i in range(kh) for j in range(kw)
            for rows, cols in [_tap(i, j, out_size, stride, dilation)]]
    cols = xp.stack(taps, axis=3)  # (N, H_out, W_out, kh*kw, C)
    return xp.reshape(cols, (batch * out_size[0] * out_size[1], kh * kw * channels))  # (M, kh*kw*C)


def _col2im(cols, batch, channels, kernel, stride, dilation, grid, canvas):
    """The adjoint of im2col: add every row's patch back where it was read from.

    cols (N*G_h*G_w, kh*kw*C) holds one patch per grid position; returns the canvas
    (N, canvas_h, canvas_w, C), zeros plus the sum of the overlapping patches.
    """
    xp = array_api_compat.array_namespace(cols)
    kh, kw = kernel
    patches = xp.reshape(cols, (batch, *grid, kh * kw, channels))  # (N, G_h, G_w, kh*kw, C)
    out = xp.zeros((batch, *canvas, channels), dtype=cols.dtype,
                   device=array_api_compat.device(cols))  # (N, canvas_h, canvas_w, C)
    for i in range(kh):
        for j in range(kw):
            rows, cols_ = _tap(i, j, grid, stride, dilation)
            out[:, rows, cols_, :] += patches[:, :, :, i * kw + j, :]  # (N, G_h, G_w, C)
    return out


# ----------------------------------------------------------------------------
# Validation (messages name the op, what was expected and what came)
# ----------------------------------------------------------------------------


def _check_operands(where, x, weight, bias, weight_layout, in_axis, out_axis):
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
        return
    hint = ("; an unbatched (C, H, W) input is not accepted: add the batch axis with "
            "x[None, ...]") if x.ndim == 3 else ""
    raise ValueError(f"{where}: expected a 4-D input (N, C, H, W){hint}; "
                     f"got shape {tuple(x.shape)}")


def _check_upstream(where, dy, cache):
    """dy must be an array like the forward's output: same library, device, dtype and shape."""
    xp = check_float(where, dy, "dy")
    check_like(where, dy, cache.weight, "dy", "weight")
    if tuple(dy.shape) != cache.output_shape:
        raise ValueError(f"{where}: expected dy of the output's shape {cache.output_shape}; "
                         f"got shape {tuple(dy.shape)}")
    return xp


def _geometry(where, stride, padding, dilation):
    return (pair(where, stride, "stride", 1), pair(where, padding, "padding", 0),
            pair(where, dilation, "dilation", 1))


def _output_padding(where, output_padding, stride, dilation):
    op = pair(where, output_padding, "output_padding", 0)
    if any(o >= max(s, d) for o, s, d in zip(op, stride, dilation)):
        raise ValueError(
            f"{where}: output_padding must be smaller than max(stride, dilation) on each axis; "
            f"got output_padding={op}, stride={stride}, dilation={dilation}"
        )
    return op


def _conv_output_size(where, size, kernel, stride, padding, dilation):
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


def _transposed_output_size(where, size, kernel, stride, padding, output_padding, dilation):
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
