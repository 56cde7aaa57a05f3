"""Layer modules: Dense, BatchNorm1d/2d, activations, Dropout (Flatten, Unflatten: nn/shape.py).

Each class is a thin wrapper (see :mod:`npgen.nn.module`): it holds its
parameters, gradient accumulators and buffers, checks its input once (a check
from :mod:`npgen._checks.layers`, with an error that names the layer), calls the
unchecked forward math from :mod:`npgen.functional`, and the functional
backward (which checks dy). ``backward`` ADDS parameter gradients into the
accumulators in place. Names, layouts, defaults and state-dict keys are those
of ``torch.nn``.
"""

from __future__ import annotations

from npgen import init
from npgen._checks.layers import (
    check_batch_statistics,
    check_batchnorm_input,
    check_dense_input,
    check_dropout_input,
    check_dropout_probability,
)
from npgen._checks.primitives import check_float, check_positive_int, check_real
from npgen.functional import activations as act
from npgen.functional.batchnorm import batchnorm, batchnorm_backward
from npgen.functional.dense import affine_forward, dense_backward, dense_double_backward
from npgen.functional.dropout import dropout, dropout_backward
from npgen.nn.module import (
    Module,
    check_construction_options,
    check_parameter_dtype,
    make_rng,
)

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "Dense",
    "Dropout",
    "LeakyReLU",
    "Linear",
    "ReLU",
    "Sigmoid",
    "Tanh",
]


# ----------------------------------------------------------------------------
# Dense
# ----------------------------------------------------------------------------


