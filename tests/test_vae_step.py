"""The hand-written VAE step: every parameter gradient against numerical gradients of the loss.

The encoder and decoder are tiny modules defined here (affine + tanh, written
with Array API ops only), so this test does not depend on npgen.nn's layers;
a second test uses npgen.nn.Dense when it exists.
"""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgen
from npgen.gradcheck import check_module, check_vjp
from npgen.losses import negative_elbo, reparameterize
from npgen.models.vae_step import split_posterior, vae_loss_and_backward
from npgen.nn import Dense, Module, Sequential
from npgen.testing import strategies as nst

D, H, K = 3, 3, 2  # data, hidden and latent sizes


class _Affine(Module):
    """y = x W^T + b with weight (out, in), bias (out,), as torch.nn.Linear."""

    def __init__(self, weight, bias):
        super().__init__()
        self._add_parameter("weight", weight)
        self._add_parameter("bias", bias)

    def forward(self, x):
        self._cache = x
        xp = array_api_compat.array_namespace(x)
        w = self._parameters["weight"]
        return xp.matmul(x, xp.permute_dims(w, (1, 0))) + self._parameters["bias"]

    def backward(self, dy):
        x = self._require_cache()
        xp = array_api_compat.array_namespace(dy)
        grads = self._gradients
        grads["weight"][...] = grads["weight"] + xp.matmul(xp.permute_dims(dy, (1, 0)), x)
        grads["bias"][...] = grads["bias"] + xp.sum(dy, axis=0)
        return xp.matmul(dy, self._parameters["weight"])


class _Tanh(Module):
    def forward(self, x):
        xp = array_api_compat.array_namespace(x)
        self._cache = xp.tanh(x)
        return self._cache

    def backward(self, dy):
        y = self._require_cache()
        return dy * (1.0 - y * y)


@st.composite
def _mlp(draw, sizes):
    """Affine-tanh-affine with parameters drawn on the current backend (float64)."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        weight = draw(nst.float_arrays((n_out, n_in), min_value=-1.0, max_value=1.0))
        bias = draw(nst.float_arrays((n_out,), min_value=-0.5, max_value=0.5))
        layers.append(_Affine(weight, bias))
        if i < len(sizes) - 2:
            layers.append(_Tanh())
    return Sequential(*layers)


def _chain_check(encoder, decoder, x, eps, likelihood, beta, sigma):
    """check_vjp of 'parameters -> negative ELBO' against vae_loss_and_backward's gradients."""
    modules = [encoder, decoder]
    keys = [(m, k) for m in modules for k in m.parameters()]

    def load(values):
        for (module, key), value in zip(keys, values):
            module.parameters()[key][...] = value

    def loss(*values):  # the forward pass only, as a function of all parameters
        load(values)
        mu, logvar = split_posterior(encoder(x))
        out = decoder(reparameterize(mu, logvar, eps))
        return negative_elbo(x, out, mu, logvar, likelihood, beta, sigma).value

    def vjp(dy, *values):
        load(values)
        for m in modules:
            m.zero_grad()
        vae_loss_and_backward(encoder, decoder, x, eps, likelihood, beta, sigma)
        return tuple(dy * m.gradients()[k] for m, k in keys)

    initial = [npgen.asarray(m.parameters()[k], dtype="float64",
                             backend=npgen.backend.backend_of(x)) for m, k in keys]
    check_vjp(loss, vjp, initial, names=[f"{type(m).__name__}:{k}" for m, k in keys])


@settings(max_examples=6)
@given(batch=st.integers(1, 3), likelihood=st.sampled_from(["bernoulli", "gaussian"]),
       beta=st.sampled_from([1.0, 0.5]), data=st.data())
def test_vae_step_gradients_match_numerical(backend, batch, likelihood, beta, data):
    encoder = data.draw(_mlp((D, H, 2 * K)))
    decoder = data.draw(_mlp((K, H, D)))
    x = data.draw(nst.float_arrays((batch, D), min_value=0.0, max_value=1.0))
    eps = data.draw(nst.float_arrays((batch, K)))
    _chain_check(encoder, decoder, x, eps, likelihood, beta, sigma=0.6)


def test_test_modules_are_right(backend):
    # the helpers above are themselves hand-written backwards: check them first
    rng = np.random.default_rng(0)
    affine = _Affine(npgen.asarray(rng.normal(size=(2, 3))), npgen.asarray(rng.normal(size=2)))
    check_module(Sequential(affine, _Tanh()), npgen.asarray(rng.normal(size=(4, 3))))


def test_step_result_and_accumulation(backend):
    rng = np.random.default_rng(1)

    def affine(n_in, n_out):
        return _Affine(npgen.asarray(rng.normal(size=(n_out, n_in))),
                       npgen.asarray(rng.normal(size=n_out)))

    encoder, decoder = affine(D, 2 * K), affine(K, D)
    x = npgen.asarray(rng.uniform(size=(4, D)))
    eps = npgen.asarray(rng.normal(size=(4, K)))
    first = vae_loss_and_backward(encoder, decoder, x, eps, beta=0.5)
    once = {k: npgen.to_numpy(g).copy() for k, g in encoder.gradients().items()}
    second = vae_loss_and_backward(encoder, decoder, x, eps, beta=0.5)
    for key, g in encoder.gradients().items():  # backward ADDS into the accumulators
        np.testing.assert_allclose(npgen.to_numpy(g), 2.0 * once[key], rtol=1e-14)
    assert float(first.loss) == float(second.loss)
    np.testing.assert_allclose(float(first.loss), float(first.reconstruction) + 0.5 *
                               float(first.kl), rtol=1e-14)
    assert tuple(first.mu.shape) == tuple(first.z.shape) == (4, K)
    assert tuple(first.dx.shape) == tuple(first.decoder_out.shape) == (4, D)


def test_encoder_output_must_split_in_two(backend):
    rng = np.random.default_rng(2)
    encoder = _Affine(npgen.asarray(rng.normal(size=(3, D))), npgen.asarray(np.zeros(3)))
    decoder = _Affine(npgen.asarray(rng.normal(size=(D, 1))), npgen.asarray(np.zeros(D)))
    x = npgen.asarray(rng.uniform(size=(2, D)))
    with pytest.raises(ValueError, match=r"\(N, 2\*latent\).*got shape \(2, 3\)"):
        vae_loss_and_backward(encoder, decoder, x, npgen.asarray(np.zeros((2, 1))))


@settings(max_examples=3)
@given(batch=st.integers(1, 3), data=st.data())
def test_vae_step_with_npgen_dense(backend, batch, data):
    dense = Dense
    seed = data.draw(st.integers(0, 1000))
    encoder = Sequential(dense(D, H, dtype="float64", seed=seed), _Tanh(),
                         dense(H, 2 * K, dtype="float64", seed=seed + 1))
    decoder = Sequential(dense(K, H, dtype="float64", seed=seed + 2), _Tanh(),
                         dense(H, D, dtype="float64", seed=seed + 3))
    x = data.draw(nst.float_arrays((batch, D), min_value=0.0, max_value=1.0))
    eps = data.draw(nst.float_arrays((batch, K)))
    _chain_check(encoder, decoder, x, eps, "bernoulli", 1.0, 1.0)
