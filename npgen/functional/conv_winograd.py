"""The fast path of k4 s2 convolutions: space-to-depth + Winograd F(2x2, 2x2), in batch chunks.

:mod:`npgen.functional.conv` (im2col) is the definition; this module computes the same
numbers with 0.56x the multiplications for the geometry DCGAN uses, and
:func:`npgen.functional.conv.conv_path` says when
(:mod:`npgen.functional.conv_dispatch`). The derivation, in these symbols, is
``docs/layers/winograd.md``; a test holds both paths equal (tests/test_conv_fast_path.py).

Symbols (those of conv.py, plus):

    O, C           conv2d's output and input channels (conv_transpose2d: C_in and C_out)
    T_h, T_w       output tiles: ceil(H_out / 2), ceil(W_out / 2); T = N * T_h * T_w (T_c per chunk)
    S              space-to-depth input (N, 2T_h + 1, 2T_w + 1, 4C), channels ordered (r, q, c):
                   S[n, u, v, (r, q, c)] = x_pad[n, c, 2u + r, 2v + q]
    g[a, b]        the four 2x2 sub-kernels (4C, O): g[a, b][(r, q, c), o] = W[o, c, 2a + r, 2b + q]
    U = G g G^T    (9, 4C, O)    G   = [[1, 0], [1, 1], [0, 1]]
    V = B^T d B    (9, T, 4C)    B^T = [[1, -1, 0], [0, 1, 0], [0, -1, 1]], d a 3x3 tile of S
    Z = V @ U      (9, T, O)     y = A^T Z A, A^T = [[1, 1, 0], [0, 1, 1]] (a 2x2 output tile)

A k4 s2 convolution of x is a k2 s1 convolution of S (``y[a, b] = sum_{a', b'} g[a', b'] .
S[a + a', b + b']``), and each 2x2 output tile of that needs 9 products of (4C)-vectors with
(4C, O) matrices instead of 16. The backward runs the adjoints in reverse order:
dZ = A dy A^T, dU = V^T dZ, dW = G^T dU G, dV = dZ U^T, dS = B dV B^T (an overlap-add of the
tiles), dx = depth-to-space(dS). That data path IS conv_transpose2d's forward, and conv2d's
forward is conv_transpose2d's input gradient: the same six pieces with the roles swapped.

Execution: the batch is cut into chunks of about 256 tile rows that run on
:func:`npgen.backend.run_chunks` (threads on NumPy, one chunk elsewhere). Inside the op the
layout is channels-last; outputs are NCHW views of NHWC arrays. Standard Array API calls only.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from npgen.backend import batch_chunks, namespace_of, run_chunks

__all__ = ["WinogradConv2dCache", "WinogradConvTranspose2dCache", "conv2d_winograd",
           "conv2d_winograd_backward", "conv_transpose2d_winograd",
           "conv_transpose2d_winograd_backward"]


class WinogradConv2dCache(NamedTuple):
    """What :func:`conv2d_winograd_backward` reads."""

    transformed: tuple  # per chunk: V = B^T d B of the input, (9, T_c, 4C_in)
    chunks: tuple  # ((start, stop), ...) over the batch
    weight: Any  # (C_out, C_in, 4, 4)
    kernel: Any  # U (9, 4C_in, C_out)
    input_shape: tuple  # (N, C_in, H, W)
    output_shape: tuple  # (N, C_out, H_out, W_out)
    padding: tuple
    has_bias: bool
    stride: tuple = (2, 2)  # the geometry this path serves, for the im2col second order
    dilation: tuple = (1, 1)


class WinogradConvTranspose2dCache(NamedTuple):
    """What :func:`conv_transpose2d_winograd_backward` reads."""

    x: Any  # (N, C_in, H, W), the forward's input
    weight: Any  # (C_in, C_out, 4, 4)
    kernel: Any  # U (9, 4C_out, C_in)
    input_shape: tuple  # (N, C_in, H, W)
    output_shape: tuple  # (N, C_out, H_out, W_out)
    padding: tuple
    has_bias: bool
    stride: tuple = (2, 2)  # the geometry this path serves, for the im2col second order
    dilation: tuple = (1, 1)


# ----------------------------------------------------------------------------
# conv2d: S -> V -> Z = V U -> y, and back
# ----------------------------------------------------------------------------


def conv2d_winograd(x, weight, bias, padding, out_size):
    """conv2d (k4, s2, d1) of x (N, C, H, W) with weight (O, C, 4, 4) -> (y, cache)."""
    xp = namespace_of(x)
    batch, tiles = x.shape[0], _tiles(out_size)
    kernel = _kernel_transform(weight)  # (9, 4C, O)
    y = _empty_grid(x, batch, tiles, weight.shape[0])  # (N, 2T_h, 2T_w, O)

    def forward_chunk(start, stop):
        s2d = _space_to_depth(x[start:stop, ...], padding, tiles)  # (N_c, 2T_h+1, 2T_w+1, 4C)
        v = _input_transform(s2d, tiles)  # (9, T_c, 4C)
        z = v @ kernel  # (9, T_c, O)
        if bias is not None:
            z[4, ...] += bias  # the centre of Z enters each of the 4 outputs of a tile once
        _output_transform(y, start, stop, z, tiles)
        return v

    chunks = batch_chunks(x, batch, tiles[0] * tiles[1])
    v = run_chunks(x, forward_chunk, chunks)
    cache = WinogradConv2dCache(tuple(v), tuple(chunks), weight, kernel, tuple(x.shape),
                                (batch, weight.shape[0], *out_size), padding, bias is not None)
    return _nchw(xp, y, out_size), cache


def conv2d_winograd_backward(dy, cache: WinogradConv2dCache):
    """VJP of :func:`conv2d_winograd`: dx = B dV B^T to NCHW, dW = G^T (V^T dZ) G, db = sum dy."""
    xp = namespace_of(dy)
    batch, channels, h, w = cache.input_shape
    tiles = _tiles(cache.output_shape[2:])
    dy_grid = _even_grid(dy, tiles)  # (N, 2T_h, 2T_w, O)
    dx = _zeros_like_shape(dy, (batch, h, w, channels))  # (N, H, W, C)

    v_of = dict(zip(cache.chunks, cache.transformed))  # (start, stop) -> V of that chunk

    def backward_chunk(start, stop):
        dz = _output_transform_adjoint(dy_grid[start:stop, ...], tiles)  # (9, T_c, O)
        ds2d = _input_transform_adjoint(dz @ cache.kernel.mT, tiles, stop - start)
        _depth_to_space(dx, start, stop, ds2d, cache.padding)
        return v_of[(start, stop)].mT @ dz  # (9, 4C, O)

    dkernel = _sum(run_chunks(dy, backward_chunk, list(cache.chunks)))
    dweight = _kernel_transform_adjoint(dkernel, cache.weight.shape)  # (O, C, 4, 4)
    dbias = xp.sum(dy, axis=(0, 2, 3)) if cache.has_bias else None  # (O,)
    return xp.permute_dims(dx, (0, 3, 1, 2)), dweight, dbias  # dx (N, C, H, W)


# ----------------------------------------------------------------------------
# conv_transpose2d: the same pieces, data path first
# ----------------------------------------------------------------------------


def conv_transpose2d_winograd(x, weight, bias, padding, out_size):
    """conv_transpose2d (k4, s2, d1): x (N, O, H, W), weight (O, C, 4, 4) -> (y, cache).

    The weight of a transposed convolution (C_in, C_out, kh, kw) read as a conv2d weight
    (O, C, kh, kw) with O = C_in: y is conv2d's input gradient for "dy" = x.
    """
    xp = namespace_of(x)
    batch, tiles = x.shape[0], _tiles(x.shape[2:])
    kernel = _kernel_transform(weight)  # (9, 4C, O)
    x_grid = _even_grid(x, tiles)  # (N, 2T_h, 2T_w, O)
    y = _zeros_like_shape(x, (batch, *out_size, weight.shape[1]))  # (N, H_out, W_out, C)

    def forward_chunk(start, stop):
        dz = _output_transform_adjoint(x_grid[start:stop, ...], tiles)  # (9, T_c, O)
        ds2d = _input_transform_adjoint(dz @ kernel.mT, tiles, stop - start)
        _depth_to_space(y, start, stop, ds2d, padding)
        if bias is not None:
            y[start:stop, ...] += bias  # (N_c, H_out, W_out, C)

    run_chunks(x, forward_chunk, batch_chunks(x, batch, tiles[0] * tiles[1]))
    cache = WinogradConvTranspose2dCache(x, weight, kernel, tuple(x.shape),
                                         (batch, weight.shape[1], *out_size), padding,
                                         bias is not None)
    return xp.permute_dims(y, (0, 3, 1, 2)), cache  # (N, C, H_out, W_out)


def conv_transpose2d_winograd_backward(dy, cache: WinogradConvTranspose2dCache):
    """VJP of :func:`conv_transpose2d_winograd`: dx = conv2d(dy, W), dW = G^T (V^T dZ) G."""
    xp = namespace_of(dy)
    batch, _, h, w = cache.input_shape
    tiles = _tiles((h, w))
    x_grid = _even_grid(cache.x, tiles)  # (N, 2T_h, 2T_w, O)
    dx = _empty_grid(dy, batch, tiles, cache.weight.shape[0])  # (N, 2T_h, 2T_w, O)

    def backward_chunk(start, stop):
        v = _input_transform(_space_to_depth(dy[start:stop, ...], cache.padding, tiles), tiles)
        _output_transform(dx, start, stop, v @ cache.kernel, tiles)
        return v.mT @ _output_transform_adjoint(x_grid[start:stop, ...], tiles)  # (9, 4C, O)

    dkernel = _sum(run_chunks(dy, backward_chunk, batch_chunks(dy, batch, tiles[0] * tiles[1])))
    dweight = _kernel_transform_adjoint(dkernel, cache.weight.shape)  # (O, C, 4, 4)
    dbias = xp.sum(dy, axis=(0, 2, 3)) if cache.has_bias else None  # (C,)
    return _nchw(xp, dx, (h, w)), dweight, dbias


# ----------------------------------------------------------------------------
# The pieces: layout, kernel transform, input and output transforms, their adjoints
# ----------------------------------------------------------------------------


def _tiles(out_size):
    """(T_h, T_w): 2x2 output tiles covering H_out x W_out."""
    return tuple((n + 1) // 2 for n in out_size)


def _phase(size, pad, r, extent):
    """Rows of x (size rows) with (h + p) % 2 == r, and the rows u of S they land in.

    x_pad row h + p = 2u + r; only u < extent exists in S (later rows are never read).
    Returns (slice of x, slice of S), or None when no row qualifies.
    """
    first = (r - pad) % 2
    last = min(size - 1, 2 * (extent - 1) + r - pad)
    if last < first:
        return None
    count = (last - first) // 2 + 1
    u = (first + pad) // 2
    return slice(first, first + 2 * (count - 1) + 1, 2), slice(u, u + count)


def _space_to_depth(x, padding, tiles):
    """x (N, C, H, W) -> S (N, 2T_h + 1, 2T_w + 1, 4C): four strided copies into zeros."""
    xp = namespace_of(x)
    batch, channels, h, w = x.shape
    extent = (2 * tiles[0] + 1, 2 * tiles[1] + 1)
    s2d = xp.zeros((batch, *extent, 2, 2, channels), dtype=x.dtype,
                   device=x.device)  # (N, U, V, r, q, C)
    x_nhwc = xp.permute_dims(x, (0, 2, 3, 1))  # (N, H, W, C), a view
    for r in (0, 1):
        for q in (0, 1):
            rows, cols = _phase(h, padding[0], r, extent[0]), _phase(w, padding[1], q, extent[1])
            if rows is not None and cols is not None:
                s2d[:, rows[1], cols[1], r, q, :] = x_nhwc[:, rows[0], cols[0], :]
    return xp.reshape(s2d, (batch, *extent, 4 * channels))  # (N, U, V, 4C)


def _depth_to_space(out, start, stop, ds2d, padding):
    """The adjoint of :func:`_space_to_depth`: out[start:stop] (N_c, H, W, C) <- dS's rows."""
    xp = namespace_of(ds2d)
    batch, u, v, _ = ds2d.shape
    _, h, w, channels = out.shape
    ds2d = xp.reshape(ds2d, (batch, u, v, 2, 2, channels))  # (N_c, U, V, r, q, C)
    for r in (0, 1):
        for q in (0, 1):
            rows, cols = _phase(h, padding[0], r, u), _phase(w, padding[1], q, v)
            if rows is not None and cols is not None:
                out[start:stop, rows[0], cols[0], :] = ds2d[:, rows[1], cols[1], r, q, :]


