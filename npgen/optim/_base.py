"""Plumbing shared by the stateful optimizers: the base class and the flat state dict.

The math lives in the pure update functions (``sgd.py``, ``adam.py``), the input
checks in :mod:`npgen._checks.optim`; this module moves state between the live
per-parameter NamedTuples and a flat dict of host NumPy arrays and Python numbers::

    {"optimizer": "Adam",                      # class name, checked on load
     "step": 3,                                # completed steps (all parameters)
     "hyper.lr": 0.001, "hyper.beta1": 0.9, ...,
     "state.<param name>.<field>": ndarray}    # e.g. "state.0.weight.exp_avg"

A flat dict of arrays and scalars goes straight into ``np.savez``.
"""

from __future__ import annotations

from collections.abc import Mapping

from npgen._checks.optim import check_grads, check_nonnegative, check_params
from npgen._checks.primitives import describe
from npgen.backend import asarray, backend_of, dtype_name, to_numpy


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
