"""Checks at the door of the optimizers and schedules: run once before the update math.

The pure updates (:func:`npgen.optim.sgd_update`, :func:`npgen.optim.adam_update`),
the stateful optimizers (checked once per ``step``), :func:`npgen.optim.clip_grad_norm`
and the schedules call these with their own name ``where``; the update math
behind them (``_sgd_step``, ``_adam_step``) holds no checks.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from npgen._checks.primitives import check_flag, check_float, check_like

# ----------------------------------------------------------------------------
# Hyperparameters
# ----------------------------------------------------------------------------


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


def check_sgd_hyper(where, lr, momentum, dampening, nesterov, weight_decay) -> None:
    """Reject what ``torch.optim.SGD`` rejects, with ``where`` in the message."""
    check_nonnegative(where, "lr", lr)
    check_nonnegative(where, "momentum", momentum)
    check_nonnegative(where, "weight_decay", weight_decay)
    check_flag(where, "nesterov", nesterov)
    if isinstance(dampening, bool) or not isinstance(dampening, (int, float)):
        raise TypeError(f"{where}: dampening must be a real number; got {dampening!r}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(
            f"{where}: nesterov=True requires momentum > 0 and dampening == 0; "
            f"got momentum={momentum!r}, dampening={dampening!r}"
        )


def check_adam_hyper(where, lr, betas, eps, weight_decay, amsgrad) -> None:
    """Reject what ``torch.optim.Adam`` rejects, with ``where`` in the message."""
    check_nonnegative(where, "lr", lr)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"{where}: betas must be a pair (beta1, beta2); got {betas!r}")
    check_beta(where, "betas[0]", betas[0])
    check_beta(where, "betas[1]", betas[1])
    check_nonnegative(where, "eps", eps)
    check_nonnegative(where, "weight_decay", weight_decay)
    check_flag(where, "amsgrad", amsgrad)


# ----------------------------------------------------------------------------
# Parameters, gradients and state
# ----------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------
# Gradient clipping and schedules
# ----------------------------------------------------------------------------


def check_clip_grad_norm(where: str, grads, max_norm) -> list:
    """Gradients on one library, device and dtype, and ``max_norm >= 0``; returns them as a list."""
    arrays = list(grads.values()) if isinstance(grads, Mapping) else list(grads)
    if not arrays:
        raise ValueError(f"{where}: got no gradients")
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)):
        raise TypeError(f"{where}: max_norm must be a real number; got {max_norm!r}")
    if math.isnan(max_norm) or max_norm < 0:
        raise ValueError(f"{where}: max_norm must be >= 0; got {max_norm!r}")
    for i, g in enumerate(arrays):
        check_float(where, g, name=f"gradient {i}")
        check_like(where, g, arrays[0], name=f"gradient {i}", reference_name="gradient 0")
    return arrays


def check_step_int(where: str, name: str, value, minimum: int) -> int:
    """A Python int >= ``minimum`` (bools refused), e.g. a schedule's step."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{where}: {name} must be an int; got {value!r}")
    if value < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}; got {value!r}")
    return value


def check_rate(where: str, name: str, value) -> float:
    """A finite real number >= 0 (bools refused), e.g. a learning rate or a decay factor."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{where}: {name} must be a real number; got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}: {name} must be a finite number >= 0; got {value!r}")
    return float(value)
