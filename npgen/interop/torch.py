"""PyTorch bridge: move a ``torch.nn.Sequential`` to npgen and back, and compare the two.

PyTorch is an optional dependency: importing :mod:`npgen` never imports torch,
and importing this module without torch raises an ImportError with the pip
command. npgen layers share PyTorch's layouts, parameter names and state-dict
keys, so conversion is "build the twin layer, then load the state dict".

Supported layers: Linear, Conv2d, ConvTranspose2d (groups=1, zero padding),
BatchNorm1d/2d (with running statistics), ReLU, LeakyReLU, Sigmoid, Tanh,
Dropout, Flatten, Unflatten, and nested Sequential containers.
"""

from __future__ import annotations

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised by a test that hides torch
    raise ImportError(
        'npgen.interop.torch needs PyTorch, which is not installed: pip install "npgen[torch]" '
        "(or pip install torch)"
    ) from exc

import copy
from dataclasses import dataclass, field

import numpy as np

import npgen.nn as npnn
from npgen.backend import dtype_name, use_backend
from npgen.verify._convert import as_numpy
from npgen.verify.report import TOLERANCES, compare_arrays

__all__ = ["TorchComparison", "compare_with_torch", "from_torch", "to_torch", "torch_optimizer",
           "torch_vjp"]

SUPPORTED = ("Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "ReLU",
             "LeakyReLU", "Sigmoid", "Tanh", "Dropout", "Flatten", "Unflatten", "Sequential")


def _unsupported(where: str, layer, why: str = "") -> TypeError:
    return TypeError(f"{where}: layer {layer!r} is not supported{why}; supported layers: "
                     f"{', '.join(SUPPORTED)}")


# torch -> npgen ----------------------------------------------------------------------------


def _check_conv(where: str, layer) -> None:
    if layer.groups != 1 or layer.padding_mode != "zeros" or isinstance(layer.padding, str):
        raise _unsupported(where, layer, " (npgen has groups=1, padding_mode='zeros' and "
                                         "integer padding only)")


def _npgen_twin(where: str, layer, dtype):
    """An npgen layer with ``layer``'s hyper-parameters (weights are loaded afterwards)."""
    bias = getattr(layer, "bias", None) is not None
    if isinstance(layer, nn.Linear):
        return npnn.Dense(layer.in_features, layer.out_features, bias=bias, dtype=dtype)
    if isinstance(layer, nn.ConvTranspose2d):
        _check_conv(where, layer)
        return npnn.ConvTranspose2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                    layer.stride, layer.padding, layer.output_padding,
                                    layer.dilation, bias=bias, dtype=dtype)
    if isinstance(layer, nn.Conv2d):
        _check_conv(where, layer)
        return npnn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                           layer.stride, layer.padding, layer.dilation, bias=bias, dtype=dtype)
    for kind in ("BatchNorm1d", "BatchNorm2d"):  # subclasses too (their own forward, say)
        if isinstance(layer, getattr(nn, kind)):
            return getattr(npnn, kind)(layer.num_features, layer.eps, layer.momentum,
                                       layer.affine, layer.track_running_stats, dtype=dtype)
    simple = {
        nn.ReLU: lambda: npnn.ReLU(), nn.Sigmoid: lambda: npnn.Sigmoid(),
        nn.Tanh: lambda: npnn.Tanh(),
        nn.LeakyReLU: lambda: npnn.LeakyReLU(layer.negative_slope),
        nn.Dropout: lambda: npnn.Dropout(layer.p),
        nn.Flatten: lambda: npnn.Flatten(layer.start_dim, layer.end_dim),
        nn.Unflatten: lambda: npnn.Unflatten(layer.dim, tuple(layer.unflattened_size)),
    }
    for torch_class, build in simple.items():
        if isinstance(layer, torch_class):
            return build()
    raise _unsupported(where, layer, " (for a custom module pass twin=<an npgen module with "
                                     "the same parameters> to compare_with_torch)")


def _layer_dtype(layer, dtype):
    if dtype is not None:
        return dtype
    tensors = list(layer.parameters()) + [b for b in layer.buffers() if b.is_floating_point()]
    return dtype_name(tensors[0].dtype) if tensors else None


