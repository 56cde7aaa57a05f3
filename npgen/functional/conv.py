"""2-D convolution and transposed convolution: forward/backward pairs on any Array API library.

Symbols (the same in ``docs/layers/convolution.md`` and ``docs/notation.md``); every pair is
(height, width):

    N              batch size
    C_in, C_out    input and output channels
    H, W           input height and width
    H_out, W_out   output height and width
    kh, kw         kernel height and width (kh * kw taps (i, j))
    s, p, d        stride, zero padding, dilation
    op             output padding of the transposed convolution
    P              patch length, C_in * kh * kw (rows of the im2col columns)
    M              output pixels of conv2d, N * H_out * W_out (columns of the GEMM)

conv2d is a cross-correlation, exactly ``torch.nn.functional.conv2d``::

    y[n, o, a, b] = bias[o] + sum_{c, i, j} weight[o, c, i, j] * x_pad[n, c, a*s + i*d, b*s + j*d]
    H_out = floor((H + 2p - d(kh - 1) - 1) / s) + 1

computed as im2col followed by ONE 2-D matrix product (the GEMM (M, P) x (P, C_out),
written transposed so that every reshape around it is free)::

    x_patches = im2col(x_pad)              (P, M)   column m = the patch under pixel m
    W_mat     = weight.reshape(C_out, P)   (C_out, P), no copy
    y^T       = W_mat @ x_patches          (C_out, M)

conv_transpose2d (``torch.nn.functional.conv_transpose2d``, weight (C_in, C_out, kh, kw)) is
the adjoint of conv2d in its input: every input pixel adds ``value * kernel`` into its output
window (col2im), and ``H_out = (H - 1)s - 2p + d(kh - 1) + op + 1``.

The duality is the code: conv2d's input gradient calls the transposed core
:func:`_conv_transpose`, and conv_transpose2d's input gradient calls the conv2d core
:func:`_conv2d`; both cores return (N, C, H, W). Both weight gradients are the same product
``pixels @ patches^T``. The second order is :mod:`npgen.functional.conv_second_order`.

Inside, images are channel-major (C, N, H, W): im2col is a ``stack`` of kh*kw strided slices
whose reshape to (P, M) is free, and the weight is a matrix by a free reshape. Outputs are
NCHW views of channel-major arrays, so the next layer's transpose to channel-major is free.

Each public function checks once (:mod:`npgen._checks.conv`), then calls the math
(``conv2d``, ``conv2d_vjp``, ...: no checks), which the layers of :mod:`npgen.nn.conv` call too.

This im2col code is the definition. :func:`conv_path` sends k4 s2 layers with more than 3
channels on both sides to the same numbers computed faster (:mod:`.conv_winograd`, Winograd
F(2x2, 2x2)); ``set_conv_path("reference")`` or ``NPGEN_CONV_PATH=reference`` forces im2col.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from npgen._checks import conv as checks
from npgen.backend import namespace_of
from npgen.functional import conv_winograd as winograd
from npgen.functional.conv_dispatch import conv_path, get_conv_path, set_conv_path, use_conv_path

__all__ = ["Conv2dCache", "ConvTranspose2dCache", "Geometry", "conv2d_backward",
           "conv2d_double_backward", "conv2d_forward", "conv_output_size", "conv_path",
           "conv_transpose2d_backward", "conv_transpose2d_double_backward",
           "conv_transpose2d_forward", "conv_transpose_output_size", "get_conv_path",
           "set_conv_path", "use_conv_path"]


class Geometry(NamedTuple):
    """Where a convolution's taps fall: (height, width) pairs, as ``torch.nn.Conv2d`` keeps them."""

    stride: tuple = (1, 1)  # s >= 1
    padding: tuple = (0, 0)  # p >= 0 zeros on each side
    dilation: tuple = (1, 1)  # d >= 1: kernel taps d pixels apart
    output_padding: tuple = (0, 0)  # op, transposed convolution only: 0 <= op < max(s, d)


class Conv2dCache(NamedTuple):
    """What :func:`conv2d_backward` reads (:func:`geometry_of` reassembles its Geometry)."""

    x_patches: Any  # (P, M) im2col of the padded input
    weight: Any  # (C_out, C_in, kh, kw)
    input_shape: tuple  # (N, C_in, H, W)
    output_shape: tuple  # (N, C_out, H_out, W_out)
    stride: tuple
    padding: tuple
    dilation: tuple
    has_bias: bool


