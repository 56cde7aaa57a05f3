"""Parameter initialization: PyTorch's defaults and the usual schemes.

Every function returns a NEW array on the RNG's backend: ``shape`` is the
parameter's shape, ``rng`` an :class:`npgen.RNG`, ``dtype`` "float32" (default)
or "float64". Fans follow PyTorch's ``_calculate_fan_in_and_fan_out``:
for a weight of shape ``(a, b, *kernel)``, ``fan_in = b * prod(kernel)`` and
``fan_out = a * prod(kernel)``. Note what this means for ConvTranspose2d,
whose weight is ``(C_in, C_out, kh, kw)``: its fan_in is ``C_out * kh * kw``.
"""

from __future__ import annotations

import math

from npgen.backend import RNG, resolve_dtype

__all__ = [
    "dcgan_init",
    "fans",
    "kaiming_normal",
    "kaiming_uniform",
    "normal",
    "ones",
    "torch_default_bias",
    "torch_default_weight",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` as PyTorch computes them."""
    if len(shape) < 2:
        raise ValueError(f"npgen.init.fans: need a weight with at least 2 axes; got {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def uniform(shape, low: float, high: float, *, rng: RNG, dtype=None):
    """U[low, high)."""
    return rng.uniform(tuple(shape), low, high, dtype=dtype)


def normal(shape, mean: float = 0.0, std: float = 1.0, *, rng: RNG, dtype=None):
    """N(mean, std^2)."""
    return rng.normal(tuple(shape), mean, std, dtype=dtype)


def zeros(shape, *, rng: RNG, dtype=None):
    """Zeros on the RNG's backend (``rng`` only names the backend)."""
    xp, device = rng.backend.xp, rng.backend.device
    return xp.zeros(tuple(shape), dtype=resolve_dtype(dtype, xp), device=device)


def ones(shape, *, rng: RNG, dtype=None):
    """Ones on the RNG's backend."""
    return zeros(shape, rng=rng, dtype=dtype) + 1


def torch_default_weight(shape, *, rng: RNG, dtype=None):
    """PyTorch's default for Linear/Conv weights: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    (``kaiming_uniform_(a=sqrt(5))`` reduces to exactly this bound.)
    """
    bound = 1.0 / math.sqrt(fans(shape)[0])
    return uniform(shape, -bound, bound, rng=rng, dtype=dtype)


def torch_default_bias(shape, fan_in: int, *, rng: RNG, dtype=None):
    """PyTorch's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the weight's fan_in."""
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform(shape, -bound, bound, rng=rng, dtype=dtype)


def xavier_uniform(shape, gain: float = 1.0, *, rng: RNG, dtype=None):
    """Glorot & Bengio (2010): U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -a, a, rng=rng, dtype=dtype)


def xavier_normal(shape, gain: float = 1.0, *, rng: RNG, dtype=None):
    """Glorot & Bengio (2010): N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    return normal(shape, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng=rng, dtype=dtype)


def kaiming_uniform(shape, negative_slope: float = 0.0, *, rng: RNG, dtype=None):
    """He et al. (2015), fan_in mode: U(-b, b), b = sqrt(6 / ((1 + a^2) fan_in))."""
    bound = math.sqrt(6.0 / ((1.0 + negative_slope**2) * fans(shape)[0]))
    return uniform(shape, -bound, bound, rng=rng, dtype=dtype)


def kaiming_normal(shape, negative_slope: float = 0.0, *, rng: RNG, dtype=None):
    """He et al. (2015), fan_in mode: N(0, 2 / ((1 + a^2) fan_in))."""
    std = math.sqrt(2.0 / ((1.0 + negative_slope**2) * fans(shape)[0]))
    return normal(shape, 0.0, std, rng=rng, dtype=dtype)


def dcgan_init(module, rng: RNG) -> None:
    """Radford et al. (2016), Sec. 4: re-initialize a model in place, DCGAN style.

    Conv, transposed-conv and dense weights ~ N(0, 0.02^2); batch-norm scales
    ~ N(1, 0.02^2); every bias 0. Modules are told apart by their class name
    (``BatchNorm*`` versus the rest), children are visited recursively.
    """
    for child in module.modules().values():
        dcgan_init(child, rng)
    params = module._parameters
    is_batchnorm = type(module).__name__.startswith("BatchNorm")
    for key, p in params.items():
        if key == "weight":
            mean = 1.0 if is_batchnorm else 0.0
            p[...] = normal(tuple(p.shape), mean, 0.02, rng=rng, dtype=p.dtype)
        elif key == "bias":
            p[...] = 0
