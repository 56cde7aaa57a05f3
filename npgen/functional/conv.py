"""2-D convolution and transposed convolution: forward/backward pairs on any Array API library.

Symbols (the same in ``docs/layers/convolution.md``); every pair is (height, width):

    N              batch size
    C_in, C_out    input and output channels
    H, W           input height and width
    H_out, W_out   output height and width
    kh, kw         kernel height and width (kh * kw taps (i, j))
    s, p, d        stride, zero padding, dilation
    op             output padding of the transposed convolution
    M              output pixels of conv2d, N * H_out * W_out (columns of the GEMM)

conv2d is a cross-correlation, exactly ``torch.nn.functional.conv2d``::

    y[n, o, a, b] = bias[o] + sum_{c, i, j} weight[o, c, i, j] * x_pad[n, c, a*s + i*d, b*s + j*d]
    H_out = floor((H + 2p - d(kh - 1) - 1) / s) + 1

computed as im2col followed by ONE 2-D matrix product (the GEMM (M, C_in*kh*kw) x
(C_in*kh*kw, C_out), written transposed so that every reshape around it is free)::

    cols  = im2col(x_pad)              (C_in*kh*kw, M)   column m = the patch under pixel m
    W_mat = weight.reshape(C_out, -1)  (C_out, C_in*kh*kw), no copy
    y^T   = W_mat @ cols               (C_out, M)

conv_transpose2d (``torch.nn.functional.conv_transpose2d``, weight (C_in, C_out, kh, kw)) is
the adjoint of conv2d in its input: every input pixel adds ``value * kernel`` into its output
window (col2im), and ``H_out = (H - 1)s - 2p + d(kh - 1) + op + 1``.

The duality is the code: conv2d's input gradient calls the transposed core
:func:`_conv_transpose`, and conv_transpose2d's input gradient calls the conv2d core
:func:`_conv2d`. Both weight gradients are the same product ``pixels @ cols^T``.

Inside, images are channel-major (C, N, H, W): im2col is then a ``stack`` of kh*kw strided
slices whose reshape to (C*kh*kw, M) is free, the weight is a matrix by a free reshape, and
the transposes between NCHW and channel-major move whole H x W planes. Inputs, outputs and
weights keep torch's NCHW layouts; outputs are NCHW views of channel-major arrays, so the
next layer's transpose to channel-major costs nothing.

This im2col code is the definition. :func:`conv_path` sends kernel-4 stride-2 layers with
more than 3 channels on both sides to a faster computation of the same numbers
(space-to-depth + Winograd F(2x2, 2x2), :mod:`npgen.functional.conv_winograd`, with its own
cache); ``set_conv_path("reference")`` or ``NPGEN_CONV_PATH=reference`` forces this one.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import array_api_compat

from npgen._validation import check_like
from npgen.functional import conv_winograd as winograd
from npgen.functional._conv_checks import (
    check_operands,
    check_upstream,
    conv_output_size,
    geometry,
    output_padding_pair,
    transposed_output_size,
)
from npgen.functional.conv_winograd import get_conv_path, set_conv_path, use_conv_path

__all__ = [
    "Conv2dCache",
    "ConvTranspose2dCache",
    "conv2d_backward",
    "conv2d_double_backward",
    "conv2d_forward",
    "conv_transpose2d_backward",
    "conv_transpose2d_double_backward",
    "conv_transpose2d_forward",
    "conv_path",
    "get_conv_path",
    "set_conv_path",
    "use_conv_path",
]


class Conv2dCache(NamedTuple):
    """What :func:`conv2d_backward` reads."""

    cols: Any  # (C_in*kh*kw, N*H_out*W_out) im2col of the padded input
    weight: Any  # (C_out, C_in, kh, kw)
    input_shape: tuple  # (N, C_in, H, W)
    output_shape: tuple  # (N, C_out, H_out, W_out)
    stride: tuple
    padding: tuple
    dilation: tuple
    has_bias: bool


class ConvTranspose2dCache(NamedTuple):
    """What :func:`conv_transpose2d_backward` reads."""

    x_cols: Any  # (C_in, N*H*W) the input, one column per pixel
    weight: Any  # (C_in, C_out, kh, kw)
    input_shape: tuple  # (N, C_in, H, W)
    output_shape: tuple  # (N, C_out, H_out, W_out)
    stride: tuple
    padding: tuple
    dilation: tuple
    has_bias: bool


# ----------------------------------------------------------------------------
# Which implementation a geometry takes
# ----------------------------------------------------------------------------


def conv_path(in_channels, out_channels, kernel, stride, dilation):
    """("winograd" or "reference", why) for a conv2d, or a conv_transpose2d with its geometry.

    The im2col code below is the definition. The Winograd path (conv_winograd.py) takes
    exactly: kernel 4x4, stride 2, dilation 1, any padding (and output_padding), both channel
    counts > 3, and ``get_conv_path() == "auto"``.
    """
    if get_conv_path() == "reference":
        return "reference", "forced by set_conv_path('reference') or NPGEN_CONV_PATH=reference"
    if min(in_channels, out_channels) <= 3:
        return "reference", "thin layer (C_in or C_out <= 3): im2col is small, no gain"
    if (tuple(kernel), tuple(stride), tuple(dilation)) != ((4, 4), (2, 2), (1, 1)):
        return "reference", "the fast path covers only kernel 4, stride 2, dilation 1"
    return "winograd", "k4 s2 d1: space-to-depth + Winograd F(2x2, 2x2), 0.56x the products"


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
    check_operands(where, x, weight, bias, "(C_out, C_in, kh, kw)", in_axis=1, out_axis=0)
    stride, padding, dilation = geometry(where, stride, padding, dilation)
    out_size = conv_output_size(where, x.shape[2:], weight.shape[2:], stride, padding, dilation)
    if conv_path(x.shape[1], weight.shape[0], weight.shape[2:], stride, dilation)[0] == "winograd":
        return winograd.conv2d_winograd(x, weight, bias, padding, out_size)
    y, cols = _conv2d(x, weight, bias, stride, padding, dilation, out_size)
    cache = Conv2dCache(cols, weight, tuple(x.shape), tuple(y.shape),
                        stride, padding, dilation, bias is not None)
    return y, cache


def conv2d_backward(dy, cache: Conv2dCache):
    """VJP of conv2d: dx = conv_transpose2d(dy, weight), dW = dY cols^T, db = sum(dy).

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
    xp = check_upstream("conv2d_backward", dy, cache)
    if isinstance(cache, winograd.WinogradConv2dCache):
        return winograd.conv2d_winograd_backward(dy, cache)
    batch, _, h, w = cache.input_shape
    dy_cols = _pixel_columns(dy)  # (C_out, M)
    dweight = _weight_gradient(dy_cols, cache.cols, cache.weight.shape)  # (C_out, C_in, kh, kw)
    # The input gradient IS a transposed convolution of dy with the same weight, cut to
    # exactly H x W (rows and columns a strided conv never read get zero).
    dx = _conv_transpose(dy_cols, cache.weight, batch, tuple(dy.shape[2:]), (h, w),
                         cache.stride, cache.padding, cache.dilation)  # (C_in, N, H, W)
    dx = xp.permute_dims(dx, (1, 0, 2, 3))  # (N, C_in, H, W)
    dbias = xp.sum(dy_cols, axis=1) if cache.has_bias else None  # (C_out,)
    return dx, dweight, dbias


