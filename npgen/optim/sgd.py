"""Stochastic gradient descent with momentum: a pure update and the stateful ``SGD``.

``sgd_init`` / ``sgd_update`` work on one array and return new arrays (nothing
is mutated); ``SGD`` applies them to every entry of a parameter dict and writes
the result back in place. The update is exactly ``torch.optim.SGD``'s.
"""

from __future__ import annotations

from typing import NamedTuple

from npgen._checks.optim import check_grad, check_sgd_hyper, check_state
from npgen.backend import namespace_of
from npgen.optim._base import Optimizer


class SGDState(NamedTuple):
    """Per-parameter SGD state.

    Attributes
    ----------
    step : int
        Number of updates applied so far.
    momentum_buffer : array or None
        The velocity ``b`` (parameter's shape); None until the first step
        with momentum (PyTorch's convention: the first step sets ``b = g``).
    """

    step: int
    momentum_buffer: object = None


def sgd_init(param) -> SGDState:
    """The state before the first step (no momentum buffer yet)."""
    return SGDState(step=0, momentum_buffer=None)


def sgd_update(param, grad, state: SGDState, *, lr, momentum=0.0, dampening=0.0,
               nesterov=False, weight_decay=0.0):
    """One SGD step on one array: ``(new_param, new_state)``; the inputs are not modified.

    Parameters
    ----------
    param, grad : array, same shape, library, device and dtype
        ``theta_{t-1}`` and ``g_t = dL/dtheta``.
    state : SGDState
        From :func:`sgd_init` or the previous call.
    lr, momentum, dampening, nesterov, weight_decay
        As in ``torch.optim.SGD`` (see Notes).

    Returns
    -------
    new_param : array, param's shape
    new_state : SGDState

    Notes
    -----
    ======  ==============  =======================================
    symbol  argument        meaning
    ======  ==============  =======================================
    gamma   lr              learning rate
    mu      momentum        velocity decay
    tau     dampening       shrinks the gradient's share of b
    lambda  weight_decay    L2 penalty lambda/2 |theta|^2
    b       momentum_buffer velocity, None before the first step
    ======  ==============  =======================================

    ::

        g     = g + lambda * theta                        (if lambda != 0)
        b     = g  at the first step, else  mu * b + (1 - tau) * g
        d     = g + mu * b  (nesterov)  or  b  (otherwise; d = g if mu == 0)
        theta = theta - gamma * d

    This is PyTorch's formulation (Sutskever et al. 2013 write the velocity
    with the learning rate inside, ``v = mu v - gamma g``; the two agree for a
    constant learning rate but differ when it changes). The first momentum
    step copies ``g`` without dampening, as PyTorch does.
    """
    where = "sgd_update"
    check_sgd_hyper(where, lr, momentum, dampening, nesterov, weight_decay)
    check_grad(where, param, grad)
    check_state(where, param, state, ("momentum_buffer",))
    return _sgd_step(param, grad, state, lr, momentum, dampening, nesterov, weight_decay)


def _sgd_step(param, grad, state, lr, momentum, dampening, nesterov, weight_decay):
    """The update of :func:`sgd_update` without input checks."""
    xp = namespace_of(param, grad)
    if weight_decay != 0:
        grad = grad + weight_decay * param
    buf = state.momentum_buffer
    if momentum != 0:
        if buf is None:
            buf = xp.asarray(grad, copy=True)  # a copy: the caller may zero its gradient
        else:
            buf = momentum * buf + (1 - dampening) * grad
        grad = grad + momentum * buf if nesterov else buf
    return param - lr * grad, SGDState(step=state.step + 1, momentum_buffer=buf)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, as ``torch.optim.SGD``.

    Parameters
    ----------
    params : dict name -> array
        Live parameter arrays (e.g. ``model.parameters()``), updated in place.
    lr : float
        Learning rate (>= 0); a settable attribute, e.g. for schedules.
    momentum, dampening, nesterov, weight_decay
        See :func:`sgd_update`.

    Examples
    --------
    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)   # doctest: +SKIP
    >>> opt.step(model.gradients())                            # doctest: +SKIP
    """

    _hyper_kinds = {"lr": float, "momentum": float, "dampening": float,
                    "nesterov": bool, "weight_decay": float}

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0):
        self.momentum, self.dampening = momentum, dampening
        self.nesterov, self.weight_decay = nesterov, weight_decay
        check_sgd_hyper("SGD", lr, momentum, dampening, nesterov, weight_decay)
        super().__init__(params, lr)

    def _check_hyper(self, where):
        check_sgd_hyper(where, self.lr, self.momentum, self.dampening, self.nesterov,
                        self.weight_decay)

    def _init_state(self, param):
        return sgd_init(param)

    def _update(self, param, grad, state):
        return _sgd_step(param, grad, state, self.lr, self.momentum, self.dampening,
                         self.nesterov, self.weight_decay)

    def _state_fields(self):
        return (), ("momentum_buffer",)
