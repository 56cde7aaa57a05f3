"""The public Hypothesis strategies generate what they promise."""

from hypothesis import given, settings
from hypothesis import strategies as st

import npgen
from npgen.testing import strategies as nst


@settings(max_examples=200)
@given(g=nst.conv2d_geometries())
def test_conv_geometries_are_valid(g):
    for size, k, p, d in zip(g.size, g.kernel_size, g.padding, g.dilation):
        assert d * (k - 1) + 1 <= size + 2 * p  # the dilated kernel fits the padded input
    assert all(o >= 1 for o in g.output_size)
    assert g.output_shape[:2] == (g.batch, g.out_channels)


@settings(max_examples=200)
@given(g=nst.conv_transpose2d_geometries())
def test_conv_transpose_geometries_are_valid(g):
    for s, d, op in zip(g.stride, g.dilation, g.output_padding):
        assert 0 <= op < max(s, d)
    assert all(o >= 1 for o in g.output_size)


def _find(strategy, condition):
    """Hypothesis' `find` with a generous budget: the condition must be reachable."""
    from hypothesis import find

    return find(strategy, condition, settings=settings(max_examples=2000, database=None))


def test_conv_geometries_reach_the_edge_cases():
    def uneven(g):
        return any((size + 2 * p - d * (k - 1) - 1) % s != 0
                   for size, k, s, p, d in zip(g.size, g.kernel_size, g.stride, g.padding,
                                               g.dilation))

    def kernel_equals_padded_input(g):
        return any(d * (k - 1) + 1 == size + 2 * p
                   for size, k, p, d in zip(g.size, g.kernel_size, g.padding, g.dilation))

    _find(nst.conv2d_geometries(), uneven)
    _find(nst.conv2d_geometries(), kernel_equals_padded_input)
    _find(nst.conv2d_geometries(), lambda g: max(g.dilation) > 1 and max(g.stride) > 1)
    _find(nst.conv_transpose2d_geometries(), lambda g: max(g.output_padding) > 0)
    _find(nst.conv_transpose2d_geometries(),
          lambda g: any(op >= s for op, s in zip(g.output_padding, g.stride)))


@given(data=st.data())
def test_float_arrays_follow_the_global_backend(backend, data):
    x = data.draw(nst.float_arrays((2, 3), min_value=-1.0, max_value=1.0))
    where = npgen.backend.backend_of(x)
    assert (where.name, str(where.device)) == (backend.name, str(backend.device))
    assert x.dtype == backend.xp.float64 and tuple(x.shape) == (2, 3)
    host = npgen.to_numpy(x)
    assert host.min() >= -1.0 and host.max() <= 1.0


@given(data=st.data())
def test_away_from_kinks_keeps_the_margin(backend, data):
    x = npgen.to_numpy(data.draw(nst.away_from_kinks((50,), kinks=(0.0, 0.5), margin=1e-2,
                                                     min_value=-0.1, max_value=0.6)))
    assert (abs(x) >= 1e-2 - 1e-12).all() and (abs(x - 0.5) >= 1e-2 - 1e-12).all()


def test_kink_free_moves_values_and_keeps_the_device(backend):
    x = npgen.asarray([0.0, 1e-5, -2e-4, 3.0], dtype="float64")
    y = nst.kink_free(x, margin=1e-3)
    assert npgen.to_numpy(y).tolist() == [1e-3, 1e-3, -1e-3, 3.0]
    assert str(npgen.backend.backend_of(y).device) == str(backend.device)
