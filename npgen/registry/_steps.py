"""The optimizer steps' verification spaces and references (:data:`npgen.registry.STEPS`).

One step in pure form: the state before the step is an input (``torch.optim``'s layout)
and every output is compared (a step has no backward). ``space(**options)`` gives the
configurations (hyper-parameters, the step count, shapes) and the inputs;
``update(inputs, config, **options)`` computes npgen's step on them (NumPy float64).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from npgen.optim import AdamState, SGDState, adam_update, clip_grad_norm, sgd_update
from npgen.registry._types import Space
from npgen.testing import strategies as nst

ADAM_HYPER = ("lr", "betas", "eps", "weight_decay")
SGD_HYPER = ("lr", "momentum", "dampening", "nesterov", "weight_decay")


def adam_hyper() -> dict:
    return {"lr": st.sampled_from([1e-3, 0.1]), "betas": st.sampled_from([(0.9, 0.999),
                                                                         (0.5, 0.9)]),
            "eps": st.sampled_from([1e-8, 1e-3]), "weight_decay": st.sampled_from([0.0, 0.1])}


@st.composite
def sgd_hyper(draw):
    momentum = draw(st.sampled_from([0.0, 0.9, 0.5]))
    nesterov = momentum > 0 and draw(st.booleans())
    dampening = 0.0 if nesterov else draw(st.sampled_from([0.0, 0.3]))
    return {"lr": draw(st.sampled_from([0.1, 0.01])), "momentum": momentum,
            "dampening": dampening, "nesterov": nesterov,
            "weight_decay": draw(st.sampled_from([0.0, 0.1]))}


def _step(configs, make_inputs, inputs, config_args, outputs) -> Space:
    return Space(configs, make_inputs, inputs, config_args, outputs, (), None, kind="step")


# Adam and AdamW ----------------------------------------------------------------------------


def _state_names(amsgrad: bool) -> tuple:
    return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())


def _moments(config, rng, amsgrad):
    shape = config["shape"]
    out = {"param": rng.uniform(-1.0, 1.0, size=shape), "grad": rng.normal(0.0, 1.0, size=shape),
           "exp_avg": rng.normal(0.0, 0.3, size=shape),
           "exp_avg_sq": rng.uniform(0.0, 0.5, size=shape)}
    if amsgrad:  # the running maximum is at least the current second moment
        out["max_exp_avg_sq"] = out["exp_avg_sq"] + rng.uniform(0.0, 0.3, size=shape)
    return out


def _adam_configs():
    return st.fixed_dictionaries({"shape": nst.shapes(1, 2, 1, 4),
                                  "step": st.integers(1, 10), **adam_hyper()})


def adam_space(amsgrad: bool = False) -> Space:
    """One Adam or AdamW step from its state (t = step - 1 steps taken), AMSGrad optional."""
    names = _state_names(amsgrad)
    return _step(_adam_configs, lambda config, rng: _moments(config, rng, amsgrad),
                 ("param", "grad", *names), ("step", *ADAM_HYPER),
                 ("new_param", *(f"new_{k}" for k in names)))


def adam_step(decoupled: bool):
    """update(inputs, config, amsgrad) for Adam (L2 decay in the gradient) or AdamW."""

    def update(inputs, config, amsgrad: bool = False) -> dict:
        names = _state_names(amsgrad)
        state = AdamState(config["step"] - 1, *(inputs[k] for k in names))
        hyper = {k: config[k] for k in ADAM_HYPER}
        new_param, new = adam_update(inputs["param"], inputs["grad"], state, amsgrad=amsgrad,
                                     decoupled_weight_decay=decoupled, **hyper)
        return {"new_param": new_param, **{f"new_{k}": getattr(new, k) for k in names}}

    return update


# SGD ---------------------------------------------------------------------------------------


def _sgd_configs():
    return st.builds(lambda shape, first, hyper: {"shape": shape, "first_step": first, **hyper},
                     nst.shapes(1, 2, 1, 4), st.booleans(), sgd_hyper())


def _sgd_inputs(config, rng):
    shape = config["shape"]
    with_buffer = config["momentum"] > 0 and not config["first_step"]
    return {"param": rng.uniform(-1.0, 1.0, size=shape), "grad": rng.normal(0.0, 1.0, size=shape),
            "momentum_buffer": rng.normal(0.0, 0.5, size=shape) if with_buffer else None}


def sgd_space() -> Space:
    return _step(_sgd_configs, _sgd_inputs, ("param", "grad", "momentum_buffer"), SGD_HYPER,
                 ("new_param", "new_momentum_buffer"))


def sgd_step(inputs, config) -> dict:
    state = SGDState(0 if config["first_step"] else 1, inputs["momentum_buffer"])
    new_param, new = sgd_update(inputs["param"], inputs["grad"], state,
                                **{k: config[k] for k in SGD_HYPER})
    return {"new_param": new_param, "new_momentum_buffer": new.momentum_buffer}


# Gradient clipping by the total norm -------------------------------------------------------


def _clip_configs():
    return st.fixed_dictionaries({"count": st.integers(1, 3), "shape": nst.shapes(1, 2, 1, 4),
                                  "max_norm": st.sampled_from([1.0, 0.5, 2.0, 10.0])})


def _clip_inputs(config, rng):
    return {f"g{i}": rng.uniform(-1.0, 1.0, size=config["shape"]) if i < config["count"]
            else None for i in range(3)}


def clip_space() -> Space:
    return _step(_clip_configs, _clip_inputs, ("g0", "g1", "g2"), (),
                 ("total_norm", "clipped"))


def clip_step(inputs, config) -> dict:
    grads = [inputs[f"g{i}"].copy() for i in range(config["count"])]
    total = clip_grad_norm(grads, config["max_norm"])
    return {"total_norm": total, "clipped": np.concatenate([g.reshape(-1) for g in grads])}
