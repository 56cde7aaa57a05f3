"""Plumbing shared by the stateful optimizers: input checks and the flat state dict.

The math lives in the pure update functions (``sgd.py``, ``adam.py``); this
module only validates inputs and moves state between the live per-parameter
NamedTuples and a flat dict of host NumPy arrays and Python numbers::

    {"optimizer": "Adam",                      # class name, checked on load
     "step": 3,                                # completed steps (all parameters)
     "hyper.lr": 0.001, "hyper.beta1": 0.9, ...,
     "state.<param name>.<field>": ndarray}    # e.g. "state.0.weight.exp_avg"

A flat dict of arrays and scalars goes straight into ``np.savez``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from npgen._validation import check_float, check_like, describe
from npgen.backend import asarray, backend_of, dtype_name, to_numpy


def check_nonnegative(where: str, name: str, value) -> float:
    """A finite float >= 0 (booleans and non-numbers are TypeErrors)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a real number; got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}: {name} must be a finite number >= 0; got {value!r}")
    return float(value)


def check_beta(where: str, name: str, value) -> float:
    """A float in [0, 1) (a moving-average coefficient)."""
    value = check_nonnegative(where, name, value)
    if value >= 1.0:
        raise ValueError(f"{where}: {name} must lie in [0, 1); got {value!r}")
    return value