def _kernel_transform(weight):
    """U = G g G^T: weight (O, C, 4, 4) -> (9, 4C, O), position (alpha, beta) = 3 alpha + beta."""
    xp = namespace_of(weight)
    c_out, c_in = weight.shape[0], weight.shape[1]
    g = xp.reshape(weight, (c_out, c_in, 2, 2, 2, 2))  # (o, c, a, r, b, q)
    g = xp.reshape(xp.permute_dims(g, (2, 4, 3, 5, 1, 0)), (2, 2, 4 * c_in, c_out))  # g[a, b]
    rows = (g[0, ...], g[0, ...] + g[1, ...], g[1, ...])  # G g: 3 x (2, 4C, O)
    u = [t for row in rows for t in (row[0, ...], row[0, ...] + row[1, ...], row[1, ...])]
    return xp.stack(u, axis=0)  # (G g) G^T: (9, 4C, O)


def _kernel_transform_adjoint(dkernel, weight_shape):
    """dW = G^T dU G: (9, 4C, O) -> (O, C, 4, 4)."""
    xp = namespace_of(dkernel)
    c_out, c_in = weight_shape[0], weight_shape[1]
    du = [dkernel[i, ...] for i in range(9)]
    cols = [(du[3 * a] + du[3 * a + 1], du[3 * a + 1] + du[3 * a + 2]) for a in range(3)]
    dg = [[cols[a][b] + cols[a + 1][b] for b in (0, 1)] for a in (0, 1)]  # G^T (dU G)
    dg = xp.stack([xp.stack(row, axis=0) for row in dg], axis=0)  # (a, b, 4C, O)
    dg = xp.reshape(dg, (2, 2, 2, 2, c_in, c_out))  # (a, b, r, q, c, o)
    return xp.reshape(xp.permute_dims(dg, (5, 4, 0, 2, 1, 3)), weight_shape)  # (O, C, 4, 4)


