"""Adam and AdamW: one pure update shared by both, and the stateful wrappers.

``adam_init`` / ``adam_update`` work on one array and return new arrays;
``Adam`` (L2 weight decay added to the gradient) and ``AdamW`` (decoupled
weight decay) apply them per parameter and write back in place. The update is
exactly ``torch.optim.Adam`` / ``torch.optim.AdamW``'s.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from npgen._checks.optim import check_adam_hyper, check_grad, check_state
from npgen._checks.primitives import check_flag
from npgen.backend import namespace_of
from npgen.optim._base import Optimizer


class AdamState(NamedTuple):
    """Per-parameter Adam state (arrays have the parameter's shape).

    Attributes
    ----------
    step : int
        t, the number of updates applied so far.
    exp_avg : array
        m, the moving average of gradients.
    exp_avg_sq : array
        v, the moving average of squared gradients.
    max_exp_avg_sq : array or None
        AMSGrad's running maximum of v (None without AMSGrad).
    """

    step: int
    exp_avg: object
    exp_avg_sq: object
    max_exp_avg_sq: object = None


def adam_init(param, *, amsgrad=False) -> AdamState:
    """Zero moments on ``param``'s namespace, device and dtype; t = 0."""
    xp = namespace_of(param)
    return AdamState(step=0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param),
                     max_exp_avg_sq=xp.zeros_like(param) if amsgrad else None)


def adam_update(param, grad, state: AdamState, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                weight_decay=0.0, amsgrad=False, decoupled_weight_decay=False):
    """One Adam (or AdamW) step on one array: ``(new_param, new_state)``; inputs untouched.

    Parameters
    ----------
    param, grad : array, same shape, library, device and dtype
        ``theta_{t-1}`` and ``g_t = dL/dtheta``.
    state : AdamState
        From :func:`adam_init` (with the same ``amsgrad``) or the previous call.
    lr, betas, eps, weight_decay, amsgrad
        As in ``torch.optim.Adam`` (see Notes).
    decoupled_weight_decay : bool
        False: Adam's L2 penalty (added to g). True: AdamW's decay of theta.

    Returns
    -------
    new_param : array, param's shape
    new_state : AdamState

    Notes
    -----
    ======== ============== =====================================
    symbol   argument       meaning
    ======== ============== =====================================
    alpha    lr             learning rate (step size)
    beta1/2  betas          decay rates of m and v
    epsilon  eps            added to the bias-corrected sqrt(v)
    lambda   weight_decay   L2 (Adam) or decoupled (AdamW) decay
    m, v     exp_avg(_sq)   first and second moment estimates
    t        step           step count, 1 at the first update
    ======== ============== =====================================

    ::

        theta = theta * (1 - alpha * lambda)       (AdamW)   or   g = g + lambda * theta  (Adam)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)                      (AMSGrad; else v_max = v)
        theta = theta - alpha / (1 - beta1^t) * m / (sqrt(v_max) / sqrt(1 - beta2^t) + epsilon)

    Kingma & Ba (2015), Algorithm 1, with m_hat = m / (1 - beta1^t) and
    v_hat = v / (1 - beta2^t); AMSGrad as PyTorch implements it (Reddi et al.
    2018, Algorithm 2, plus bias correction: the maximum is kept of the raw v
    and bias-corrected with the current t); AdamW is Loshchilov & Hutter
    (2019), Algorithm 2, with the schedule multiplier folded into alpha, as in
    PyTorch: the decay is lr * weight_decay, whereas the paper's is
    eta_t * lambda_paper without alpha, so weight_decay = lambda_paper / alpha.
    This is ``torch.optim.Adam``'s
    variant. TensorFlow/Keras put epsilon on the un-corrected sqrt(v) instead
    ("epsilon hat", Kingma & Ba Sec. 2): alpha_t = alpha sqrt(1 - beta2^t) /
    (1 - beta1^t), theta -= alpha_t * m / (sqrt(v) + epsilon_hat); the two
    agree when epsilon_hat = epsilon * sqrt(1 - beta2^t), so the same number
    acts as a larger epsilon in Keras early on (about 32x at t = 1, beta2 = 0.999).
    """
    where = "adam_update"
    check_adam_hyper(where, lr, betas, eps, weight_decay, amsgrad)
    check_flag(where, "decoupled_weight_decay", decoupled_weight_decay)
    check_grad(where, param, grad)
    check_state(where, param, state, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))
    if amsgrad and state.max_exp_avg_sq is None:
        raise ValueError(f"{where}: amsgrad=True needs a state from adam_init(param, amsgrad=True)")
    return _adam_step(param, grad, state, lr, betas, eps, weight_decay, amsgrad,
                      decoupled_weight_decay)