def conv2d_double_backward(ddx, dy, cache: Conv2dCache):
    """VJP of dx = conv_transpose2d(dy, W) for <ddx, dx>: d_dy = conv2d(ddx, W), dW = dY cols(ddx)^T

    The second order is the first order once more: conv2d's input gradient is a transposed
    convolution, linear in dy and in W and blind to x, so its adjoint in dy is a conv2d
    FORWARD of ddx (same weight, stride, padding, dilation; no bias), and its weight
    gradient is conv2d's weight-gradient product with ddx in the place of x.

    Parameters
    ----------
    ddx : array (N, C_in, H, W)
        Cotangent of the backward's ``dx``.
    dy : array (N, C_out, H_out, W_out)
        The upstream gradient the backward received.
    cache : Conv2dCache from :func:`conv2d_forward`

    Returns
    -------
    d_dy : array (N, C_out, H_out, W_out)
    d_x : array (N, C_in, H, W), zeros (dx does not read x)
    dweight : array (C_out, C_in, kh, kw)
    dbias : array (C_out,) of zeros, or None when the forward had no bias
    """
    xp = _check_second_order("conv2d_double_backward", ddx, dy, cache)
    out_size = tuple(dy.shape[2:])
    # <ddx, conv_transpose2d(dy, W)> = <conv2d(ddx, W), dy>: the duality, read backwards.
    d_dy, ddx_cols = _conv2d(ddx, cache.weight, None, cache.stride, cache.padding,
                             cache.dilation, out_size)  # (N, C_out, H_out, W_out), (C_in*kh*kw, M)
    dweight = _weight_gradient(_pixel_columns(dy), ddx_cols,
                               cache.weight.shape)  # (C_out, C_in, kh, kw)
    dbias = xp.zeros_like(dweight[:, 0, 0, 0]) if cache.has_bias else None  # (C_out,)
    return d_dy, xp.zeros_like(ddx), dweight, dbias


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
    check_operands(where, x, weight, bias, "(C_in, C_out, kh, kw)", in_axis=0, out_axis=1)
    stride, padding, dilation = geometry(where, stride, padding, dilation)
    output_padding = output_padding_pair(where, output_padding, stride, dilation)
    out_size = transposed_output_size(where, x.shape[2:], weight.shape[2:], stride, padding,
                                       output_padding, dilation)
    if conv_path(x.shape[1], weight.shape[1], weight.shape[2:], stride, dilation)[0] == "winograd":
        return winograd.conv_transpose2d_winograd(x, weight, bias, padding, out_size)
    xp = array_api_compat.array_namespace(x)
    batch, _, h, w = x.shape
    x_cols = _pixel_columns(x)  # (C_in, N*H*W)
    # The same computation as conv2d's input gradient (see conv2d_backward).
    y = _conv_transpose(x_cols, weight, batch, (h, w), out_size,
                        stride, padding, dilation)  # (C_out, N, H_out, W_out)
    if bias is not None:
        y = y + xp.reshape(bias, (-1, 1, 1, 1))  # (C_out, N, H_out, W_out)
    y = xp.permute_dims(y, (1, 0, 2, 3))  # (N, C_out, H_out, W_out)
    cache = ConvTranspose2dCache(x_cols, weight, tuple(x.shape), tuple(y.shape),
                                 stride, padding, dilation, bias is not None)
    return y, cache