def _input_transform(s2d, tiles):
    """V = B^T d B on every 3x3 tile d of S (tiles overlap by one): -> (9, T, 4C)."""
    xp = namespace_of(s2d)
    (t_h, t_w), (batch, channels) = tiles, (s2d.shape[0], s2d.shape[3])
    top, mid, bottom = (s2d[:, i:i + 2 * t_h - 1:2, ...] for i in range(3))  # (N, T_h, V, 4C)
    v = []
    for row in (top - mid, mid, bottom - mid):  # B^T d
        left, centre, right = (row[:, :, j:j + 2 * t_w - 1:2, :] for j in range(3))
        v += [left - centre, centre, right - centre]  # (B^T d) B: each (N, T_h, T_w, 4C)
    return xp.reshape(xp.stack(v, axis=0), (9, batch * t_h * t_w, channels))  # (9, T, 4C)


def _input_transform_adjoint(dv, tiles, batch):
    """dS = B dV B^T, with overlapping tile rows and columns added: -> (N, 2T_h+1, 2T_w+1, 4C)."""
    xp = namespace_of(dv)
    (t_h, t_w), channels = tiles, dv.shape[2]
    dv = xp.reshape(dv, (3, 3, batch, t_h, t_w, channels))
    rows = [_overlap_add(xp, dv[a, 0, ...], dv[a, 1, ...], dv[a, 2, ...], axis=2)
            for a in range(3)]  # (dV B^T) per tile row a: (N, T_h, 2T_w + 1, 4C)
    return _overlap_add(xp, *rows, axis=1)  # (N, 2T_h + 1, 2T_w + 1, 4C)


