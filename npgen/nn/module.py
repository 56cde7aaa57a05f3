"""The module protocol: a thin stateful wrapper around a functional forward/backward pair.

A module owns three dicts of live arrays and nothing else that matters:

* ``parameters()``  name -> array, updated in place by optimizers;
* ``gradients()``   name -> array of the same shape, the accumulators that
  ``backward`` ADDS into (``zero_grad`` resets them);
* buffers           name -> array that are state but not trained
  (batch-norm running statistics).

``forward(x)`` stores the functional cache, ``backward(dy)`` consumes it and
returns ``dx``, and remembers ``dy``; ``double_backward(ddx)`` then differentiates
that backward (the second order of gradient penalties, see
docs/objectives/gradient_penalty.md). Containers (``Sequential``, the models) hold
child modules and expose their arrays under dotted PyTorch-style keys (``0.weight``,
``3.running_mean``), so state dicts move between npgen and ``torch.nn``.
"""

from __future__ import annotations

from collections.abc import Mapping

from npgen._checks.primitives import check_seed
from npgen.backend import RNG, asarray, backend_of, dtype_name, namespace_of, to_numpy
from npgen.nn._guards import guard_backward, guard_forward


class Module:
    """Base class. Subclasses set ``self._parameters`` etc. and implement forward/backward."""

    def __init__(self):
        self._parameters: dict = {}
        self._gradients: dict = {}
        self._buffers: dict = {}
        self._children: dict = {}
        self._cache = None
        self._dy = None  # the upstream gradient of the last backward, for double_backward
        self._output = None  # (array type, dtype, device) of the last forward's output
        self.training = True

    def __init_subclass__(cls, **kwargs):
        """Guard every subclass's forward and backward (see :mod:`npgen.nn._guards`)."""
        super().__init_subclass__(**kwargs)
        for name, guard in (("forward", guard_forward), ("backward", guard_backward)):
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_npgen_guarded", False):
                setattr(cls, name, guard(method))

    # Computation -------------------------------------------------------------
    def __call__(self, x):
        self._dy = None  # a new forward: the last backward's dy no longer belongs to it
        return self.forward(x)

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    #: True when ``backward``'s dx depends on the layer's input (sigmoid, tanh): the second
    #: order then sends a cotangent d_x back along the forward path (see Sequential).
    backward_reads_input = False

    def double_backward(self, ddx):
        """Differentiate the last backward: the VJP of dx = backward(dy) for the scalar <ddx, dx>.

        After ``y = m(x)`` and ``dx = m.backward(dy)``, ADDS d<ddx, dx>/dtheta into
        ``gradients()`` and returns ``(d_dy, d_x)`` with dy's and x's shapes.
        """
        raise NotImplementedError(f"{self._name()}.double_backward is not implemented")

    def _require_upstream(self):
        """The dy of the last backward (kept through zero_grad); a clear error if none."""
        if self._dy is None:
            raise RuntimeError(f"{self._name()}.double_backward called before backward")
        return self._dy

    def _require_cache(self):
        """The cache of the last forward; a clear error if there was none."""
        if self._cache is None:
            raise RuntimeError(f"{self._name()}.backward called before forward")
        return self._cache

    def _name(self) -> str:
        return type(self).__name__

    def _forget_forward(self) -> None:
        """Drop the caches of this module and its descendants (after a failed forward)."""
        self._cache = self._output = self._dy = None
        for child in self._children.values():
            child._forget_forward()

    # Parameters, gradients, buffers ------------------------------------------
    def _add_parameter(self, name: str, value) -> None:
        """Register a parameter and its zero gradient accumulator (same namespace/device)."""
        xp = namespace_of(value)
        self._parameters[name] = value
        self._gradients[name] = xp.zeros_like(value)

    def _add_buffer(self, name: str, value) -> None:
        """Register state that is saved but not trained (e.g. ``running_mean``)."""
        self._buffers[name] = value

    def _accumulate(self, **gradients) -> None:
        """gradients()[name] += value, in place (the accumulator stays the same array).

        ``None`` values (e.g. ``dbias`` of a layer without bias) are skipped.
        """
        for name, value in gradients.items():
            if value is not None:
                self._gradients[name] += value  # in place: no temporary, same array object

    def _add_child(self, name: str, module: Module) -> None:
        self._children[name] = module

    def _collect(self, attribute: str) -> dict:
        out = dict(getattr(self, attribute))
        for child_name, child in self._children.items():
            for key, value in child._collect(attribute).items():
                out[f"{child_name}.{key}"] = value
        return out

    def parameters(self) -> dict:
        """name -> live parameter array (updates in place are seen by the module)."""
        return self._collect("_parameters")

    def gradients(self) -> dict:
        """name -> live gradient accumulator, same keys and shapes as ``parameters()``."""
        return self._collect("_gradients")

    def buffers(self) -> dict:
        """name -> live buffer array (e.g. ``running_mean``)."""
        return self._collect("_buffers")

    def modules(self) -> dict:
        """Direct children by name."""
        return dict(self._children)

    def zero_grad(self) -> None:
        """Reset every gradient accumulator to zero, in place."""
        for g in self.gradients().values():
            g[...] = 0

    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics, dropout on); returns self."""
        self.training = mode
        for child in self._children.values():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (running statistics, dropout off); returns self."""
        return self.train(False)

    # State --------------------------------------------------------------------
    def state_dict(self) -> dict:
        """name -> NumPy copy of every parameter and buffer, keys as in PyTorch."""
        arrays = {**self._collect("_parameters"), **self._collect("_buffers")}
        ordered = _torch_order(self, arrays)
        return {key: to_numpy(arrays[key]).copy() for key in ordered}

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy arrays (NumPy or any supported library) into parameters and buffers in place.

        With ``strict``, missing and unexpected keys are errors; a shape
        mismatch is always an error. Float values are cast to each float
        target's precision (float64 <-> float32); anything else that would
        change kind (an int64 array into a float32 weight, strings, objects,
        a float into the integer ``num_batches_tracked``) is a TypeError
        naming the key.
        """
        targets = {**self._collect("_parameters"), **self._collect("_buffers")}
        where = f"{self._name()}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{where}: expected a dict name -> array; got {type(state).__name__}")
        if strict:
            # As PyTorch: a state dict from before batch norm counted its batches may omit
            # num_batches_tracked (the counter then keeps its value).
            missing = sorted(k for k in set(targets) - set(state)
                             if k.rsplit(".", 1)[-1] != "num_batches_tracked")
            unexpected = sorted(set(state) - set(targets))
            if missing or unexpected:
                raise KeyError(f"{where}: missing keys {missing}, unexpected keys {unexpected}")
        for key, value in state.items():
            if key not in targets:
                continue
            target, value = targets[key], _host_value(where, key, value, targets[key])
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(
                    f"{where}: {key!r} has shape {tuple(value.shape)}, the module expects "
                    f"{tuple(target.shape)}"
                )
            target[...] = asarray(value, dtype=_load_dtype(target), backend=backend_of(target))

    def __repr__(self) -> str:
        if not self._children:
            return f"{self._name()}({self.extra_repr()})"
        lines = (f"  ({k}): {v!r}".replace("\n", "\n  ") for k, v in self._children.items())
        inner = "\n".join(lines)
        return f"{self._name()}(\n{inner}\n)"

    def extra_repr(self) -> str:
        return ""


def _host_value(where: str, key: str, value, target):
    """``value`` on the host, refused unless its kind (float / int) matches ``target``'s."""
    try:
        host = to_numpy(value)  # lists and scalars too
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}: {key!r} must be a numeric array; {exc}") from None
    wanted = "f" if _load_dtype(target) is not None else "iu"
    if host.dtype.kind not in wanted:
        raise TypeError(f"{where}: {key!r} is a {host.dtype} array but the module holds "
                        f"{dtype_name(target.dtype)}; no silent cast between kinds of data")
    return host