def conv_transpose2d_backward(dy, cache: ConvTranspose2dCache):
    """VJP of conv_transpose2d: dx = conv2d(dy, weight), dW = X im2col(dy)^T, db = sum(dy).

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
    xp = check_upstream("conv_transpose2d_backward", dy, cache)
    if isinstance(cache, winograd.WinogradConvTranspose2dCache):
        return winograd.conv_transpose2d_winograd_backward(dy, cache)
    _, _, h, w = cache.input_shape
    # The input gradient IS a conv2d forward of dy with the same weight, read as a conv2d
    # weight (C_out', C_in', kh, kw) = (C_in, C_out, kh, kw). It is evaluated at the H x W
    # positions that exist: when op >= s (allowed if d > s) the conv2d formula gives more.
    dx, dy_cols = _conv2d(dy, cache.weight, None, cache.stride, cache.padding, cache.dilation,
                          (h, w))  # (N, C_in, H, W), (C_out*kh*kw, N*H*W)
    dweight = _weight_gradient(cache.x_cols, dy_cols, cache.weight.shape)  # (C_in, C_out, kh, kw)
    dbias = xp.sum(dy, axis=(0, 2, 3)) if cache.has_bias else None  # (C_out,)
    return dx, dweight, dbias


def conv_transpose2d_double_backward(ddx, dy, cache: ConvTranspose2dCache):
    """VJP of dx = conv2d(dy, W) for <ddx, dx>: d_dy = conv_transpose2d(ddx, W), dW = X' cols(dy)^T.

    Here X' is ddx with one column per pixel. Again the duality: the backward is a conv2d
    forward of dy, so its adjoint in dy is a transposed convolution of ddx (cut to dy's
    H_out x W_out, which fixes the output padding), and its weight gradient is the
    transposed conv's own weight-gradient product with ddx in the place of x.

    Parameters
    ----------
    ddx : array (N, C_in, H, W)
    dy : array (N, C_out, H_out, W_out)
    cache : ConvTranspose2dCache from :func:`conv_transpose2d_forward`

    Returns
    -------
    d_dy : array (N, C_out, H_out, W_out)
    d_x : array (N, C_in, H, W), zeros (dx does not read x)
    dweight : array (C_in, C_out, kh, kw)
    dbias : array (C_out,) of zeros, or None when the forward had no bias
    """
    xp = _check_second_order("conv_transpose2d_double_backward", ddx, dy, cache)
    batch, _, h, w = cache.input_shape
    ddx_cols = _pixel_columns(ddx)  # (C_in, N*H*W)
    d_dy = _conv_transpose(ddx_cols, cache.weight, batch, (h, w), tuple(dy.shape[2:]),
                           cache.stride, cache.padding, cache.dilation)  # (C_out, N, H_out, W_out)
    d_dy = xp.permute_dims(d_dy, (1, 0, 2, 3))  # (N, C_out, H_out, W_out)
    dy_cols = _im2col(_pad(dy, cache.padding), tuple(cache.weight.shape[2:]), cache.stride,
                      cache.dilation, (h, w))  # (C_out*kh*kw, N*H*W), as in the backward
    dweight = _weight_gradient(ddx_cols, dy_cols, cache.weight.shape)  # (C_in, C_out, kh, kw)
    dbias = xp.zeros_like(dweight[0, :, 0, 0]) if cache.has_bias else None  # (C_out,)
    return d_dy, xp.zeros_like(ddx), dweight, dbias


# ----------------------------------------------------------------------------
# The two cores and the shared pieces
# ----------------------------------------------------------------------------


def _conv2d(x, weight, bias, stride, padding, dilation, out_size):
    """im2col + one GEMM. x (N, C_in, H, W), weight (C_out, C_in, kh, kw) -> (y, cols).

    y is (N, C_out, H_out, W_out) (a channel-major array seen through a transpose);
    cols is (C_in*kh*kw, N*H_out*W_out). ``out_size`` may be smaller than the conv2d
    formula gives: the trailing output pixels are then not computed.
    """
    xp = array_api_compat.array_namespace(x)
    batch, c_out = x.shape[0], weight.shape[0]
    x_pad = _pad(x, padding)  # (C_in, N, H + 2p_h, W + 2p_w)
    cols = _im2col(x_pad, tuple(weight.shape[2:]), stride, dilation, out_size)  # (C_in*kh*kw, M)
    y = xp.reshape(weight, (c_out, cols.shape[0])) @ cols  # (C_out, M)
    if bias is not None:
        y += xp.reshape(bias, (c_out, 1))  # (C_out, M), in place: y is a fresh product
    y = xp.reshape(y, (c_out, batch, *out_size))  # (C_out, N, H_out, W_out)
    return xp.permute_dims(y, (1, 0, 2, 3)), cols  # (N, C_out, H_out, W_out)


def _conv_transpose(x_cols, weight, batch, in_size, out_size, stride, padding, dilation):
    """One GEMM + col2im + crop: the adjoint of :func:`_conv2d` in its input.

    x_cols (C_in, N*H*W) and weight (C_in, C_out, kh, kw) -> y (C_out, N, H_out, W_out),
    channel-major. Column m of ``W_mat^T @ x_cols`` is pixel m's values times every kernel
    tap; col2im adds those patches into the padded output, and the padding is cropped off.
    """
    xp = array_api_compat.array_namespace(x_cols)
    (h_out, w_out), (p_h, p_w) = out_size, padding
    c_in, c_out, kh, kw = weight.shape
    cols = xp.reshape(weight, (c_in, c_out * kh * kw)).mT @ x_cols  # (C_out*kh*kw, N*H*W)
    canvas = (h_out + 2 * p_h, w_out + 2 * p_w)
    y_pad = _col2im(cols, c_out, batch, (kh, kw), stride, dilation, in_size, canvas)
    return y_pad[:, :, p_h:p_h + h_out, p_w:p_w + w_out]  # (C_out, N, H_out, W_out)


def _pixel_columns(x):
    """(N, C, H, W) -> (C, N*H*W): one column per pixel (free if x is a channel-major view)."""
    xp = array_api_compat.array_namespace(x)
    batch, channels, h, w = x.shape
    x_cm = xp.permute_dims(x, (1, 0, 2, 3))  # (C, N, H, W)
    return xp.reshape(x_cm, (channels, batch * h * w))  # (C, N*H*W)


def _weight_gradient(pixels, cols, weight_shape):
    """The sum over the P pixels of pixels cols^T: (A, P), (B*kh*kw, P) -> (A, B, kh, kw).

    conv2d: pixels = dy, cols = im2col(x). conv_transpose2d: pixels = x, cols = im2col(dy).
    """
    xp = array_api_compat.array_namespace(pixels)
    return xp.reshape(pixels @ cols.mT, weight_shape)  # (A, B*kh*kw) -> (A, B, kh, kw)


def _pad(x, padding):
    """(N, C, H, W) -> zero-padded and channel-major (C, N, H + 2p_h, W + 2p_w)."""
    xp = array_api_compat.array_namespace(x)
    batch, channels, h, w = x.shape
    p_h, p_w = padding
    x_cm = xp.permute_dims(x, (1, 0, 2, 3))  # (C, N, H, W), a view
    if p_h == 0 and p_w == 0:
        return x_cm
    shape = (channels, batch, h + 2 * p_h, w + 2 * p_w)
    x_pad = xp.zeros(shape, dtype=x.dtype, device=array_api_compat.device(x))
    x_pad[:, :, p_h:p_h + h, p_w:p_w + w] = x_cm
    return x_pad


def _tap(i, j, grid, stride, dilation):
    """The slices of a padded image that tap (i, j) meets at the grid's (rows, cols) positions."""
    (g_h, g_w), (s_h, s_w), (d_h, d_w) = grid, stride, dilation
    # the stops are in bounds: the last position read is i*d + s*(g - 1)
    return (slice(i * d_h, i * d_h + s_h * (g_h - 1) + 1, s_h),
            slice(j * d_w, j * d_w + s_w * (g_w - 1) + 1, s_w))