def _overlap_add(xp, first, middle, last, axis):
    """B's rows [1, 0, 0], [-1, 1, -1], [0, 0, 1] along ``axis``, tile t at 2t, 2t+1, 2t+2."""
    shape = list(first.shape)
    tiles, shape[axis] = shape[axis], 2 * shape[axis] + 1
    out = xp.zeros(tuple(shape), dtype=first.dtype, device=first.device)
    at = [slice(None)] * len(shape)

    def along(start):
        at[axis] = slice(start, start + 2 * tiles - 1, 2)
        return tuple(at)

    out[along(0)] = first
    out[along(2)] += last
    out[along(1)] = middle - first - last
    return out


def _output_transform(out, start, stop, z, tiles):
    """y = A^T Z A: Z (9, T_c, O) -> out[start:stop] (N_c, 2T_h, 2T_w, O), four strided writes."""
    xp = namespace_of(z)
    (t_h, t_w), c_out = tiles, z.shape[2]
    z = xp.reshape(z, (3, 3, stop - start, t_h, t_w, c_out))
    for e in (0, 1):
        row = z[e, ...] + z[e + 1, ...]  # A^T Z: (3, N_c, T_h, T_w, O)
        for f in (0, 1):
            out[start:stop, e:2 * t_h:2, f:2 * t_w:2, :] = row[f, ...] + row[f + 1, ...]