class ConvTranspose2dCache(NamedTuple):
    """What :func:`conv_transpose2d_backward` reads (its output size is dy's)."""

    x_pixels: Any  # (C_in, N*H*W) the input, one column per pixel
    weight: Any  # (C_in, C_out, kh, kw)
    input_shape: tuple  # (N, C_in, H, W)
    output_shape: tuple  # (N, C_out, H_out, W_out)
    stride: tuple
    padding: tuple
    dilation: tuple
    has_bias: bool


def geometry_of(cache) -> Geometry:
    """The stride, padding and dilation a forward ran with (any conv cache, Winograd's too)."""
    return Geometry(cache.stride, cache.padding, cache.dilation)


def conv_output_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1 on one axis (< 1: the kernel overhangs)."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv_transpose_output_size(size: int, k: int, s: int, p: int, d: int, op: int) -> int:
    """H_out = (H - 1)s - 2p + d(k - 1) + op + 1 on one axis."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


def output_size(size, kernel, geometry: Geometry, transposed: bool = False) -> tuple:
    """(H_out, W_out) of conv2d, or of conv_transpose2d, on an input (H, W) = ``size``."""
    s, p, d, op = geometry
    if transposed:
        return tuple(map(conv_transpose_output_size, size, kernel, s, p, d, op))
    return tuple(map(conv_output_size, size, kernel, s, p, d))


def _winograd(c_in, c_out, weight, geometry) -> bool:  # conv_path's choice for this layer
    return conv_path(c_in, c_out, weight.shape[2:], geometry.stride,
                     geometry.dilation)[0] == "winograd"


# --- conv2d -------------------------------------------------------------------------------


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
    geometry = checks.conv2d_operands("conv2d", x, weight, bias, stride, padding, dilation)
    return conv2d(x, weight, bias, geometry)


def conv2d(x, weight, bias, geometry: Geometry):
    """The math of :func:`conv2d_forward` on checked operands: -> (y, cache)."""
    out_size = output_size(x.shape[2:], weight.shape[2:], geometry)  # (H_out, W_out)
    if _winograd(x.shape[1], weight.shape[0], weight, geometry):
        return winograd.conv2d_winograd(x, weight, bias, geometry.padding, out_size)
    y, x_patches = _conv2d(x, weight, bias, geometry, out_size)  # (N, C_out, H_out, W_out)
    cache = Conv2dCache(x_patches, weight, tuple(x.shape), tuple(y.shape), geometry.stride,
                        geometry.padding, geometry.dilation, bias is not None)
    return y, cache


def conv2d_backward(dy, cache: Conv2dCache):
    """VJP of conv2d: dx = conv_transpose2d(dy, weight), dweight = dy x_patches^T, dbias = sum(dy).

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
    checks.upstream("conv2d_backward", dy, cache)
    return conv2d_vjp(dy, cache)


def conv2d_vjp(dy, cache: Conv2dCache):
    """The math of :func:`conv2d_backward` on a checked dy: -> (dx, dweight, dbias)."""
    if isinstance(cache, winograd.WinogradConv2dCache):
        return winograd.conv2d_winograd_backward(dy, cache)
    xp = namespace_of(dy)
    batch, _, h, w = cache.input_shape
    dy_pixels = _pixel_columns(dy)  # (C_out, M): one column per output pixel
    dweight = _weight_gradient(dy_pixels, cache.x_patches,
                               cache.weight.shape)  # (C_out, C_in, kh, kw)
    # The input gradient IS a transposed convolution of dy with the same weight, cut to
    # exactly H x W (rows and columns a strided conv never read get zero).
    dx = _conv_transpose(dy_pixels, cache.weight, (batch, *dy.shape[2:]), (h, w),
                         geometry_of(cache))  # (N, C_in, H, W)
    dbias = xp.sum(dy_pixels, axis=1) if cache.has_bias else None  # (C_out,)
    return dx, dweight, dbias