def _load_dtype(target):
    name = dtype_name(target.dtype)
    return name if name in ("float32", "float64") else None


def _torch_order(module: Module, arrays: dict) -> list:
    """Keys in PyTorch's order: per module, parameters then buffers, children in order."""
    keys = [k for k in module._parameters] + [k for k in module._buffers]
    for child_name, child in module._children.items():
        keys += [f"{child_name}.{k}" for k in _torch_order(child, {})]
    return keys


class Sequential(Module):
    """Modules applied in order; ``backward`` runs their backwards in reverse.

    Parameters and buffers appear under the child's index: ``0.weight``,
    ``1.running_mean``, exactly as in ``torch.nn.Sequential``.
    """

    def __init__(self, *modules: Module, dtype=None, rng=None, seed=None):
        super().__init__()
        check_construction_options("Sequential", dtype, rng, seed)  # nothing of its own to create
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {i} must be an npgen Module; got {type(module).__name__}"
                )
            self._add_child(str(i), module)

    def forward(self, x):
        for module in self._children.values():
            x = module(x)
        return x

    def backward(self, dy):
        for module in reversed(self._children.values()):
            dy = module.backward(dy)
        return dy

    @property
    def backward_reads_input(self) -> bool:
        return any(m.backward_reads_input for m in self._children.values())

    def double_backward(self, ddx):
        """Second order of the whole chain: ADDS d<ddx, dx>/dtheta, returns ``(d_dy, d_x)``.

        Layers x_{i+1} = f_i(x_i); the backward ran g_i = B_i(g_{i+1}, x_i) from g_L = dy
        down to dx = g_0. The scalar <ddx, g_0> reaches the parameters two ways:

        1. along the backward chain, front to back: layer i's double backward turns the
           cotangent of its dx = g_i into that of its dy = g_{i+1} (the next layer's ddx),
           adding layer i's direct term d<., B_i>/dtheta_i and handing back the cotangent
           of its input x_i when B_i reads it (tanh, sigmoid);
        2. along the forward path, back to front: x_i = f_{i-1}(...)(x) depends on x and on
           every earlier parameter, so each such cotangent is backpropagated through the
           forward chain, adding its parameter gradients on the way.

        Derivation: docs/objectives/gradient_penalty.md.
        """
        layers = list(self._children.values())
        input_cotangents = []  # per layer: d<ddx, dx>/dx_i through B_i's dependence on x_i
        d_g = ddx  # cotangent of g_0 = dx
        for layer in layers:  # 1. the backward chain, front to back
            d_g, d_x = layer.double_backward(d_g)  # now the cotangent of g_{i+1}
            input_cotangents.append(d_x if layer.backward_reads_input else None)
        d_x = None  # cotangent of the current x_{i+1} from the later layers; None: zero
        for layer, direct in zip(reversed(layers), reversed(input_cotangents)):
            if d_x is not None:  # 2. the forward path, back to front
                d_x = _backward_keeping_upstream(layer, d_x)  # cotangent of x_i; adds dtheta_i
            if direct is not None:
                d_x = direct if d_x is None else d_x + direct
        if d_x is None:  # no backward in the chain reads its input: dx is blind to x
            d_x = namespace_of(ddx).zeros_like(ddx)
        return d_g, d_x

    def __getitem__(self, index: int) -> Module:
        return list(self._children.values())[index]

    def __len__(self) -> int:
        return len(self._children)

    def __iter__(self):
        return iter(self._children.values())


