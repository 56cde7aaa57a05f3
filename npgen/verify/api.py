"""The public ``verify_*`` functions: one per op family, each documenting its calling convention.

Every function takes the user's ``forward`` and, optionally, ``backward``
callables and the same keyword options:

max_examples : int, default 50
    Configurations Hypothesis tries before declaring a pass (shrinking a
    failure runs more).
rtol, atol : float, optional
    Tolerances of ``|theirs - reference| <= atol + rtol |reference|``. By
    default they follow the dtype their code returns: float64 (1e-7, 1e-9),
    anything else (1e-4, 1e-5) (``npgen.verify.TOLERANCES``).
seed : int, default 0
    Seed of Hypothesis's search: the same seed replays the same configurations.
array_library : str, optional
    Module whose ``asarray`` makes the arrays their callables receive:
    ``"numpy"`` (default, float64), ``"torch"``, ``"jax"``, ``"cupy"``, ...
to_theirs : callable, optional
    Instead of ``array_library``: ``to_theirs(numpy_float64_array) -> their array``
    (e.g. a cast to float32, a move to a GPU).
raise_exception : bool, default True
    Raise :class:`VerifyError` (an AssertionError) on a mismatch; else return the report.

Outputs may be arrays of any library (NumPy, torch, CuPy, JAX, array_api_strict,
anything with DLPack or ``__array__``) or Python floats for losses. Backward
functions of layers are vector-Jacobian products: they receive the upstream
gradient ``dy`` first and return one gradient per array input (None for a
missing bias). Loss backwards return the gradient of the loss itself.
"""

from __future__ import annotations

from npgen.verify import _layers, _objectives
from npgen.verify._convert import resolve_converter
from npgen.verify._runner import OpSpec, run_differential
from npgen.verify.report import VerifyError, VerifyReport

__all__ = [
    "verify_activation",
    "verify_adam_step",
    "verify_adamw_step",
    "verify_batchnorm_train",
    "verify_bce_with_logits",
    "verify_conv2d",
    "verify_conv_transpose2d",
    "verify_dense",
    "verify_gan_discriminator_loss",
    "verify_gan_generator_loss",
    "verify_gaussian_kl",
    "verify_negative_elbo",
]


def _verify(spec: OpSpec, forward, backward, *, max_examples=50, rtol=None, atol=None, seed=0,
            array_library=None, to_theirs=None, raise_exception=True) -> VerifyReport:
    where = f"npgen.verify.verify_{spec.name.split('(')[0]}"
    if not callable(forward):
        raise TypeError(f"{where}: forward must be callable; got {forward!r}")
    if backward is not None and not callable(backward):
        raise TypeError(f"{where}: backward must be callable or None; got {backward!r}")
    if backward is not None and not spec.gradients:
        raise ValueError(f"{where}: this op has no backward to verify")
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1:
        raise ValueError(f"{where}: max_examples must be a positive int; got {max_examples!r}")
    if (rtol is None) != (atol is None):
        raise ValueError(f"{where}: pass both rtol and atol, or neither (dtype defaults)")
    convert = resolve_converter(where, array_library, to_theirs)
    report = run_differential(spec, forward, backward, convert=convert,
                              max_examples=max_examples, seed=seed, rtol=rtol, atol=atol)
    if raise_exception and not report.ok:
        raise VerifyError(report)
    return report


def verify_dense(forward, backward=None, **options) -> VerifyReport:
    """Verify a dense (linear) layer, ``torch.nn.functional.linear``'s convention.

    ``forward(x, weight, bias) -> y`` with x (N, C_in), weight (C_out, C_in),
    bias (C_out,) or None, y (N, C_out).
    ``backward(dy, x, weight, bias) -> (dx, dweight, dbias)``.

    Example::

        def forward(x, w, b):
            return x @ w.T + (0 if b is None else b)

        def backward(dy, x, w, b):
            return dy @ w, dy.T @ x, None if b is None else dy.sum(0)

        npgen.verify.verify_dense(forward, backward)   # raises VerifyError on a mismatch
    """
    return _verify(_layers.DENSE, forward, backward, **options)


def verify_conv2d(forward, backward=None, **options) -> VerifyReport:
    """Verify a 2-D convolution, ``torch.nn.functional.conv2d``'s convention (groups=1).

    ``forward(x, weight, bias, stride, padding, dilation) -> y`` with x (N, C_in, H, W),
    weight (C_out, C_in, kh, kw), bias (C_out,) or None, and stride, padding,
    dilation (height, width) pairs of ints.
    ``backward(dy, x, weight, bias, stride, padding, dilation) -> (dx, dweight, dbias)``.
    Geometries include strides that leave a remainder, dilation and kernels as
    large as the padded input (:func:`npgen.testing.strategies.conv2d_geometries`).

    Example (torch, gradients from autograd)::

        import torch.nn.functional as F
        npgen.verify.verify_conv2d(F.conv2d, array_library="torch")
    """
    return _verify(_layers.CONV2D, forward, backward, **options)


def verify_conv_transpose2d(forward, backward=None, **options) -> VerifyReport:
    """Verify a transposed convolution, ``torch.nn.functional.conv_transpose2d``'s convention.

    ``forward(x, weight, bias, stride, padding, output_padding, dilation) -> y`` with
    weight (C_in, C_out, kh, kw) and (height, width) pairs; note the argument
    order is npgen's (torch's F.conv_transpose2d puts ``groups`` before
    ``dilation``, so pass a keyword-calling lambda).
    ``backward(dy, x, weight, bias, stride, padding, output_padding, dilation)
    -> (dx, dweight, dbias)``.

    Example::

        def forward(x, w, b, s, p, op, d):
            return F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op,
                                      dilation=d)
        npgen.verify.verify_conv_transpose2d(forward, array_library="torch")
    """
    return _verify(_layers.CONV_TRANSPOSE2D, forward, backward, **options)