def from_torch(module, dtype=None):
    """An npgen twin of a torch ``Sequential`` (or of one supported layer), same weights.

    Parameters
    ----------
    module : torch.nn.Sequential or a supported torch.nn layer
    dtype : "float32", "float64" or None
        dtype of the npgen parameters; None keeps each layer's torch dtype.

    Returns
    -------
    npgen.nn.Sequential (or the single npgen layer), on the global backend, in
    the same train/eval mode, with parameters and buffers (running statistics,
    ``num_batches_tracked``) copied. An unsupported layer is a TypeError naming it.
    """
    if isinstance(module, nn.Sequential):
        children = [_convert(f"from_torch: item {name}", child, dtype)
                    for name, child in module.named_children()]
        twin = npnn.Sequential(*children)
    else:
        twin = _convert("from_torch", module, dtype)
    return twin.train(module.training)


def _convert(where: str, layer, dtype):
    if isinstance(layer, nn.Sequential):
        return from_torch(layer, dtype)
    twin = _npgen_twin(where, layer, _layer_dtype(layer, dtype))
    twin.load_state_dict(dict(layer.state_dict()))
    return twin


# npgen -> torch ----------------------------------------------------------------------------


def _torch_twin(where: str, layer):
    if isinstance(layer, npnn.Sequential):
        return to_torch(layer)
    bias = "bias" in layer.parameters()
    if isinstance(layer, npnn.Dense):
        return nn.Linear(layer.in_features, layer.out_features, bias=bias)
    if isinstance(layer, npnn.Conv2d):
        return nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                         layer.padding, layer.dilation, bias=bias)
    if isinstance(layer, npnn.ConvTranspose2d):
        return nn.ConvTranspose2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                  layer.stride, layer.padding, layer.output_padding,
                                  bias=bias, dilation=layer.dilation)
    if isinstance(layer, (npnn.BatchNorm1d, npnn.BatchNorm2d)):
        return getattr(nn, type(layer).__name__)(layer.num_features, layer.eps, layer.momentum,
                                                 layer.affine, layer.track_running_stats)
    simple = {npnn.ReLU: nn.ReLU, npnn.Sigmoid: nn.Sigmoid, npnn.Tanh: nn.Tanh}
    if type(layer) in simple:
        return simple[type(layer)]()
    if isinstance(layer, npnn.LeakyReLU):
        return nn.LeakyReLU(layer.negative_slope)
    if isinstance(layer, npnn.Dropout):
        return nn.Dropout(layer.p)
    if isinstance(layer, npnn.Flatten):
        return nn.Flatten(layer.start_dim, layer.end_dim)
    if isinstance(layer, npnn.Unflatten):
        return nn.Unflatten(layer.dim, layer.sizes)
    raise TypeError(f"{where}: npgen layer {layer!r} has no torch counterpart here")


def to_torch(module):
    """A ``torch.nn.Sequential`` (or single layer) with an npgen module's weights and mode.

    Parameters keep their npgen dtype (float32 or float64) and live on the CPU.
    """
    if isinstance(module, npnn.Sequential):
        twin = nn.Sequential(*(_torch_layer(f"to_torch: item {i}", child)
                               for i, child in enumerate(module)))
    else:
        twin = _torch_layer("to_torch", module)
    return twin.train(module.training)


def _torch_layer(where: str, layer):
    twin = _torch_twin(where, layer)
    if isinstance(layer, npnn.Sequential):
        return twin
    state = layer.state_dict()
    floats = [a.dtype for a in state.values() if a.dtype.kind == "f"]
    if floats:
        twin = twin.to(getattr(torch, floats[0].name))
    twin.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    return twin


# Comparing an npgen twin with the torch module ---------------------------------------------


