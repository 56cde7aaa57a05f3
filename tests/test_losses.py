"""mse, bce_with_logits, gaussian_kl, reparameterize and negative_elbo: gradients, values, extremes.

References are independent of the code under test: NumPy closed forms
(``np.logaddexp`` for softplus), Python ``math`` for the extreme cases, and
PyTorch in float64 (values and autograd gradients) where torch is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import host, on_backend
from hypothesis import given, settings
from hypothesis import strategies as st

import npgen
from npgen.losses import (
    bce_with_logits,
    gaussian_kl,
    mse,
    negative_elbo,
    negative_elbo_terms,
    reconstruction_nll,
    reparameterize,
    reparameterize_backward,
)
from npgen.testing import strategies as nst

REDUCTIONS = st.sampled_from(["mean", "sum"])


# ----------------------------------------------------------------------------
# Gradient checks (float64, Hypothesis shapes and values)
# ----------------------------------------------------------------------------


# ----------------------------------------------------------------------------
# Values against NumPy closed forms and PyTorch
# ----------------------------------------------------------------------------


@given(shape=nst.shapes(1, 3, 1, 4), reduction=REDUCTIONS, data=st.data())
def test_values_match_numpy_closed_forms(backend, shape, reduction, data):
    a, b = data.draw(nst.float_arrays(shape)), data.draw(nst.float_arrays(shape, min_value=0.0))
    reduce = np.mean if reduction == "mean" else np.sum
    loss, _ = mse(a, b, reduction)
    np.testing.assert_allclose(float(loss), reduce((host(a) - host(b)) ** 2), rtol=1e-13)
    loss, _ = bce_with_logits(a, b, reduction)
    expected = reduce(np.logaddexp(0.0, host(a)) - host(b) * host(a))
    np.testing.assert_allclose(float(loss), expected, rtol=1e-13, atol=1e-15)


@settings(max_examples=6)
@given(batch=st.integers(1, 3), rest=nst.shapes(1, 2, 1, 3), reduction=REDUCTIONS,
       data=st.data())
def test_bce_and_mse_match_torch(backend, batch, rest, reduction, data):
    torch = pytest.importorskip("torch")
    shape = (batch, *rest)
    a = data.draw(nst.float_arrays(shape, min_value=-8.0, max_value=8.0))
    b = data.draw(nst.float_arrays(shape, min_value=0.0, max_value=1.0))
    for ours, theirs in [(mse, torch.nn.functional.mse_loss),
                         (bce_with_logits, torch.nn.functional.binary_cross_entropy_with_logits)]:
        ta = torch.tensor(host(a), requires_grad=True)
        expected = theirs(ta, torch.tensor(host(b)), reduction=reduction)
        expected.backward()
        loss, grad = ours(a, b, reduction)
        np.testing.assert_allclose(float(loss), expected.item(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(host(grad), ta.grad.numpy(), rtol=1e-12, atol=1e-15)


@settings(max_examples=6)
@given(batch=st.integers(1, 3), rest=nst.shapes(1, 2, 1, 3), latent=st.integers(1, 3),
       likelihood=st.sampled_from(["bernoulli", "gaussian"]), data=st.data())
def test_negative_elbo_matches_torch(backend, batch, rest, latent, likelihood, data):
    torch = pytest.importorskip("torch")
    beta, sigma = 0.7, 0.4
    x_shape, z_shape = (batch, *rest), (batch, latent)
    x = data.draw(nst.float_arrays(x_shape, min_value=0.0, max_value=1.0))
    out = data.draw(nst.float_arrays(x_shape))
    mu = data.draw(nst.float_arrays(z_shape))
    logvar = data.draw(nst.float_arrays(z_shape, min_value=-3.0, max_value=3.0))
    t_out, t_mu, t_lv = (torch.tensor(host(a), requires_grad=True) for a in (out, mu, logvar))
    t_x = torch.tensor(host(x))
    if likelihood == "bernoulli":
        nll = torch.nn.functional.binary_cross_entropy_with_logits(t_out, t_x, reduction="sum")
    else:
        nll = -torch.distributions.Normal(t_out, sigma).log_prob(t_x).sum()
    q = torch.distributions.Normal(t_mu, torch.exp(0.5 * t_lv))
    kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum()
    expected = (nll + beta * kl) / batch
    expected.backward()

    terms = negative_elbo_terms(x, out, mu, logvar, likelihood, beta, sigma)
    np.testing.assert_allclose(float(terms.value), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(float(terms.reconstruction), nll.item() / batch, rtol=1e-12)
    np.testing.assert_allclose(float(terms.kl), kl.item() / batch, rtol=1e-12, atol=1e-15)
    for ours, theirs in [(terms.d_decoder_out, t_out), (terms.dmu, t_mu), (terms.dlogvar, t_lv)]:
        np.testing.assert_allclose(host(ours), theirs.grad.numpy(), rtol=1e-11, atol=1e-15)
    # the contract's 4-tuple is the first four fields
    value, d_out, dmu, dlogvar = negative_elbo(x, out, mu, logvar, likelihood, beta, sigma)
    assert float(value) == float(terms.value)


def test_results_are_0d_arrays_of_the_input_namespace(backend):
    x = on_backend([[0.0, 1.0], [1.0, 0.5]])
    mu = on_backend([[0.1], [-0.2]])
    results = [
        mse(x, x)[0], bce_with_logits(x, x, "sum")[0], gaussian_kl(mu, mu)[0],
        reconstruction_nll(x, x)[0], negative_elbo(x, x, mu, mu, "gaussian").value,
    ]
    for r in results:
        assert npgen.backend.backend_of(r).name == backend.name
        assert tuple(r.shape) == ()
        assert isinstance(float(r), float)


def test_gaussian_log_normalizer_in_nats(backend):
    # x == m: only the normalizer remains, D/2 log(2 pi sigma^2) per example.
    x = on_backend(np.zeros((2, 3, 2)))
    nll, d_out = reconstruction_nll(x, x, "gaussian", sigma=0.5)
    np.testing.assert_allclose(float(nll), 6 * 0.5 * math.log(2 * math.pi * 0.25), rtol=1e-15)
    assert not host(d_out).any()


# ----------------------------------------------------------------------------
# Extremes: exact values and gradients, float64 and float32
# ----------------------------------------------------------------------------

E80 = math.exp(-80.0)
# (logit, target, loss = softplus(l) - t l, d/dl = sigmoid(l) - t), computed by hand
BCE_EXTREMES = [
    (1e4, 0.0, 1e4, 1.0),
    (1e4, 1.0, 0.0, 0.0),
    (1e4, 0.5, 5e3, 0.5),
    (-1e4, 0.0, 0.0, 0.0),
    (-1e4, 1.0, 1e4, -1.0),
    (-1e4, 0.25, 2.5e3, -0.25),
    (80.0, 0.0, 80.0 + math.log1p(E80), 1.0 / (1.0 + E80)),
    (80.0, 1.0, math.log1p(E80), -E80 / (1.0 + E80)),  # ~1.8e-35, not rounded to 0
    (-80.0, 0.0, math.log1p(E80), E80 / (1.0 + E80)),
    (-80.0, 1.0, 80.0 + math.log1p(E80), -1.0 / (1.0 + E80)),
    (0.0, 0.0, math.log(2.0), 0.5),
    (0.0, 0.5, math.log(2.0), 0.0),
]
# float32 results are compared at a few ulps (float32 eps = 1.2e-7)
RTOL = {"float64": 1e-15, "float32": 5e-7}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_with_logits_extremes(backend, dtype):
    for logit, target, loss_exact, grad_exact in BCE_EXTREMES:
        loss, grad = bce_with_logits(on_backend([logit], dtype), on_backend([target], dtype))
        assert npgen.backend.dtype_name(loss.dtype) == dtype
        case = f"l={logit}, t={target}"
        np.testing.assert_allclose(float(loss), loss_exact, rtol=RTOL[dtype], atol=0, err_msg=case)
        np.testing.assert_allclose(host(grad)[0], grad_exact, rtol=RTOL[dtype], atol=0,
                                   err_msg=case)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gaussian_kl_extremes(backend, dtype):
    mus = [0.0, 1.0, -3.0, 0.0, 0.0, 2.0]
    logvars = [-30.0, 30.0, 0.0, 1e-8, -1e-8, -30.0]
    kl, dmu, dlogvar = gaussian_kl(on_backend([mus], dtype), on_backend([logvars], dtype))
    # 1/2 (mu^2 + e^lv - 1 - lv); near lv = 0, e^lv - 1 - lv = lv^2/2 + lv^3/6 + ...
    terms = [0.5 * (m * m + math.expm1(lv) - lv) for m, lv in zip(mus, logvars)]
    terms[3] = terms[4] = 0.5 * (1e-16 / 2)  # lv = +-1e-8: the series to 1e-8 relative
    np.testing.assert_allclose(float(kl), math.fsum(terms), rtol=RTOL[dtype])
    np.testing.assert_allclose(host(dmu)[0], mus, rtol=RTOL[dtype])
    np.testing.assert_allclose(host(dlogvar)[0], [0.5 * math.expm1(lv) for lv in logvars],
                               rtol=RTOL[dtype])
    if dtype == "float64":  # the tiny terms themselves keep their relative accuracy
        small, _, _ = gaussian_kl(on_backend([[0.0]]), on_backend([[1e-8]]))
        np.testing.assert_allclose(float(small), 0.25e-16, rtol=1e-7)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_reparameterize_extremes(backend, dtype):
    mu, logvar, eps = [[0.5, -1.0, 2.0]], [[-30.0, 30.0, 0.0]], [[1.5, -0.5, 0.25]]
    args = [on_backend(a, dtype) for a in (mu, logvar, eps)]
    z = reparameterize(*args)
    std = [math.exp(lv / 2) for lv in logvar[0]]
    np.testing.assert_allclose(host(z)[0], [m + s * e for m, s, e in zip(mu[0], std, eps[0])],
                               rtol=RTOL[dtype])
    dmu, dlogvar = reparameterize_backward(on_backend([[1.0, 1.0, 1.0]], dtype), *args)
    np.testing.assert_allclose(host(dmu)[0], 1.0)
    np.testing.assert_allclose(host(dlogvar)[0], [e * s / 2 for e, s in zip(eps[0], std)],
                               rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_negative_elbo_extremes_are_finite(backend, dtype):
    x = on_backend([[0.0, 1.0, 1.0, 0.0]], dtype)
    logits = on_backend([[1e4, -1e4, 80.0, -80.0]], dtype)
    mu, logvar = on_backend([[3.0, 0.0]], dtype), on_backend([[30.0, -30.0]], dtype)
    value, d_out, dmu, dlogvar = negative_elbo(x, logits, mu, logvar)
    nll = 1e4 + 1e4 + math.log1p(E80) + math.log1p(E80)
    kl = 0.5 * (9.0 + math.expm1(30.0) - 30.0) + 0.5 * (math.expm1(-30.0) + 30.0)
    np.testing.assert_allclose(float(value), nll + kl, rtol=RTOL[dtype])
    for g in (d_out, dmu, dlogvar):
        assert np.isfinite(host(g)).all()


# ----------------------------------------------------------------------------
# Bad inputs
# ----------------------------------------------------------------------------


def _bad_calls(x, y, mu):
    wrong = on_backend(np.zeros((2, 5)))
    ints = npgen.asarray(np.zeros((2, 3), dtype=np.int64))
    x32 = npgen.asarray(host(x), dtype="float32")
    return [
        (lambda: mse(x, wrong), ValueError, "mse: pred and target must have the same shape"),
        (lambda: mse(x, y, reduction="none"), ValueError, "reduction must be 'mean' or 'sum'"),
        (lambda: mse(x, [[0.0] * 3] * 2), TypeError, "mse: expected target to be an array"),
        (lambda: mse(ints, ints), TypeError, "mse: expected a floating-point pred"),
        (lambda: mse(x, x32), TypeError, "target is float32 but the pred is float64"),
        (lambda: bce_with_logits(x, wrong), ValueError, "bce_with_logits: logits and target"),
        (lambda: bce_with_logits(x[:0, ...], x[:0, ...]), ValueError, "mean of an empty input"),
        (lambda: gaussian_kl(mu[0, ...], mu[0, ...]), ValueError,
         "gaussian_kl: expected mu with at least 2 dimension(s) (N, latent); got shape (2,)"),
        (lambda: gaussian_kl(mu, wrong), ValueError, "mu and logvar must have the same shape"),
        (lambda: reparameterize(mu, mu, wrong), ValueError, "reparameterize: mu and eps"),
        (lambda: reparameterize_backward(wrong, mu, mu, mu), ValueError, "mu and dz"),
        (lambda: negative_elbo(x, y, mu, mu, likelihood="poisson"), ValueError,
         "negative_elbo: likelihood must be 'bernoulli' or 'gaussian'; got 'poisson'"),
        (lambda: negative_elbo(x, y, mu, mu, "gaussian", sigma=0.0), ValueError,
         "negative_elbo: sigma must lie in (0"),
        (lambda: negative_elbo(x, y, mu, mu, beta=-1.0), ValueError, "beta must lie in [0"),
        (lambda: negative_elbo(x, wrong, mu, mu), ValueError,
         "negative_elbo: x and decoder_out must have the same shape"),
        (lambda: negative_elbo(x, y, mu[:1, ...], mu[:1, ...]), ValueError, "same batch size"),
        (lambda: negative_elbo(x[0, ...], y[0, ...], mu, mu), ValueError, "same batch size"),
        (lambda: negative_elbo(x, y, mu, mu, sigma="1"), TypeError, "sigma must be a real"),
    ]


def test_bad_inputs(backend):
    x = on_backend(np.full((2, 3), 0.5))
    y = on_backend(np.zeros((2, 3)))
    mu = on_backend(np.zeros((2, 2)))
    for call, error, fragment in _bad_calls(x, y, mu):
        with pytest.raises(error) as info:
            call()
        assert fragment in str(info.value), str(info.value)


def test_mixed_libraries_and_devices_are_refused():
    strict = pytest.importorskip("array_api_strict")
    a = np.zeros((2, 3))
    on_device1 = strict.asarray(np.zeros((2, 3)), device=strict.Device("device1"))
    on_cpu = strict.asarray(np.zeros((2, 3)), device=strict.Device("CPU_DEVICE"))
    with pytest.raises(TypeError, match="mse: target is on array_api_strict.* numpy/cpu"):
        mse(a, on_device1)
    with pytest.raises(TypeError, match="bce_with_logits: target is on .*device1"):
        bce_with_logits(on_cpu, on_device1)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_with_logits_at_infinity_is_the_limit_never_nan(backend, dtype):
    """Outside the contract (finite logits): the limits, where torch gives NaN for 4 of 6."""
    logits = on_backend([np.inf, np.inf, np.inf, -np.inf, -np.inf, -np.inf, 3.0], dtype)
    target = on_backend([0.0, 0.5, 1.0, 0.0, 0.5, 1.0, 1.0], dtype)
    finite_loss, finite_grad = bce_with_logits(logits[6:], target[6:], reduction="sum")
    loss, grad = bce_with_logits(logits, target, reduction="sum")
    assert float(loss) == np.inf
    parts = [float(bce_with_logits(logits[i:i + 1], target[i:i + 1], reduction="sum")[0])
             for i in range(6)]
    assert parts == [np.inf, np.inf, 0.0, 0.0, np.inf, np.inf]
    expected = [1.0, 0.5, 0.0, 0.0, -0.5, -1.0, float(host(finite_grad)[0])]
    np.testing.assert_array_equal(host(grad), np.array(expected, dtype=dtype))