def check_parameter_dtype(where: str, dtype) -> str:
    """The canonical dtype name of a constructor's ``dtype=`` argument ('float32' default)."""
    name = "float32" if dtype is None else (dtype if isinstance(dtype, str) else dtype_name(dtype))
    if name not in ("float32", "float64"):
        raise TypeError(f"{where}: dtype must be float32 or float64; got {dtype!r}")
    return name


def check_construction_options(where: str, dtype=None, rng=None, seed=None) -> None:
    """Validate ``dtype=``, ``rng=``, ``seed=`` of a module without parameters.

    Every constructor takes them (one interface for all layers, as the contract
    says); a module that creates no arrays only checks that they are valid.
    """
    check_parameter_dtype(where, dtype)
    check_seed(where, seed)
    if rng is not None and seed is not None:
        raise ValueError(f"{where}: pass rng= or seed=, not both")
    if rng is not None and not isinstance(rng, RNG):
        raise TypeError(f"{where}: rng must be an npgen.RNG; got {type(rng).__name__}")


def make_rng(where: str, rng, seed, *, portable: bool = True) -> RNG:
    """A constructor's RNG: ``rng`` if given, else ``RNG(seed, portable=portable)``.

    Portable draws happen on the host, so a given ``seed`` initializes a layer
    with the same numbers on every backend (the default, for initial weights).
    Layers that draw at every step (Dropout) pass ``portable=False`` to draw on
    the device.
    """
    check_construction_options(where, None, rng, seed)
    return rng if rng is not None else RNG(seed, portable=portable)


def _modules_within(module: Module) -> list:
    """The module and all its descendants."""
    found = [module]
    for child in module._children.values():
        found += _modules_within(child)
    return found


def _backward_keeping_upstream(module: Module, dy):
    """``module.backward(dy)`` that leaves the dy every (sub)module kept for double_backward.

    The forward-path term of :meth:`Sequential.double_backward` is an ordinary backward;
    restoring the kept dy lets double_backward run again with another ddx.
    """
    kept = [(m, m._dy) for m in _modules_within(module)]
    dx = module.backward(dy)
    for m, upstream in kept:
        m._dy = upstream
    return dx