def _im2col(x_pad, kernel, stride, dilation, out_size):
    """(C, N, H_p, W_p) -> (C*kh*kw, N*H_out*W_out): column m is the patch under output pixel m.

    Rows are ordered (c, i, j), as in ``weight.reshape(C_out, C*kh*kw)``.
    """
    xp = array_api_compat.array_namespace(x_pad)
    channels, batch = x_pad.shape[0], x_pad.shape[1]
    kh, kw = kernel
    taps = []
    for i in range(kh):
        for j in range(kw):
            at_rows, at_cols = _tap(i, j, out_size, stride, dilation)
            taps.append(x_pad[:, :, at_rows, at_cols])  # (C, N, H_out, W_out)
    cols = xp.stack(taps, axis=1)  # (C, kh*kw, N, H_out, W_out)
    return xp.reshape(cols, (channels * kh * kw, batch * out_size[0] * out_size[1]))


def _col2im(cols, channels, batch, kernel, stride, dilation, grid, canvas):
    """The adjoint of im2col: add every column's patch back where it was read from.

    cols (C*kh*kw, N*G_h*G_w) holds one patch per grid position; returns the canvas
    (C, N, canvas_h, canvas_w): zeros plus the sum of the overlapping patches.
    """
    xp = array_api_compat.array_namespace(cols)
    kh, kw = kernel
    patches = xp.reshape(cols, (channels, kh * kw, batch, *grid))  # (C, kh*kw, N, G_h, G_w)
    out = xp.zeros((channels, batch, *canvas), dtype=cols.dtype,
                   device=array_api_compat.device(cols))  # (C, N, canvas_h, canvas_w)
    for i in range(kh):
        for j in range(kw):
            at_rows, at_cols = _tap(i, j, grid, stride, dilation)
            out[:, :, at_rows, at_cols] += patches[:, i * kw + j, ...]  # (C, N, G_h, G_w)
    return out


def _check_second_order(where, ddx, dy, cache):
    """dy like the forward's output and ddx like its input (library, device, dtype, shape)."""
    xp = check_upstream(where, dy, cache)
    check_like(where, ddx, cache.weight, "ddx", "weight")
    if tuple(ddx.shape) != cache.input_shape:
        raise ValueError(f"{where}: expected ddx of the input's shape {cache.input_shape}; "
                         f"got shape {tuple(ddx.shape)}")
    return xp