def _adam_step(param, grad, state, lr, betas, eps, weight_decay, amsgrad, decoupled):
    """The update of :func:`adam_update` without input checks."""
    xp = namespace_of(param, grad)
    beta1, beta2 = betas
    t = state.step + 1
    if weight_decay != 0:
        if decoupled:
            param = param * (1 - lr * weight_decay)
        else:
            grad = grad + weight_decay * param
    m = beta1 * state.exp_avg + (1 - beta1) * grad
    v = beta2 * state.exp_avg_sq + (1 - beta2) * grad * grad  # scaled before squaring, as torch
    v_max = xp.maximum(state.max_exp_avg_sq, v) if amsgrad else v
    step_size = lr / (1 - beta1**t)
    denom = xp.sqrt(v_max) / math.sqrt(1 - beta2**t) + eps
    new_param = param - step_size * (m / denom)
    return new_param, AdamState(t, m, v, v_max if amsgrad else None)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with L2 weight decay and optional AMSGrad, as ``torch.optim.Adam``.

    Parameters
    ----------
    params : dict name -> array
        Live parameter arrays (e.g. ``model.parameters()``), updated in place.
    lr : float
        Step size alpha (>= 0); a settable attribute, e.g. for schedules.
    betas : (float, float)
        beta1, beta2 in [0, 1).
    eps : float
        Added to the bias-corrected sqrt(v) (see :func:`adam_update`).
    weight_decay : float
        L2 penalty added to the gradient (``AdamW`` decouples it instead).
    amsgrad : bool
        Normalize by the running maximum of v.
    """

    _decoupled = False
    _hyper_kinds = {"lr": float, "beta1": float, "beta2": float, "eps": float,
                    "weight_decay": float, "amsgrad": bool}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        check_adam_hyper(type(self).__name__, lr, betas, eps, weight_decay, amsgrad)
        self.betas, self.eps = tuple(betas), eps
        self.weight_decay, self.amsgrad = weight_decay, amsgrad
        super().__init__(params, lr)

    def _check_hyper(self, where):
        check_adam_hyper(where, self.lr, self.betas, self.eps, self.weight_decay, self.amsgrad)

    def _get_hyper(self):
        hyper = {n: getattr(self, n) for n in ("lr", "eps", "weight_decay", "amsgrad")}
        return {**hyper, "beta1": self.betas[0], "beta2": self.betas[1]}

    def _set_hyper(self, hyper):
        hyper = dict(hyper)
        self.betas = (hyper.pop("beta1", self.betas[0]), hyper.pop("beta2", self.betas[1]))
        super()._set_hyper(hyper)

    def _init_state(self, param):
        return adam_init(param, amsgrad=self.amsgrad)

    def _update(self, param, grad, state):
        if self.amsgrad and state.max_exp_avg_sq is None:  # amsgrad switched on mid-run
            xp = namespace_of(param)
            state = state._replace(max_exp_avg_sq=xp.zeros_like(param))
        return _adam_step(param, grad, state, self.lr, self.betas, self.eps,
                          self.weight_decay, self.amsgrad, self._decoupled)

    def _state_fields(self):
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if self.amsgrad else ()), ()


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as ``torch.optim.AdamW``.

    Same parameters as :class:`Adam`, but ``weight_decay`` (default 1e-2)
    shrinks the parameter, ``theta *= 1 - lr * weight_decay``, before the Adam
    update instead of entering the gradient and the moment estimates.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
