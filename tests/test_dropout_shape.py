"""Dropout (fixed-mask functional pair, module) and Flatten / Unflatten."""

from __future__ import annotations

import math

import numpy as np
import pytest

import npgen
from npgen import nn
from npgen.functional.dropout import dropout_backward, dropout_forward
from npgen.functional.shape import (
    flatten_backward,
    flatten_forward,
    unflatten_forward,
)
from npgen.gradcheck import check_module

# ----------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------


def test_dropout_p_one_gives_zeros_not_nan(backend):
    x = npgen.asarray(np.ones((2, 3)), dtype="float64")
    y, cache = dropout_forward(x, 1.0, npgen.asarray(np.zeros((2, 3)), dtype="float64"))
    np.testing.assert_array_equal(npgen.to_numpy(y), 0.0)
    np.testing.assert_array_equal(npgen.to_numpy(dropout_backward(x, cache)), 0.0)


def test_dropout_module_training_draws_mask_and_scales(backend):
    p = 0.3
    layer = nn.Dropout(p, seed=0)
    x = npgen.asarray(np.full((50, 40), 2.0), dtype="float64")
    y = npgen.to_numpy(layer(x))
    kept = y != 0
    np.testing.assert_allclose(y[kept], 2.0 / (1 - p), rtol=1e-15)
    # The drop rate of n = 2000 draws has sigma = sqrt(p (1 - p) / n) = 0.010; the seed
    # fixes the draw, and 5 sigma still holds if a backend's RNG stream changes.
    sigma = math.sqrt(p * (1 - p) / kept.size)
    assert abs(1 - kept.mean() - p) < 5 * sigma
    dy = np.random.default_rng(1).normal(size=(50, 40))
    dx = npgen.to_numpy(layer.backward(npgen.asarray(dy, dtype="float64")))
    np.testing.assert_allclose(dx, np.where(kept, dy / (1 - p), 0.0), rtol=1e-15)
    second = npgen.to_numpy(layer(x))
    assert (second != y).any()  # a fresh mask each forward


def test_dropout_mask_follows_the_rng(backend):
    """The mask is rng.uniform(shape) >= p: same seed, same mask (any backend)."""
    x = npgen.asarray(np.ones((4, 5)), dtype="float64")
    y = npgen.to_numpy(nn.Dropout(0.5, rng=npgen.RNG(3, portable=True))(x))
    keep = np.random.default_rng(3).uniform(size=(4, 5)) >= 0.5
    np.testing.assert_array_equal(y, keep * 2.0)


def test_dropout_draws_masks_on_the_device(backend):
    """Dropout masks come from the device's RNG (torch/cupy draw natively, not on the host)."""
    native = backend.name in ("torch", "cupy")
    assert nn.Dropout(0.5, seed=0).rng.portable is not native


def test_dropout_module_eval_is_identity(backend):
    layer = nn.Dropout(0.5, seed=0).eval()
    x = npgen.asarray(np.random.default_rng(0).normal(size=(3, 4)), dtype="float64")
    np.testing.assert_array_equal(npgen.to_numpy(layer(x)), npgen.to_numpy(x))
    check_module(layer, x)


def test_dropout_keeps_float32(backend):
    layer = nn.Dropout(0.5, seed=0)
    y = layer(npgen.asarray(np.ones((3, 4)), dtype="float32"))
    assert npgen.backend.dtype_name(y.dtype) == "float32"


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", None])
def test_dropout_bad_probability(p):
    with pytest.raises(ValueError, match="Dropout: dropout probability p"):
        nn.Dropout(p)


def test_dropout_bad_mask(backend):
    x = npgen.asarray(np.ones((2, 3)), dtype="float64")
    with pytest.raises(ValueError, match="dropout_forward: x and keep_mask"):
        dropout_forward(x, 0.5, npgen.asarray(np.ones((3, 2)), dtype="float64"))
    with pytest.raises(TypeError, match="dropout_forward: keep_mask is float32"):
        dropout_forward(x, 0.5, npgen.asarray(np.ones((2, 3)), dtype="float32"))


def test_dropout_rng_on_another_backend_is_an_error(backend):
    if backend.name == "numpy":
        pytest.skip("the layer's RNG draws on numpy")
    with npgen.use_backend("numpy"):
        layer = nn.Dropout(0.5, seed=0)
    with pytest.raises(TypeError, match=r"Dropout\(p=0.5\): input is on"):
        layer(npgen.asarray(np.ones((2, 2)), dtype="float64"))


# ----------------------------------------------------------------------------
# Flatten and Unflatten
# ----------------------------------------------------------------------------


def test_flatten_unflatten_modules(backend):
    x = npgen.asarray(np.random.default_rng(0).normal(size=(2, 3, 2, 2)), dtype="float64")
    model = nn.Sequential(nn.Flatten(), nn.Unflatten(1, (3, 4)), nn.Flatten(2))
    y = model(x)
    assert tuple(y.shape) == (2, 3, 4)
    np.testing.assert_array_equal(npgen.to_numpy(y), npgen.to_numpy(x).reshape(2, 3, 4))
    check_module(model, x)
    assert tuple(model.backward(y).shape) == (2, 3, 2, 2)


def test_flatten_unflatten_match_torch(backend):
    torch = pytest.importorskip("torch")
    host = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    x = npgen.asarray(host)
    for start, end in [(1, -1), (0, 2), (2, 3), (-3, -2)]:
        ours = npgen.to_numpy(nn.Flatten(start, end)(x))
        theirs = torch.nn.Flatten(start, end)(torch.from_numpy(host)).numpy()
        np.testing.assert_array_equal(ours, theirs)
    for dim, sizes in [(1, (3, 1)), (-1, (5, 1)), (2, (2, -1))]:
        ours = npgen.to_numpy(nn.Unflatten(dim, sizes)(x))
        theirs = torch.nn.Unflatten(dim, sizes)(torch.from_numpy(host)).numpy()
        np.testing.assert_array_equal(ours, theirs)


def test_shape_errors(backend):
    x = npgen.asarray(np.ones((2, 6)), dtype="float64")
    with pytest.raises(ValueError, match="flatten_forward: start_dim must be an int in"):
        nn.Flatten(2)(x)
    with pytest.raises(ValueError, match="flatten_forward: start_dim 1 comes after end_dim 0"):
        flatten_forward(x, 1, 0)
    with pytest.raises(ValueError, match="unflatten_forward: sizes .* do not multiply to"):
        nn.Unflatten(1, (4, 2))(x)
    with pytest.raises(ValueError, match="unflatten_forward: sizes must be"):
        unflatten_forward(x, 1, (-1, -1))
    with pytest.raises(ValueError, match="flatten_backward: dy must have shape"):
        flatten_backward(x, flatten_forward(npgen.asarray(np.ones((2, 5))))[1])
    with pytest.raises(RuntimeError, match="Flatten.backward called before forward"):
        nn.Flatten().backward(x)