def verify_batchnorm_train(forward, backward=None, **options) -> VerifyReport:
    """Verify batch norm in training mode (batch statistics, biased variance).

    ``forward(x, weight, bias, eps) -> y`` with x (N, C), (N, C, L) or (N, C, H, W)
    and weight, bias (C,). ``backward(dy, x, weight, bias, eps) -> (dx, dweight, dbias)``.
    Configurations include two values per channel (batch 2, the classic edge case).

    Example::

        def forward(x, w, b, eps):
            return F.batch_norm(x, None, None, w, b, training=True, eps=eps)
        npgen.verify.verify_batchnorm_train(forward, array_library="torch")
    """
    return _verify(_layers.BATCHNORM, forward, backward, **options)


def verify_activation(name: str, forward, backward=None, *, negative_slope: float = 0.01,
                      **options) -> VerifyReport:
    """Verify an activation: ``name`` in relu, leaky_relu, sigmoid, tanh.

    ``forward(x) -> y`` and ``backward(dy, x) -> dx`` (element-wise, any shape;
    inputs reach +-40). For ``"leaky_relu"`` their function has its slope built in and
    ``negative_slope`` tells npgen which one.

    Example::

        npgen.verify.verify_activation("sigmoid", lambda x: 1 / (1 + np.exp(-x)))
    """
    spec = _layers.activation_spec(name, negative_slope)
    return _verify(spec, forward, backward, **options)


def verify_bce_with_logits(forward, backward=None, **options) -> VerifyReport:
    """Verify binary cross-entropy on logits, mean over all elements.

    ``forward(logits, target) -> loss`` (a scalar) and ``backward(logits, target) ->
    dlogits``. Logits reach +-200, where ``log(sigmoid(l))`` computed naively is -inf.

    Example::

        npgen.verify.verify_bce_with_logits(F.binary_cross_entropy_with_logits,
                                            array_library="torch")
    """
    return _verify(_objectives.BCE_WITH_LOGITS, forward, backward, **options)


def verify_gaussian_kl(forward, backward=None, **options) -> VerifyReport:
    """Verify KL(N(mu, exp(logvar)) || N(0, I)), summed over latents, averaged over the batch.

    ``forward(mu, logvar) -> kl`` with mu, logvar (N, K); ``backward(mu, logvar) ->
    (dmu, dlogvar)``.

    Example::

        npgen.verify.verify_gaussian_kl(
            lambda mu, lv: 0.5 * np.sum(mu**2 + np.exp(lv) - 1 - lv) / len(mu))
    """
    return _verify(_objectives.GAUSSIAN_KL, forward, backward, **options)


def verify_negative_elbo(forward, backward=None, **options) -> VerifyReport:
    """Verify the negative ELBO (batch mean, nats) as :func:`npgen.losses.negative_elbo`.

    ``forward(x, decoder_out, mu, logvar, likelihood, beta, sigma) -> loss`` with
    x, decoder_out (N, ...), mu, logvar (N, K), likelihood "bernoulli" (decoder_out
    are logits) or "gaussian" (decoder_out is the mean, fixed sigma).
    ``backward(x, decoder_out, mu, logvar, likelihood, beta, sigma) ->
    (d_decoder_out, dmu, dlogvar)`` (the direct gradients; the path through z
    is the decoder's business).
    """
    return _verify(_objectives.NEGATIVE_ELBO, forward, backward, **options)


def verify_gan_discriminator_loss(forward, backward=None, **options) -> VerifyReport:
    """Verify the discriminator loss mean softplus(-r) + mean softplus(f).

    ``forward(real_logits, fake_logits) -> loss`` with logits (N_real, 1) or
    (N_real,) and (N_fake, ...); ``backward(real_logits, fake_logits) ->
    (d_real_logits, d_fake_logits)``.
    """
    return _verify(_objectives.GAN_DISCRIMINATOR, forward, backward, **options)


def verify_gan_generator_loss(forward, backward=None, *, saturating: bool = False,
                              **options) -> VerifyReport:
    """Verify the generator loss: non-saturating mean softplus(-f) or saturating -mean softplus(f).

    ``forward(fake_logits) -> loss`` and ``backward(fake_logits) -> d_fake_logits``.
    """
    spec = _objectives.gan_generator_spec(saturating)
    return _verify(spec, forward, backward, **options)


def verify_adam_step(step_function, **options) -> VerifyReport:
    """Verify one Adam update (``torch.optim.Adam``'s rule, L2 weight decay, no AMSGrad).

    ``step_function(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay)
    -> (new_param, new_exp_avg, new_exp_avg_sq)``, where ``step`` is t >= 1, the
    index of the update being taken (bias corrections 1 - beta^t), and the moments
    are the state before it. Inputs must not be needed afterwards: they are fresh copies.
    """
    return _verify(_objectives.ADAM, step_function, None, **options)


def verify_adamw_step(step_function, **options) -> VerifyReport:
    """Verify one AdamW update (``torch.optim.AdamW``'s rule: decoupled weight decay).

    Same calling convention as :func:`verify_adam_step`; here ``weight_decay``
    shrinks the parameter, ``param * (1 - lr * weight_decay)``, before the Adam
    step instead of entering the gradient (Loshchilov & Hutter 2019, Alg. 2).
    """
    return _verify(_objectives.ADAMW, step_function, None, **options)