def check_flag(where: str, name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{where}: {name} must be True or False; got {value!r}")
    return value


def check_grad(where: str, param, grad, name: str = "") -> None:
    """``grad`` must be a float array with ``param``'s shape, library, device and dtype."""
    label = f" {name!r}" if name else ""
    check_like(where, grad, param, name=f"gradient{label}", reference_name=f"parameter{label}")
    if tuple(grad.shape) != tuple(param.shape):
        raise ValueError(
            f"{where}: gradient{label} has shape {tuple(grad.shape)} but its parameter has "
            f"shape {tuple(param.shape)}"
        )


def check_state(where: str, param, state, fields: tuple) -> None:
    """The state's arrays (None allowed) must match ``param``: library, device, dtype, shape."""
    if not hasattr(state, "_asdict"):
        raise TypeError(f"{where}: state must be the NamedTuple returned by the init function; "
                        f"got {type(state).__name__}")
    for field in fields:
        value = getattr(state, field, None)
        if value is None:
            continue
        check_like(where, value, param, name=f"state.{field}", reference_name="parameter")
        if tuple(value.shape) != tuple(param.shape):
            raise ValueError(f"{where}: state.{field} has shape {tuple(value.shape)} but the "
                             f"parameter has shape {tuple(param.shape)} (a state made for "
                             "another parameter?)")


def check_params(where: str, params) -> dict:
    """A non-empty mapping name -> float array (kept by reference: updates are in place)."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"{where}: params must be a dict name -> array (e.g. model.parameters()); "
            f"got {type(params).__name__}"
        )
    if not params:
        raise ValueError(f"{where}: got an empty parameter dict")
    for key, param in params.items():
        check_float(where, param, name=f"parameter {key!r}")
    return dict(params)


def check_grads(where: str, params: dict, grads) -> None:
    """Same keys as ``params`` (missing and extra keys are named), then per-key checks."""
    if not isinstance(grads, Mapping):
        raise TypeError(f"{where}: grads must be a dict name -> array; got {type(grads).__name__}")
    missing = [k for k in params if k not in grads]
    extra = [k for k in grads if k not in params]
    if missing or extra:
        raise ValueError(
            f"{where}: grads must have the same keys as the parameters; "
            f"missing {missing}, unexpected {extra}"
        )
    for key, param in params.items():
        check_grad(where, param, grads[key], key)


def host_scalar(where: str, key: str, value, kind):
    """A Python bool/int/float/str from a scalar or a 0-d array of any library (e.g. from .npz)."""
    if not isinstance(value, (bool, int, float, str)):
        try:
            value = to_numpy(value)
        except Exception as exc:  # an object no library understands
            raise TypeError(f"{where}: {key!r} must be a scalar; got {describe(value)}") from exc
        if value.ndim != 0:
            raise ValueError(f"{where}: {key!r} must be a scalar; got shape {value.shape}")
        value = value.item()
    if kind is bool and not isinstance(value, bool):
        raise TypeError(f"{where}: {key!r} must be a bool; got {value!r}")
    if kind is int and (isinstance(value, bool) or value != int(value)):
        raise TypeError(f"{where}: {key!r} must be an int; got {value!r}")
    return kind(value)


def load_state_array(where: str, key: str, value, param):
    """Copy a saved state array onto ``param``'s backend, device and dtype (shape checked)."""
    try:
        host = to_numpy(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}: {key!r} must be a float array; {exc}") from None
    if host.dtype.kind != "f":
        raise TypeError(f"{where}: {key!r} must be a float array; got dtype {host.dtype}")
    if tuple(host.shape) != tuple(param.shape):
        raise ValueError(
            f"{where}: {key!r} has shape {tuple(host.shape)} but its parameter has shape "
            f"{tuple(param.shape)}"
        )
    return asarray(host, dtype=dtype_name(param.dtype), backend=backend_of(param))


class Optimizer:
    """Base of :class:`SGD`, :class:`Adam`, :class:`AdamW`: per-key state, in-place step.

    Subclasses provide the hyperparameters (``_hyper_kinds``, ``_check_hyper``)
    and three hooks: ``_init_state(param)``, ``_update(param, grad, state)``
    (the unchecked pure update) and ``_state_fields()``.
    """

    _hyper_kinds: dict = {}  # flat hyperparameter name -> Python type, e.g. {"lr": float}

    def __init__(self, params, lr):
        self.params = check_params(self._where(), params)
        self.lr = lr
        self.state = {key: self._init_state(param) for key, param in self.params.items()}

    def _where(self, method: str = "") -> str:
        return type(self).__name__ + (f".{method}" if method else "")

    @property
    def lr(self) -> float:
        """Learning rate; settable between steps (schedules), must be >= 0."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = check_nonnegative(self._where(), "lr", value)

    def step(self, grads) -> None:
        """Update every parameter IN PLACE (``p[...] = new``) from ``grads`` (same keys)."""
        where = self._where("step")
        self._check_hyper(where)
        check_grads(where, self.params, grads)
        for key, param in self.params.items():
            new_param, self.state[key] = self._update(param, grads[key], self.state[key])
            param[...] = new_param

    # Hooks ---------------------------------------------------------------------
    def _init_state(self, param):
        raise NotImplementedError

    def _update(self, param, grad, state):
        raise NotImplementedError

    def _check_hyper(self, where: str) -> None:
        raise NotImplementedError

    def _state_fields(self) -> tuple:
        """(required, optional) names of the array fields saved per parameter."""
        raise NotImplementedError

    def _get_hyper(self) -> dict:
        return {name: getattr(self, name) for name in self._hyper_kinds}

    def _set_hyper(self, hyper: dict) -> None:
        for name, value in hyper.items():
            setattr(self, name, value)

    # Checkpoints -------------------------------------------------------------
    def state_dict(self) -> dict:
        """Flat dict of host NumPy arrays and Python numbers (``np.savez``-ready).

        Keys: ``"optimizer"`` (class name), ``"step"`` (int), ``"hyper.<name>"``
        (float or bool) and ``"state.<param name>.<field>"`` (NumPy array).
        """
        out = {"optimizer": type(self).__name__, "step": self._step_count()}
        out.update({f"hyper.{k}": v for k, v in self._get_hyper().items()})
        for key, state in self.state.items():
            for field, value in state._asdict().items():
                if field != "step" and value is not None:
                    out[f"state.{key}.{field}"] = to_numpy(value).copy()
        return out

    def _step_count(self) -> int:
        return next(iter(self.state.values())).step

    def load_state_dict(self, state_dict) -> None:
        """Restore hyperparameters, step count and state saved by :meth:`state_dict`.

        Values may be host scalars, 0-d arrays (as read back from ``.npz``) or
        arrays of any supported library; state arrays are copied onto each
        parameter's backend, device and dtype. Missing or unexpected keys,
        another optimizer's state or mismatched shapes raise a ValueError.
        """
        where = self._where("load_state_dict")
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{where}: expected a dict from state_dict(); "
                            f"got {type(state_dict).__name__}")
        saved = dict(state_dict)
        if "optimizer" in saved:
            kind = host_scalar(where, "optimizer", saved["optimizer"], str)
            if kind != type(self).__name__:
                raise ValueError(f"{where}: the state dict belongs to a {kind!r} optimizer")
        needed = ["optimizer", "step"] + [f"hyper.{n}" for n in self._hyper_kinds]
        missing = [key for key in needed if key not in saved]
        if missing:
            raise ValueError(f"{where}: the state dict lacks the keys {missing}")
        hyper = {n: host_scalar(where, f"hyper.{n}", saved[f"hyper.{n}"], t)
                 for n, t in self._hyper_kinds.items()}
        step = host_scalar(where, "step", saved["step"], int)
        previous = self._get_hyper()
        try:
            self._set_hyper(hyper)
            self._check_hyper(where)
            states = self._load_states(where, saved, step)
        except (TypeError, ValueError):
            self._set_hyper(previous)
            raise
        self.state = states

    def _load_states(self, where: str, saved: dict, step: int) -> dict:
        if step < 0:
            raise ValueError(f"{where}: 'step' must be >= 0; got {step}")
        required, optional = self._state_fields()
        known = {"optimizer", "step"} | {f"hyper.{n}" for n in self._hyper_kinds}
        states = {}
        for key, param in self.params.items():
            fields = {}
            for field in required + optional:
                name = f"state.{key}.{field}"
                known.add(name)
                if name in saved:
                    fields[field] = load_state_array(where, name, saved[name], param)
                elif field in required:
                    raise ValueError(f"{where}: the state dict lacks the key {name!r}")
            states[key] = self._init_state(param)._replace(step=step, **fields)
        unexpected = sorted(k for k in saved if k not in known)
        if unexpected:
            raise ValueError(f"{where}: unexpected keys in the state dict: {unexpected}")
        return states