@dataclass
class TorchComparison:
    """Their torch module against npgen's twin (the reference), in float64.

    ``comparisons`` holds one :class:`npgen.verify.ArrayComparison` per array,
    with ``theirs`` the torch value and ``reference`` npgen's: ``y``, ``dx``,
    ``grad[<parameter name>]`` and ``buffer[<name>]`` (batch-norm running
    statistics after the forward), named as in the torch module. ``max_abs_err``
    maps each name to its largest absolute difference.
    """

    comparisons: list = field(default_factory=list)
    rtol: float = 0.0
    atol: float = 0.0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    @property
    def max_abs_err(self) -> dict:
        return {c.name: c.abs_err for c in self.comparisons}

    def __str__(self) -> str:
        head = "torch module and npgen agree" if self.ok else "torch module and npgen DIFFER"
        lines = [f"{head} (float64; theirs = the torch module, reference = npgen's twin; pass "
                 f"when |theirs - reference| <= {self.atol:g} + {self.rtol:g} |reference|):"]
        return "\n".join(lines + [f"  {c.describe()}" for c in self.comparisons])


def _torch_side(module, x: np.ndarray, dy: np.ndarray):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = module(xt)
    y.backward(torch.as_tensor(dy))
    grads = {k: p.grad for k, p in module.named_parameters()}
    return y, xt.grad, grads, dict(module.named_buffers())


def _pair_names(module, twin, mapping) -> dict:
    """torch state-dict key -> npgen key: ``mapping`` first, then equal names and shapes,
    then the remaining parameters in order when their shapes agree."""
    theirs = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    ours = {k: tuple(np.shape(v)) for k, v in twin.state_dict().items()}
    pairs = dict(mapping or {})
    bad = sorted(set(pairs) - set(theirs)) + sorted(set(pairs.values()) - set(ours))
    if bad:
        raise ValueError(f"compare_with_torch: mapping names unknown keys {bad}; torch keys: "
                         f"{', '.join(theirs)}; npgen keys: {', '.join(ours)}")
    for key, shape in theirs.items():
        if key not in pairs and ours.get(key) == shape and key not in pairs.values():
            pairs[key] = key
    left_theirs = [k for k in dict(module.named_parameters()) if k not in pairs]
    left_ours = [k for k in twin.parameters() if k not in pairs.values()]
    if [theirs[k] for k in left_theirs] == [ours[k] for k in left_ours]:
        pairs.update(zip(left_theirs, left_ours))
    unmatched = [k for k in twin.parameters() if k not in pairs.values()]
    if unmatched or [k for k in dict(module.named_parameters()) if k not in pairs]:
        raise ValueError(f"compare_with_torch: cannot map the parameters by names and shapes "
                         f"(torch: {theirs}; npgen: {ours}); pass mapping={{torch_name: "
                         "npgen_name, ...}")
    return pairs


def _twin_of(module, twin, mapping):
    """npgen's float64 twin with the torch module's weights, and the key pairs."""
    if twin is None:
        with use_backend("numpy"):
            twin = from_torch(module, dtype="float64")
        return twin, {k: k for k in module.state_dict()}
    twin = copy.deepcopy(twin)
    if any(dtype_name(p.dtype) != "float64" for p in twin.parameters().values()):
        raise ValueError("compare_with_torch: build the twin with dtype='float64' (the "
                         "comparison runs in float64)")
    pairs = _pair_names(module, twin, mapping)
    state = twin.state_dict()
    torch_state = module.state_dict()
    state.update({ours: torch_state[k].numpy() for k, ours in pairs.items()})
    twin.load_state_dict(state)
    return twin.train(module.training), pairs


