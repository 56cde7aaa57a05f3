"""Slow reference twins: loop-based NumPy definitions of the fast ops, read as specifications.

Tests compare the vectorized, backend-agnostic ops against these. They run on
the host (NumPy, float64) and favour obviousness over speed.
"""

from __future__ import annotations

import numpy as np

# Batch norm ------------------------------------------------------------------


def batchnorm_reference(x, weight, bias, eps: float = 1e-5):
    """Training-mode batch norm, one channel at a time, with plain Python sums.

    Parameters
    ----------
    x : array_like (N, C, *S)
    weight, bias : array_like (C,) or None (1 and 0)
    eps : float

    Returns
    -------
    y : ndarray, x's shape, float64
    mean, var : ndarrays (C,): the batch mean and the BIASED batch variance
    """
    x = np.asarray(x, dtype=np.float64)
    channels = x.shape[1]
    y = np.empty_like(x)
    mean, var = np.empty(channels), np.empty(channels)
    for c in range(channels):
        values = x[:, c].reshape(-1)  # all N * prod(S) values of channel c
        m = len(values)
        mean[c] = sum(values) / m
        var[c] = sum((v - mean[c]) ** 2 for v in values) / m
        gamma = 1.0 if weight is None else float(weight[c])
        beta = 0.0 if bias is None else float(bias[c])
        y[:, c] = gamma * (x[:, c] - mean[c]) / np.sqrt(var[c] + eps) + beta
    return y, mean, var


# Convolution -----------------------------------------------------------------
# Symbols as in npgen.functional.conv: x (N, C_in, H, W); conv2d weight (C_out, C_in, kh, kw),
# conv_transpose2d weight (C_in, C_out, kh, kw); s stride, p padding, d dilation, op output
# padding, each an int or a (height, width) pair.


def _pairs(*values):
    return [(v, v) if isinstance(v, int) else tuple(v) for v in values]


def conv2d_reference(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """torch.nn.functional.conv2d by its definition, one output element at a time::

        y[n, o, a, b] = bias[o] + sum_{c,i,j} weight[o, c, i, j] * x_pad[n, c, a*s + i*d, b*s + j*d]

    Returns a float64 ndarray (N, C_out, H_out, W_out).
    """
    x, weight = np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    (s_h, s_w), (p_h, p_w), (d_h, d_w) = _pairs(stride, padding, dilation)
    n_batch, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    x_pad = np.zeros((n_batch, c_in, h + 2 * p_h, w + 2 * p_w))
    x_pad[:, :, p_h:p_h + h, p_w:p_w + w] = x
    h_out = (h + 2 * p_h - d_h * (kh - 1) - 1) // s_h + 1
    w_out = (w + 2 * p_w - d_w * (kw - 1) - 1) // s_w + 1
    y = np.zeros((n_batch, c_out, h_out, w_out))
    for n in range(n_batch):
        for o in range(c_out):
            for a in range(h_out):
                for b in range(w_out):
                    total = 0.0 if bias is None else float(bias[o])
                    for c in range(c_in):
                        for i in range(kh):
                            for j in range(kw):
                                pixel = x_pad[n, c, a * s_h + i * d_h, b * s_w + j * d_w]
                                total += weight[o, c, i, j] * pixel
                    y[n, o, a, b] = total
    return y


def conv_transpose2d_reference(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                               dilation=1):
    """torch.nn.functional.conv_transpose2d as a scatter: every input pixel adds
    ``x[n, c, a, b] * weight[c, o, i, j]`` to the output at (a*s + i*d - p, b*s + j*d - p)::

        H_out = (H - 1)s - 2p + d(kh - 1) + op + 1

    Contributions that land in the padding border are dropped; the op extra rows and
    columns at the bottom and right get whatever lands there (often nothing) plus the bias.
    Returns a float64 ndarray (N, C_out, H_out, W_out).
    """
    x, weight = np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    (s_h, s_w), (p_h, p_w), (o_h, o_w), (d_h, d_w) = _pairs(stride, padding, output_padding,
                                                             dilation)
    n_batch, c_in, h, w = x.shape
    _, c_out, kh, kw = weight.shape
    h_out = (h - 1) * s_h - 2 * p_h + d_h * (kh - 1) + o_h + 1
    w_out = (w - 1) * s_w - 2 * p_w + d_w * (kw - 1) + o_w + 1
    y = np.zeros((n_batch, c_out, h_out, w_out))
    for n in range(n_batch):
        for c in range(c_in):
            for a in range(h):
                for b in range(w):
                    for o in range(c_out):
                        for i in range(kh):
                            for j in range(kw):
                                row, col = a * s_h + i * d_h - p_h, b * s_w + j * d_w - p_w
                                if 0 <= row < h_out and 0 <= col < w_out:
                                    y[n, o, row, col] += x[n, c, a, b] * weight[c, o, i, j]
    if bias is not None:
        y += np.asarray(bias, dtype=np.float64).reshape(1, c_out, 1, 1)
    return y
