"""Hypothesis strategies for testing npgen and other implementations of the same ops (public).

Import them in any test suite::

    from hypothesis import given
    from npgen.testing import strategies as nst

    @given(g=nst.conv2d_geometries(), data=st.data())
    def test_my_conv(g, data):
        x = data.draw(nst.float_arrays(g.input_shape))
        ...

Arrays are drawn on the backend that is global *when the example is drawn*
(``npgen.use_backend``), or on the ``backend`` passed explicitly, so one test
body runs unchanged on numpy, array_api_strict's ``device1`` or torch.

Symbols (as in ``docs/notation.md``): N batch, C_in/C_out channels, H/W
spatial size, k kernel, s stride, p padding, d dilation, op output padding.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np  # host-side drawing (testing code); arrays cross to the backend via asarray
from hypothesis import strategies as st

from npgen.backend import Backend, asarray, backend_of, get_backend, to_numpy
from npgen.functional.conv import conv_output_size, conv_transpose_output_size  # the formulas

__all__ = [
    "ConvGeometry",
    "ConvTransposeGeometry",
    "away_from_kinks",
    "conv2d_geometries",
    "conv_output_size",
    "conv_transpose2d_geometries",
    "conv_transpose_output_size",
    "fast_conv2d_geometries",
    "fast_conv_transpose2d_geometries",
    "float_arrays",
    "kink_free",
    "shapes",
]


def shapes(min_dims: int = 1, max_dims: int = 4, min_side: int = 1, max_side: int = 5):
    """Array shapes: tuples of ``min_dims..max_dims`` sides in ``min_side..max_side``."""
    return st.lists(
        st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims
    ).map(tuple)


def _push_away(values, kinks, margin):
    """Move every value closer than ``margin`` to a kink out to ``kink +- margin``."""
    for kink in kinks:
        near = abs(values - kink) < margin
        side = (values[near] >= kink) * 2.0 - 1.0
        values[near] = kink + side * margin
    return values


@st.composite
def float_arrays(
    draw,
    shape,
    *,
    dtype="float64",
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid=(),
    margin: float = 1e-3,
    backend: Backend | None = None,
):
    """Float arrays of ``shape`` with entries in ``[min_value, max_value]``.

    Entries are drawn from a seeded generator (the seed is what Hypothesis
    draws and shrinks), then values within ``margin`` of a point in ``avoid``
    are pushed out to ``avoid +- margin`` (see :func:`away_from_kinks`). The
    array is created on ``backend`` or on the global backend at draw time.
    """
    seed = draw(st.integers(0, 2**32 - 1))
    style = draw(st.sampled_from(["uniform", "normal"]))
    rng = np.random.default_rng(seed)
    if style == "uniform":
        values = rng.uniform(min_value, max_value, size=shape)
    else:
        center, scale = (min_value + max_value) / 2, (max_value - min_value) / 6
        values = np.clip(rng.normal(center, scale, size=shape), min_value, max_value)
    values = _push_away(values, avoid, margin)
    return asarray(values, dtype=dtype, backend=backend or get_backend())


def away_from_kinks(shape, kinks=(0.0,), margin: float = 1e-3, **kwargs):
    """Float arrays whose entries all lie at least ``margin`` from each kink.

    Central differences with step ``eps`` straddle a kink only when an entry
    lies within ``eps`` of it; with the default ``margin=1e-3`` and the
    checker's ``eps=1e-6`` that cannot happen for elementwise ops such as ReLU
    and LeakyReLU (kink at 0).
    """
    return float_arrays(shape, avoid=kinks, margin=margin, **kwargs)


def kink_free(x, kinks=(0.0,), margin: float = 1e-3):
    """Push the entries of an existing array away from kinks (same namespace and device).

    For composite functions, e.g. ReLU after a convolution, apply it to the
    pre-activation the test computes; the values cross through the host.
    """
    values = _push_away(to_numpy(x).copy(), kinks, margin)
    return asarray(values, backend=backend_of(x))


# ----------------------------------------------------------------------------
# Convolution geometries
# ----------------------------------------------------------------------------


class ConvGeometry(NamedTuple):
    """A valid Conv2d configuration; pairs are (height, width)."""

    batch: int
    in_channels: int
    out_channels: int
    size: tuple  # (H, W)
    kernel_size: tuple  # (kh, kw)
    stride: tuple
    padding: tuple
    dilation: tuple

    @property
    def input_shape(self) -> tuple:  # (N, C_in, H, W)
        return (self.batch, self.in_channels, *self.size)

    @property
    def weight_shape(self) -> tuple:  # (C_out, C_in, kh, kw)
        return (self.out_channels, self.in_channels, *self.kernel_size)

    @property
    def output_size(self) -> tuple:  # (H_out, W_out)
        return tuple(
            conv_output_size(*args)
            for args in zip(self.size, self.kernel_size, self.stride, self.padding, self.dilation)
        )

    @property
    def output_shape(self) -> tuple:  # (N, C_out, H_out, W_out)
        return (self.batch, self.out_channels, *self.output_size)


class ConvTransposeGeometry(NamedTuple):
    """A valid ConvTranspose2d configuration; pairs are (height, width)."""

    batch: int
    in_channels: int
    out_channels: int
    size: tuple  # (H, W) of the input
    kernel_size: tuple
    stride: tuple
    padding: tuple
    output_padding: tuple
    dilation: tuple

    @property
    def input_shape(self) -> tuple:  # (N, C_in, H, W)
        return (self.batch, self.in_channels, *self.size)

    @property
    def weight_shape(self) -> tuple:  # (C_in, C_out, kh, kw)
        return (self.in_channels, self.out_channels, *self.kernel_size)

    @property
    def output_size(self) -> tuple:
        return tuple(
            conv_transpose_output_size(*args)
            for args in zip(self.size, self.kernel_size, self.stride, self.padding,
                            self.dilation, self.output_padding)
        )

    @property
    def output_shape(self) -> tuple:  # (N, C_out, H_out, W_out)
        return (self.batch, self.out_channels, *self.output_size)


@st.composite
def _conv_axis(draw, max_size, max_kernel, max_stride, max_padding, max_dilation):
    """(size, k, s, p, d) along one axis with d(k-1)+1 <= size + 2p (the kernel fits)."""
    k = draw(st.integers(1, max_kernel))
    d = draw(st.integers(1, max_dilation))
    s = draw(st.integers(1, max_stride))
    p = draw(st.integers(0, max_padding))
    span = d * (k - 1) + 1
    smallest = max(1, span - 2 * p)  # size == span - 2p: kernel equals the padded input
    size = draw(st.integers(smallest, max(smallest, max_size)))
    return size, k, s, p, d


@st.composite
def conv2d_geometries(
    draw,
    max_batch: int = 3,
    max_channels: int = 3,
    max_size: int = 7,
    max_kernel: int = 3,
    max_stride: int = 3,
    max_padding: int = 2,
    max_dilation: int = 2,
    square: bool | None = None,
):
    """Valid Conv2d geometries, including strides that leave a remainder.

    ``(H + 2p - d(k-1) - 1)`` need not be divisible by ``s``, and the
    (dilated) kernel may equal the padded input. ``square=True`` draws
    equal height and width settings; ``None`` lets Hypothesis choose.
    """
    square = draw(st.booleans()) if square is None else square
    axis = _conv_axis(max_size, max_kernel, max_stride, max_padding, max_dilation)
    rows = draw(axis)
    cols = rows if square else draw(axis)
    size, kernel, stride, padding, dilation = (tuple(pair) for pair in zip(rows, cols))
    return ConvGeometry(
        batch=draw(st.integers(1, max_batch)),
        in_channels=draw(st.integers(1, max_channels)),
        out_channels=draw(st.integers(1, max_channels)),
        size=size, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
    )


@st.composite
def _conv_transpose_axis(draw, max_size, max_kernel, max_stride, max_padding, max_dilation):
    """(size, k, s, p, d, op) along one axis with op < max(s, d) and a positive output."""
    k = draw(st.integers(1, max_kernel))
    d = draw(st.integers(1, max_dilation))
    s = draw(st.integers(1, max_stride))
    op = draw(st.integers(0, max(s, d) - 1))
    size = draw(st.integers(1, max_size))
    # the output (size-1)s - 2p + d(k-1) + op + 1 must be >= 1
    p_max = ((size - 1) * s + d * (k - 1) + op) // 2
    p = draw(st.integers(0, min(max_padding, p_max)))
    return size, k, s, p, d, op


@st.composite
def conv_transpose2d_geometries(
    draw,
    max_batch: int = 3,
    max_channels: int = 3,
    max_size: int = 5,
    max_kernel: int = 3,
    max_stride: int = 3,
    max_padding: int = 2,
    max_dilation: int = 2,
    square: bool | None = None,
):
    """Valid ConvTranspose2d geometries, output_padding in [0, max(s, d)) as PyTorch allows."""
    square = draw(st.booleans()) if square is None else square
    axis = _conv_transpose_axis(max_size, max_kernel, max_stride, max_padding, max_dilation)
    rows = draw(axis)
    cols = rows if square else draw(axis)
    size, kernel, stride, padding, dilation, output_padding = (tuple(p) for p in zip(rows, cols))
    return ConvTransposeGeometry(
        batch=draw(st.integers(1, max_batch)),
        in_channels=draw(st.integers(1, max_channels)),
        out_channels=draw(st.integers(1, max_channels)),
        size=size, kernel_size=kernel, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation,
    )


@st.composite
def _fast_common(draw, max_batch, min_channels, max_channels, max_padding):
    """Batch, channels and padding of a geometry that takes the Winograd path."""
    channels = st.integers(min_channels, max_channels)
    pad = st.integers(0, max_padding)
    return (draw(st.integers(1, max_batch)), draw(channels), draw(channels),
            (draw(pad), draw(pad)))


@st.composite
def fast_conv2d_geometries(draw, max_batch: int = 5, max_channels: int = 5, max_size: int = 9,
                           max_padding: int = 3):
    """Conv2d geometries that take the Winograd fast path: kernel 4, stride 2, dilation 1,
    both channel counts > 3 (see :func:`npgen.functional.conv.conv_path`), odd and even
    output sizes."""
    batch, c_in, c_out, padding = draw(_fast_common(max_batch, 4, max_channels, max_padding))
    size = tuple(draw(st.integers(max(1, 4 - 2 * p), max(4 - 2 * p, max_size)))
                 for p in padding)
    return ConvGeometry(batch, c_in, c_out, size, (4, 4), (2, 2), padding, (1, 1))


@st.composite
def fast_conv_transpose2d_geometries(draw, max_batch: int = 5, max_channels: int = 5,
                                     max_size: int = 5, max_padding: int = 3):
    """ConvTranspose2d geometries that take the Winograd fast path (kernel 4, stride 2,
    dilation 1, channels > 3), with output_padding 0 or 1."""
    batch, c_in, c_out, padding = draw(_fast_common(max_batch, 4, max_channels, max_padding))
    output_padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    # output (H - 1)*2 - 2p + 4 + op >= 1  <=>  H >= p (op = 0 is the binding case)
    size = tuple(draw(st.integers(max(1, p), max(p, max_size))) for p in padding)
    return ConvTransposeGeometry(batch, c_in, c_out, size, (4, 4), (2, 2), padding,
                                 output_padding, (1, 1))
