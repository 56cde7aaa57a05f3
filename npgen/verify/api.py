"""The public ``verify_*`` functions: one per op family, each documenting its calling convention.

Every function takes the user's ``forward`` and, optionally, ``backward``
callables and the same keyword options:

max_examples : int, default 50
    Configurations Hypothesis tries before declaring a pass (shrinking a
    failure runs more).
rtol, atol : float, optional
    Tolerances of ``|theirs - reference| <= atol + rtol |reference|`` (>= 0). By
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
supports : dict, optional
    The part of the configuration space their implementation supports, e.g.
    ``{"dilation": 1, "bias": True}``: only those configurations are drawn
    (:mod:`npgen.verify._support` lists the accepted values).
backward_form : "vjp" or "grad", optional (losses)
    ``backward(dloss, *inputs)`` (the documented form) or ``backward(*inputs)``;
    read from the signature when omitted (and from ``torch_vjp``/``jax_vjp``).
raise_exception : bool, default True
    Raise :class:`VerifyError` (an AssertionError) on a mismatch; else return the report.

Outputs may be arrays of any library (NumPy, torch, CuPy, JAX, array_api_strict,
anything with DLPack or ``__array__``) or Python floats for losses. Every
backward is a vector-Jacobian product: it receives the upstream gradient first
(``dy``; for a loss the scalar ``dloss``, random and non-unit) and returns one
gradient per array input (None for a missing bias). The forward is checked
first; the backward only runs when the forward agrees. Their code may call
``hypothesis.assume(...)`` to skip an example, and raise NotImplementedError for
an unsupported configuration (reported as such, with a hint to declare it).
"""

from __future__ import annotations

from npgen.verify import _api_objectives, _layers
from npgen.verify._api_objectives import *  # noqa: F403 (the objective verifiers, listed there)
from npgen.verify._entry import verify_spec as _verify
from npgen.verify.report import VerifyReport

__all__ = [
    "verify_activation",
    "verify_batchnorm_eval",
    "verify_batchnorm_train",
    "verify_conv2d",
    "verify_conv_transpose2d",
    "verify_dense",
    "verify_dropout",
    "verify_flatten",
    "verify_unflatten",
]
__all__ += _api_objectives.__all__


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

    An implementation without dilation declares it: ``supports={"dilation": 1}``.

    Example (torch, gradients from autograd)::

        import torch.nn.functional as F
        from npgen.interop.torch import torch_vjp
        npgen.verify.verify_conv2d(F.conv2d, torch_vjp(F.conv2d, 3), array_library="torch")
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


def verify_batchnorm_eval(forward, backward=None, **options) -> VerifyReport:
    """Verify batch norm in evaluation mode (running statistics, no update).

    ``forward(x, weight, bias, running_mean, running_var, eps) -> y`` with x (N, C, *S)
    and the rest (C,); ``backward(dy, x, weight, bias, running_mean, running_var, eps)
    -> (dx, dweight, dbias)``.
    """
    return _verify(_layers.BATCHNORM_EVAL, forward, backward, **options)


def verify_dropout(forward, backward=None, **options) -> VerifyReport:
    """Verify inverted dropout given its mask: ``y = x * keep_mask / (1 - p)``.

    ``forward(x, keep_mask, p) -> y`` with keep_mask of x's shape (1.0 keeps, 0.0
    drops; p = 0.9 and p = 0 included); ``backward(dy, x, keep_mask, p) -> dx``.
    """
    return _verify(_layers.DROPOUT, forward, backward, **options)


def verify_flatten(forward, backward=None, **options) -> VerifyReport:
    """Verify ``torch.flatten``: ``forward(x, start_dim, end_dim) -> y``;
    ``backward(dy, x, start_dim, end_dim) -> dx``."""
    return _verify(_layers.FLATTEN, forward, backward, **options)


def verify_unflatten(forward, backward=None, **options) -> VerifyReport:
    """Verify ``torch.unflatten``: ``forward(x, dim, sizes) -> y``;
    ``backward(dy, x, dim, sizes) -> dx``."""
    return _verify(_layers.UNFLATTEN, forward, backward, **options)

