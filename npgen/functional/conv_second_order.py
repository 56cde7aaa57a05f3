"""The second order of conv2d and conv_transpose2d: VJPs of their backwards (WGAN-GP, R1).

Each backward is linear in dy and in the weight and blind to x, so its VJP for <ddx, dx> is
the first order once more, the duality read backwards: conv2d's dx is a transposed
convolution of dy, so its adjoint in dy is a conv2d FORWARD of ddx; conv_transpose2d's dx is
a conv2d of dy, so its adjoint is a transposed convolution of ddx. The weight gradients are
the first-order products with ddx in the place of x. The cores are those of
:mod:`npgen.functional.conv` (symbols there), with the forward's stride, padding and
dilation; a Winograd cache serves too, as its geometry is read the same way.
"""

from __future__ import annotations

from npgen._checks import conv as checks
from npgen.backend import namespace_of
from npgen.functional.conv import (
    Conv2dCache,
    ConvTranspose2dCache,
    _conv2d,
    _conv_transpose,
    _im2col,
    _pad,
    _pixel_columns,
    _weight_gradient,
    geometry_of,
)

__all__ = ["conv2d_double_backward", "conv2d_second_order", "conv_transpose2d_double_backward",
           "conv_transpose2d_second_order"]


def conv2d_double_backward(ddx, dy, cache: Conv2dCache):
    """VJP of <ddx, dx>, dx = conv_transpose2d(dy, W): d_dy = conv2d(ddx, W), dW = dy im2col(ddx)^T

    Parameters
    ----------
    ddx : array (N, C_in, H, W)
        Cotangent of the backward's ``dx``.
    dy : array (N, C_out, H_out, W_out)
        The upstream gradient the backward received.
    cache : Conv2dCache from :func:`npgen.functional.conv.conv2d_forward`

    Returns
    -------
    d_dy : array (N, C_out, H_out, W_out)
    d_x : array (N, C_in, H, W), zeros (dx does not read x)
    dweight : array (C_out, C_in, kh, kw)
    dbias : array (C_out,) of zeros, or None when the forward had no bias
    """
    checks.second_order("conv2d_double_backward", ddx, dy, cache)
    return conv2d_second_order(ddx, dy, cache)


def conv2d_second_order(ddx, dy, cache: Conv2dCache):
    """The math of :func:`conv2d_double_backward` on checked arrays: -> (d_dy, d_x, dW, db)."""
    xp = namespace_of(ddx)
    # <ddx, conv_transpose2d(dy, W)> = <conv2d(ddx, W), dy>: the duality, read backwards.
    d_dy, ddx_patches = _conv2d(ddx, cache.weight, None, geometry_of(cache),
                                tuple(dy.shape[2:]))  # (N, C_out, H_out, W_out), (P, M)
    dweight = _weight_gradient(_pixel_columns(dy), ddx_patches,
                               cache.weight.shape)  # (C_out, C_in, kh, kw)
    dbias = xp.zeros_like(dweight[:, 0, 0, 0]) if cache.has_bias else None  # (C_out,)
    return d_dy, xp.zeros_like(ddx), dweight, dbias


def conv_transpose2d_double_backward(ddx, dy, cache: ConvTranspose2dCache):
    """VJP of <ddx, dx>, dx = conv2d(dy, W): d_dy = conv_transpose2d(ddx, W), dW = ddx im2col(dy)^T

    Here ddx enters with one column per pixel. The adjoint in dy is a transposed convolution
    of ddx cut to dy's H_out x W_out (which fixes the output padding).

    Parameters
    ----------
    ddx : array (N, C_in, H, W)
    dy : array (N, C_out, H_out, W_out)
    cache : ConvTranspose2dCache from :func:`npgen.functional.conv.conv_transpose2d_forward`

    Returns
    -------
    d_dy : array (N, C_out, H_out, W_out)
    d_x : array (N, C_in, H, W), zeros (dx does not read x)
    dweight : array (C_in, C_out, kh, kw)
    dbias : array (C_out,) of zeros, or None when the forward had no bias
    """
    checks.second_order("conv_transpose2d_double_backward", ddx, dy, cache)
    return conv_transpose2d_second_order(ddx, dy, cache)


def conv_transpose2d_second_order(ddx, dy, cache: ConvTranspose2dCache):
    """The math of :func:`conv_transpose2d_double_backward` on checked arrays."""
    xp = namespace_of(ddx)
    batch, _, h, w = cache.input_shape
    geometry = geometry_of(cache)
    ddx_pixels = _pixel_columns(ddx)  # (C_in, N*H*W)
    d_dy = _conv_transpose(ddx_pixels, cache.weight, (batch, h, w), tuple(dy.shape[2:]),
                           geometry)  # (N, C_out, H_out, W_out)
    dy_patches = _im2col(_pad(dy, geometry.padding), tuple(cache.weight.shape[2:]), geometry,
                         (h, w))  # (C_out*kh*kw, N*H*W), im2col of dy as in the backward
    dweight = _weight_gradient(ddx_pixels, dy_patches, cache.weight.shape)  # (C_in, C_out, kh, kw)
    dbias = xp.zeros_like(dweight[0, :, 0, 0]) if cache.has_bias else None  # (C_out,)
    return d_dy, xp.zeros_like(ddx), dweight, dbias