class Dense(Module):
    """y = x W^T + b (``torch.nn.Linear``): ``weight`` (out, in), ``bias`` (out,).

    Both are initialized as PyTorch does, U(-1/sqrt(in), 1/sqrt(in)).
    Input (*, in_features), output (*, out_features): any leading axes, as in
    PyTorch (usually (N, in_features)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 dtype=None, rng=None, seed=None):
        super().__init__()
        self.in_features = check_positive_int("Dense", in_features, "in_features")
        self.out_features = check_positive_int("Dense", out_features, "out_features")
        dtype = check_parameter_dtype("Dense", dtype)
        rng = make_rng("Dense", rng, seed)
        shape = (out_features, in_features)
        self._add_parameter("weight", init.torch_default_weight(shape, rng=rng, dtype=dtype))
        if bias:
            b = init.torch_default_bias((out_features,), in_features, rng=rng, dtype=dtype)
            self._add_parameter("bias", b)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={'bias' in self._parameters}")

    def forward(self, x):
        where = f"Dense(in_features={self.in_features}, out_features={self.out_features})"
        weight = self._parameters["weight"]
        xp = check_dense_input(where, x, weight, self.in_features)
        y, self._cache = affine_forward(xp, x, weight, self._parameters.get("bias"))
        return y

    def backward(self, dy):
        dx, dweight, dbias = dense_backward(dy, self._require_cache())
        self._accumulate(weight=dweight, bias=dbias)
        self._dy = dy
        return dx

    def double_backward(self, ddx):
        d_dy, d_x, dweight, dbias = dense_double_backward(ddx, self._require_upstream(),
                                                          self._require_cache())
        self._accumulate(weight=dweight, bias=dbias)
        return d_dy, d_x


Linear = Dense


# ----------------------------------------------------------------------------
# Batch normalization
# ----------------------------------------------------------------------------


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d; subclasses set the accepted input ranks."""

    _ranks: dict = {}  # ndim -> layout, e.g. {4: "(N, C, H, W)"}

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *,
                 dtype=None, rng=None, seed=None):
        super().__init__()
        name = type(self).__name__
        self.num_features = check_positive_int(name, num_features, "num_features")
        if momentum is not None and (isinstance(momentum, bool)
                                     or not isinstance(momentum, (int, float))):
            raise TypeError(f"{name}: momentum must be a float or None; got {momentum!r}")
        self.eps, self.momentum = check_real(name, eps, "eps", minimum=0.0), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dtype = check_parameter_dtype(name, dtype)
        rng = make_rng(name, rng, seed)
        shape = (num_features,)
        if self.affine:
            self._add_parameter("weight", init.ones(shape, rng=rng, dtype=dtype))
            self._add_parameter("bias", init.zeros(shape, rng=rng, dtype=dtype))
        if self.track_running_stats:
            xp, device = rng.backend.xp, rng.backend.device
            self._add_buffer("running_mean", init.zeros(shape, rng=rng, dtype=dtype))
            self._add_buffer("running_var", init.ones(shape, rng=rng, dtype=dtype))
            self._add_buffer("num_batches_tracked", xp.zeros((), dtype=xp.int64, device=device))

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")

    def _check_input(self, x, training: bool):
        """The layer's own checks, then batch norm's one-value rule (named as it always was)."""
        where = f"{type(self).__name__}(num_features={self.num_features})"
        reference_name = "weight" if self.affine else "running_mean"
        reference = self._parameters.get("weight", self._buffers.get("running_mean"))
        xp = check_batchnorm_input(where, x, reference, reference_name, self._ranks,
                                   self.num_features)
        check_batch_statistics("batchnorm_forward", x, training)
        return xp

    def forward(self, x):
        training = self.training or not self.track_running_stats
        xp = self._check_input(x, training)
        update = self.training and self.track_running_stats
        count = self._buffers["num_batches_tracked"] if self.track_running_stats else None
        if update and self.momentum is None:  # cumulative average over tracked batches
            momentum = 1.0 / (float(count) + 1.0)
        else:
            momentum = 0.0 if self.momentum is None else float(self.momentum)
        running_mean = self._buffers.get("running_mean")
        running_var = self._buffers.get("running_var")
        y, self._cache, new_mean, new_var = batchnorm(
            xp, x, self._parameters.get("weight"), self._parameters.get("bias"),
            running_mean, running_var, training=training, momentum=momentum, eps=self.eps,
        )
        if update:
            running_mean[...] = new_mean
            running_var[...] = new_var
            count[...] = count + 1
        return y

    def backward(self, dy):
        dx, dweight, dbias = batchnorm_backward(dy, self._require_cache())
        if self.affine:
            self._accumulate(weight=dweight, bias=dbias)
        return dx

    def double_backward(self, ddx):
        raise NotImplementedError(
            f"{type(self).__name__}.double_backward: the second order of batch norm is not "
            "implemented (out of scope: gradient-penalty critics avoid batch norm, as in "
            "WGAN-GP); build the critic without it, e.g. npgen.models.wgan_critic"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs (``torch.nn.BatchNorm1d``).

    Parameters ``weight`` (ones) and ``bias`` (zeros) when ``affine``;
    buffers ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked`` (0-d int64) when ``track_running_stats``.
    ``momentum=None`` is the cumulative moving average. See
    :func:`npgen.functional.batchnorm.batchnorm_forward`.
    """

    _ranks = {2: "(N, C)", 3: "(N, C, L)"}


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs (``torch.nn.BatchNorm2d``); as BatchNorm1d."""

    _ranks = {4: "(N, C, H, W)"}


# ----------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------


class _Elementwise(Module):
    """An activation without parameters: forward/backward call one functional pair.

    ``dtype=``, ``rng=`` and ``seed=`` are accepted (every constructor takes them)
    and validated; there is nothing to create with them.
    """

    def __init__(self, *, dtype=None, rng=None, seed=None):
        super().__init__()
        check_construction_options(type(self).__name__, dtype, rng, seed)

    def _forward(self, xp, x):
        """The unchecked math, e.g. :func:`npgen.functional.activations.relu`."""
        raise NotImplementedError

    def _backward(self, dy, cache):
        raise NotImplementedError

    def _double_backward(self, ddx, dy, cache):
        raise NotImplementedError

    def forward(self, x):
        xp = check_float(type(self).__name__, x)
        y, self._cache = self._forward(xp, x)
        return y

    def backward(self, dy):
        dx = self._backward(dy, self._require_cache())
        self._dy = dy
        return dx

    def double_backward(self, ddx):
        """``(d_dy, d_x)`` of <ddx, dx>; no parameters to add into."""
        return self._double_backward(ddx, self._require_upstream(), self._require_cache())


class ReLU(_Elementwise):
    """y = max(x, 0); the gradient at 0 is 0 (as PyTorch)."""

    def _forward(self, xp, x):
        return act.relu(xp, x)

    def _backward(self, dy, cache):
        return act.relu_backward(dy, cache)

    def _double_backward(self, ddx, dy, cache):
        return act.relu_double_backward(ddx, dy, cache)


class LeakyReLU(_Elementwise):
    """y = x if x > 0 else negative_slope * x; the gradient at 0 is negative_slope."""

    def __init__(self, negative_slope: float = 0.01, *, dtype=None, rng=None, seed=None):
        super().__init__(dtype=dtype, rng=rng, seed=seed)
        self.negative_slope = check_real("LeakyReLU", negative_slope, "negative_slope")

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def _forward(self, xp, x):
        return act.leaky_relu(xp, x, self.negative_slope)

    def _backward(self, dy, cache):
        return act.leaky_relu_backward(dy, cache)

    def _double_backward(self, ddx, dy, cache):
        return act.leaky_relu_double_backward(ddx, dy, cache)


class Sigmoid(_Elementwise):
    """y = 1 / (1 + exp(-x)), stable for any finite x."""

    backward_reads_input = True  # dx = dy sigma'(x): the second order has a d_x term

    def _forward(self, xp, x):
        return act.sigmoid(xp, x)

    def _backward(self, dy, cache):
        return act.sigmoid_backward(dy, cache)

    def _double_backward(self, ddx, dy, cache):
        return act.sigmoid_double_backward(ddx, dy, cache)


class Tanh(_Elementwise):
    """y = tanh(x)."""

    backward_reads_input = True  # dx = dy tanh'(x): the second order has a d_x term

    def _forward(self, xp, x):
        return act.tanh(xp, x)

    def _backward(self, dy, cache):
        return act.tanh_backward(dy, cache)

    def _double_backward(self, ddx, dy, cache):
        return act.tanh_double_backward(ddx, dy, cache)


# ----------------------------------------------------------------------------
# Dropout and reshaping
# ----------------------------------------------------------------------------

_IDENTITY = object()  # the cache of an eval-mode Dropout forward


class Dropout(Module):
    """Inverted dropout (``torch.nn.Dropout``): zero with probability p, scale by 1/(1-p).

    The keep mask is drawn from the module's :class:`npgen.RNG`
    (``uniform(x.shape) >= p``); in eval mode the layer is the identity.
    """

    def __init__(self, p: float = 0.5, *, dtype=None, rng=None, seed=None):
        super().__init__()
        check_construction_options("Dropout", dtype, None, None)  # the mask takes x's dtype
        self.p = check_dropout_probability("Dropout", p)
        self.rng = make_rng("Dropout", rng, seed, portable=False)  # masks drawn on the device

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def forward(self, x):
        where = f"Dropout(p={self.p})"
        if not self.training:
            check_float(where, x)
            self._cache = _IDENTITY
            return x
        xp = check_dropout_input(where, x, self.rng)
        keep = self.rng.uniform(tuple(x.shape), dtype=x.dtype) >= self.p  # bool, x's shape
        y, self._cache = dropout(x, self.p, xp.astype(keep, x.dtype))
        return y

    def backward(self, dy):
        cache = self._require_cache()
        self._dy = dy
        return dy if cache is _IDENTITY else dropout_backward(dy, cache)

    def double_backward(self, ddx):
        """dx = dy mask / (1 - p) is linear in dy: d_dy = the same map of ddx, d_x = 0."""
        cache = self._require_cache()
        self._require_upstream()  # only that backward ran: dx does not depend on dy's value
        xp = check_float(f"Dropout(p={self.p}).double_backward", ddx, "ddx")
        d_dy = ddx if cache is _IDENTITY else dropout_backward(ddx, cache)
        return d_dy, xp.zeros_like(ddx)