# --- conv_transpose2d ---------------------------------------------------------------------


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
        s >= 1, p >= 0, d >= 1, 0 <= op < max(s, d) (torch's rule). ``op`` rows and columns
        added at the bottom and right pick one of the sizes whose conv2d maps back to H x W.

    Returns
    -------
    y : array (N, C_out, H_out, W_out)
        ``H_out = (H - 1)s - 2p + d(kh - 1) + op + 1``, likewise W_out.
    cache : ConvTranspose2dCache
    """
    geometry = checks.conv_transpose2d_operands("conv_transpose2d", x, weight, bias, stride,
                                                padding, output_padding, dilation)
    return conv_transpose2d(x, weight, bias, geometry)


def conv_transpose2d(x, weight, bias, geometry: Geometry):
    """The math of :func:`conv_transpose2d_forward` on checked operands: -> (y, cache)."""
    out_size = output_size(x.shape[2:], weight.shape[2:], geometry, transposed=True)
    if _winograd(x.shape[1], weight.shape[1], weight, geometry):
        return winograd.conv_transpose2d_winograd(x, weight, bias, geometry.padding, out_size)
    xp = namespace_of(x)
    batch, _, h, w = x.shape
    x_pixels = _pixel_columns(x)  # (C_in, N*H*W)
    # The same computation as conv2d's input gradient (see conv2d_vjp).
    y = _conv_transpose(x_pixels, weight, (batch, h, w), out_size,
                        geometry)  # (N, C_out, H_out, W_out)
    if bias is not None:
        y = y + xp.reshape(bias, (1, -1, 1, 1))  # (N, C_out, H_out, W_out)
    cache = ConvTranspose2dCache(x_pixels, weight, tuple(x.shape), tuple(y.shape),
                                 geometry.stride, geometry.padding, geometry.dilation,
                                 bias is not None)
    return y, cache


def conv_transpose2d_backward(dy, cache: ConvTranspose2dCache):
    """VJP of conv_transpose2d: dx = conv2d(dy, weight), dweight = x im2col(dy)^T, dbias = sum(dy).

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
    checks.upstream("conv_transpose2d_backward", dy, cache)
    return conv_transpose2d_vjp(dy, cache)


def conv_transpose2d_vjp(dy, cache: ConvTranspose2dCache):
    """The math of :func:`conv_transpose2d_backward` on a checked dy: -> (dx, dweight, dbias)."""
    if isinstance(cache, winograd.WinogradConvTranspose2dCache):
        return winograd.conv_transpose2d_winograd_backward(dy, cache)
    xp = namespace_of(dy)
    _, _, h, w = cache.input_shape
    # The input gradient IS a conv2d of dy, the weight read as (C_out', C_in', kh, kw), taken
    # at the H x W positions that exist (when op >= s, allowed if d > s, the formula gives more).
    dx, dy_patches = _conv2d(dy, cache.weight, None, geometry_of(cache),
                             (h, w))  # (N, C_in, H, W), (C_out*kh*kw, N*H*W) im2col of dy
    dweight = _weight_gradient(cache.x_pixels, dy_patches,
                               cache.weight.shape)  # (C_in, C_out, kh, kw)
    dbias = xp.sum(dy, axis=(0, 2, 3)) if cache.has_bias else None  # (C_out,)
    return dx, dweight, dbias


# --- The two cores and the shared pieces --------------------------------------------------


def _conv2d(x, weight, bias, geometry: Geometry, out_size):
    """im2col + one GEMM. x (N, C_in, H, W), weight (C_out, C_in, kh, kw) -> (y, x_patches).

    y is (N, C_out, H_out, W_out) (a channel-major array seen through a transpose);
    x_patches is (P, M). ``out_size`` may be smaller than the conv2d formula gives: the
    trailing output pixels are then not computed.
    """
    xp = namespace_of(x)
    batch, c_out = x.shape[0], weight.shape[0]
    x_pad = _pad(x, geometry.padding)  # (C_in, N, H + 2p_h, W + 2p_w)
    x_patches = _im2col(x_pad, tuple(weight.shape[2:]), geometry, out_size)  # (P, M)
    y = xp.reshape(weight, (c_out, x_patches.shape[0])) @ x_patches  # (C_out, M)
    if bias is not None:
        y += xp.reshape(bias, (c_out, 1))  # (C_out, M), in place: y is a fresh product
    y = xp.reshape(y, (c_out, batch, *out_size))  # (C_out, N, H_out, W_out)
    return xp.permute_dims(y, (1, 0, 2, 3)), x_patches  # (N, C_out, H_out, W_out)


def _conv_transpose(x_pixels, weight, grid, out_size, geometry: Geometry):
    """One GEMM + col2im + crop: the adjoint of :func:`_conv2d` in its input.

    x_pixels (C_in, N*H*W) on grid = (N, H, W), weight (C_in, C_out, kh, kw) -> y (N, C_out,
    H_out, W_out), a channel-major array seen through a transpose. Column m of ``W_mat^T @
    x_pixels`` is pixel m times every tap; col2im adds it into the padded output, then crop.
    """
    xp = namespace_of(x_pixels)
    (h_out, w_out), (p_h, p_w) = out_size, geometry.padding
    c_in, c_out, kh, kw = weight.shape
    patches = xp.reshape(weight, (c_in, c_out * kh * kw)).mT @ x_pixels  # (C_out*kh*kw, N*H*W)
    canvas = (h_out + 2 * p_h, w_out + 2 * p_w)
    y_pad = _col2im(patches, c_out, (kh, kw), geometry, grid, canvas)  # (C_out, N, ...canvas)
    y = y_pad[:, :, p_h:p_h + h_out, p_w:p_w + w_out]  # (C_out, N, H_out, W_out)
    return xp.permute_dims(y, (1, 0, 2, 3))  # (N, C_out, H_out, W_out)


def _pixel_columns(x):
    """(N, C, H, W) -> (C, N*H*W): one column per pixel (free if x is a channel-major view)."""
    xp = namespace_of(x)
    batch, channels, h, w = x.shape
    x_cm = xp.permute_dims(x, (1, 0, 2, 3))  # (C, N, H, W)
    return xp.reshape(x_cm, (channels, batch * h * w))  # (C, N*H*W)


def _weight_gradient(pixels, patches, weight_shape):
    """The sum over the pixels of pixels patches^T: (A, M'), (B*kh*kw, M') -> (A, B, kh, kw).

    conv2d: pixels = dy, patches = im2col(x); conv_transpose2d: pixels = x, patches = im2col(dy).
    """
    xp = namespace_of(pixels)
    return xp.reshape(pixels @ patches.mT, weight_shape)  # (A, B*kh*kw) -> (A, B, kh, kw)


def _pad(x, padding):
    """(N, C, H, W) -> zero-padded and channel-major (C, N, H + 2p_h, W + 2p_w)."""
    xp = namespace_of(x)
    batch, channels, h, w = x.shape
    p_h, p_w = padding
    x_cm = xp.permute_dims(x, (1, 0, 2, 3))  # (C, N, H, W), a view
    if p_h == 0 and p_w == 0:
        return x_cm
    shape = (channels, batch, h + 2 * p_h, w + 2 * p_w)
    x_pad = xp.zeros(shape, dtype=x.dtype, device=x.device)
    x_pad[:, :, p_h:p_h + h, p_w:p_w + w] = x_cm
    return x_pad


def _tap(i, j, grid, geometry: Geometry):
    """The slices of a padded image that tap (i, j) meets at the grid's (rows, cols) positions."""
    (g_h, g_w), (s_h, s_w), (d_h, d_w) = grid, geometry.stride, geometry.dilation
    # the stops are in bounds: the last position read is i*d + s*(g - 1)
    return (slice(i * d_h, i * d_h + s_h * (g_h - 1) + 1, s_h),
            slice(j * d_w, j * d_w + s_w * (g_w - 1) + 1, s_w))


def _im2col(x_pad, kernel, geometry: Geometry, out_size):
    """(C, N, H_p, W_p) -> (C*kh*kw, N*H_out*W_out): column m is the patch under output pixel m.

    Rows are ordered (c, i, j), as in ``weight.reshape(C_out, C*kh*kw)``.
    """
    xp = namespace_of(x_pad)
    channels, batch = x_pad.shape[0], x_pad.shape[1]
    kh, kw = kernel
    taps = []
    for i in range(kh):
        for j in range(kw):
            at_rows, at_cols = _tap(i, j, out_size, geometry)
            taps.append(x_pad[:, :, at_rows, at_cols])  # (C, N, H_out, W_out)
    patches = xp.stack(taps, axis=1)  # (C, kh*kw, N, H_out, W_out)
    return xp.reshape(patches, (channels * kh * kw, batch * out_size[0] * out_size[1]))


def _col2im(patches, channels, kernel, geometry: Geometry, grid, canvas):
    """The adjoint of im2col: add every column's patch back where it was read from.

    patches (C*kh*kw, N*G_h*G_w), one per position of grid = (N, G_h, G_w) -> the canvas
    (C, N, canvas_h, canvas_w): zeros plus the sum of the overlapping patches.
    """
    xp = namespace_of(patches)
    kh, kw = kernel
    batch, *positions = grid
    patches = xp.reshape(patches, (channels, kh * kw, *grid))  # (C, kh*kw, N, G_h, G_w)
    out = xp.zeros((channels, batch, *canvas), dtype=patches.dtype,
                   device=patches.device)  # (C, N, canvas_h, canvas_w)
    for i in range(kh):
        for j in range(kw):
            at_rows, at_cols = _tap(i, j, positions, geometry)
            out[:, :, at_rows, at_cols] += patches[:, i * kw + j, ...]  # (C, N, G_h, G_w)
    return out


# The second order reuses the cores above; it is re-exported so that every conv op is
# importable from here (imported last: conv_second_order imports this module).
from npgen.functional.conv_second_order import (  # noqa: E402
    conv2d_double_backward,
    conv_transpose2d_double_backward,
)