def compare_with_torch(module, x, *, twin=None, mapping=None, seed: int = 0,
                       rtol: float | None = None, atol: float | None = None) -> TorchComparison:
    """Run a torch module and npgen's twin in float64 and compare everything.

    ``module`` is theirs; npgen's twin is the reference. Supported layers and
    ``Sequential`` stacks of them (subclasses included) get their twin from
    :func:`from_torch`; any other ``torch.nn.Module`` needs ``twin=``, an npgen
    module (float64) whose parameters map onto the torch module's by names and
    shapes, or by ``mapping={torch_name: npgen_name}``. The torch weights are
    copied into (a copy of) the twin; buffers present on both sides (running
    statistics) are compared after the forward. Both see the same input ``x``
    and the same random upstream gradient (N(0, 1), seeded). ``module`` is not
    modified. Dropout must be inactive (eval mode or p=0): its masks are random.
    """
    reference = _copy_float64(module)
    for layer in reference.modules():
        if isinstance(layer, nn.Dropout) and layer.training and layer.p > 0:
            raise ValueError(f"compare_with_torch: {layer!r} is in training mode; its random "
                             "masks cannot match. Call module.eval() or use p=0")
    x = as_numpy(x, "compare_with_torch").astype(np.float64)
    npgen_twin, pairs = _twin_of(reference, twin, mapping)
    with use_backend("numpy"):
        y = npgen_twin(x)
        dy = np.random.default_rng(seed).standard_normal(y.shape)
        dx = npgen_twin.backward(dy)
        grads, buffers = npgen_twin.gradients(), npgen_twin.buffers()
    ty, tdx, tgrads, tbuffers = _torch_side(reference, x, dy)
    default_rtol, default_atol = TOLERANCES["float64"]
    rtol, atol = (default_rtol, default_atol) if rtol is None else (rtol, atol)
    report = TorchComparison(rtol=rtol, atol=atol)
    named = [("y", ty, y), ("dx", tdx, dx)]
    named += [(f"grad[{k}]", g, grads[pairs[k]]) for k, g in tgrads.items()]
    named += [(f"buffer[{k}]", b, buffers[pairs[k]]) for k, b in tbuffers.items()
              if pairs.get(k) in buffers]
    for name, theirs, ours in named:
        if theirs is None:  # a parameter the loss does not reach (torch leaves .grad None)
            theirs = torch.zeros(np.shape(ours), dtype=torch.float64)
        report.comparisons.append(compare_arrays(name, as_numpy(theirs), as_numpy(ours),
                                                 rtol, atol))
    return report


def _copy_float64(module):
    """A float64 CPU copy (integer buffers such as num_batches_tracked stay integers)."""
    return copy.deepcopy(module).to(device="cpu", dtype=torch.float64)


# Gradients of a torch function, in npgen.verify's calling convention ------------------------


def torch_vjp(forward, num_inputs: int, *, loss: bool = False):
    """A ``backward`` for :mod:`npgen.verify` computed by torch autograd from ``forward``.

    The first ``num_inputs`` arguments are differentiated (None entries, e.g. a
    missing bias, get None). The result is a vector-Jacobian product
    ``backward(dy, *args) -> tuple`` (one gradient when ``num_inputs`` is 1); with
    ``loss=True`` the upstream is the scalar ``dloss`` of a loss, pushed through
    autograd like any upstream (``torch.autograd.grad(loss, inputs, dloss)``), so a
    custom ``autograd.Function`` whose backward ignores ``grad_output`` is caught.

    Example: ``verify_conv2d(F.conv2d, torch_vjp(F.conv2d, 3), array_library="torch")``.
    """
    def backward(upstream, *args):
        args = list(args)
        leaves = []
        for i in range(num_inputs):
            if args[i] is not None:
                args[i] = args[i].detach().clone().requires_grad_(True)
                leaves.append(args[i])
        out = forward(*args)
        upstream = torch.as_tensor(upstream, dtype=out.dtype, device=out.device)
        found = iter(torch.autograd.grad(out, leaves, upstream.reshape(out.shape),
                                         allow_unused=True))
        grads = tuple(None if a is None else next(found) for a in args[:num_inputs])
        return grads[0] if num_inputs == 1 else grads

    if not isinstance(loss, bool):
        raise TypeError(f"torch_vjp: loss must be True or False; got {loss!r}")
    backward.npgen_backward_form = "vjp"  # for a loss too: backward(dloss, *args)
    return backward


def torch_optimizer(optimizer_class):
    """``make_step`` for :func:`npgen.verify.verify_optimizer_steps` from a ``torch.optim`` class.

    ``make_step(param, **hyper)`` builds ``optimizer_class([p], **hyper)`` on a copy
    of ``param``; each ``step(grad)`` sets ``p.grad`` and calls ``optimizer.step()``.
    Works for any optimizer with torch's interface (``torch.optim.Adam``, a subclass,
    your own ``torch.optim.Optimizer``).
    """
    def make_step(param, **hyper):
        p = torch.nn.Parameter(torch.as_tensor(param).detach().clone())
        optimizer = optimizer_class([p], **hyper)

        def step(grad):
            p.grad = torch.as_tensor(grad, dtype=p.dtype).detach().clone()
            optimizer.step()
            return p.detach().clone()

        return step

    return make_step