def _output_transform_adjoint(dy_grid, tiles):
    """dZ = A dy A^T: dy (N, 2T_h, 2T_w, O) -> (9, T, O)."""
    xp = namespace_of(dy_grid)
    (t_h, t_w), (batch, c_out) = tiles, (dy_grid.shape[0], dy_grid.shape[3])
    d = [[dy_grid[:, e:2 * t_h:2, f:2 * t_w:2, :] for f in (0, 1)] for e in (0, 1)]
    rows = ((d[0][0], d[0][1]), (d[0][0] + d[1][0], d[0][1] + d[1][1]), (d[1][0], d[1][1]))
    dz = [t for left, right in rows for t in (left, left + right, right)]  # (A dy) A^T
    return xp.reshape(xp.stack(dz, axis=0), (9, batch * t_h * t_w, c_out))  # (9, T, O)


# ----------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------


def _even_grid(a, tiles):
    """(N, O, H_o, W_o) -> channels-last (N, 2T_h, 2T_w, O): a view, zero-extended if odd."""
    xp = namespace_of(a)
    a_nhwc = xp.permute_dims(a, (0, 2, 3, 1))  # (N, H_o, W_o, O)
    if tuple(a.shape[2:]) == (2 * tiles[0], 2 * tiles[1]):
        return a_nhwc
    grid = _zeros_like_shape(a, (a.shape[0], 2 * tiles[0], 2 * tiles[1], a.shape[1]))
    grid[:, :a.shape[2], :a.shape[3], :] = a_nhwc
    return grid


def _empty_grid(like, batch, tiles, channels):
    xp = namespace_of(like)
    return xp.empty((batch, 2 * tiles[0], 2 * tiles[1], channels), dtype=like.dtype,
                    device=like.device)


def _zeros_like_shape(like, shape):
    xp = namespace_of(like)
    return xp.zeros(shape, dtype=like.dtype, device=like.device)


def _nchw(xp, grid, out_size):
    """(N, 2T_h, 2T_w, O) -> the NCHW view (N, O, H_out, W_out), cropped to the output."""
    return xp.permute_dims(grid[:, :out_size[0], :out_size[1], :], (0, 3, 1, 2))


def _sum(parts):
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
