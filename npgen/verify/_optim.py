"""Op specs for the optimizers: one step (pure form), k steps with the state carried, clipping.

Optimizer steps have no backward: every output is compared. The single-step
specs take the state before the step as inputs (``torch.optim``'s layout). The
trajectory specs (:func:`trajectory_spec`) call ``make_step(param, **hyper)``
once and the returned ``step(grad) -> new_param`` ``steps`` times with fresh
gradients, so state kept *inside* their optimizer is carried from step to step
and a bug that shows only from step 2 on (a bias-corrected moment stored as the
state, a momentum buffer re-initialized every step) is caught; the output is
the trajectory (steps, *param.shape) and the worst index names the step.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from npgen.optim import AdamState, SGDState, adam_update, clip_grad_norm, sgd_update
from npgen.testing import strategies as nst
from npgen.verify._convert import as_numpy
from npgen.verify._runner import OpSpec

__all__ = ["CLIP_GRAD_NORM", "SGD", "adam_spec", "trajectory_spec"]

ADAM_HYPER = ("lr", "betas", "eps", "weight_decay")
SGD_HYPER = ("lr", "momentum", "dampening", "nesterov", "weight_decay")


def _adam_hyper():
    return {"lr": st.sampled_from([1e-3, 0.1]), "betas": st.sampled_from([(0.9, 0.999),
                                                                         (0.5, 0.9)]),
            "eps": st.sampled_from([1e-8, 1e-3]), "weight_decay": st.sampled_from([0.0, 0.1])}


@st.composite
def _sgd_hyper(draw):
    momentum = draw(st.sampled_from([0.0, 0.9, 0.5]))
    nesterov = momentum > 0 and draw(st.booleans())
    dampening = 0.0 if nesterov else draw(st.sampled_from([0.0, 0.3]))
    return {"lr": draw(st.sampled_from([0.1, 0.01])), "momentum": momentum,
            "dampening": dampening, "nesterov": nesterov,
            "weight_decay": draw(st.sampled_from([0.0, 0.1]))}


def _moments(config, rng, amsgrad):
    shape = config["shape"]
    out = {"param": rng.uniform(-1.0, 1.0, size=shape), "grad": rng.normal(0.0, 1.0, size=shape),
           "exp_avg": rng.normal(0.0, 0.3, size=shape),
           "exp_avg_sq": rng.uniform(0.0, 0.5, size=shape)}
    if amsgrad:  # the running maximum is at least the current second moment
        out["max_exp_avg_sq"] = out["exp_avg_sq"] + rng.uniform(0.0, 0.3, size=shape)
    return out


def adam_spec(decoupled: bool, amsgrad: bool) -> OpSpec:
    """One Adam (L2 decay in the gradient) or AdamW (decoupled decay) step, AMSGrad optional."""
    name = ("adamw_step" if decoupled else "adam_step") + ("(amsgrad)" if amsgrad else "")
    state_names = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())

    def configs():
        return st.fixed_dictionaries({"shape": nst.shapes(1, 2, 1, 4),
                                      "step": st.integers(1, 10), **_adam_hyper()})

    def reference(inputs, config, upstream):
        state = AdamState(config["step"] - 1, *(inputs[k] for k in state_names))
        hyper = {k: config[k] for k in ADAM_HYPER}
        new_param, new = adam_update(inputs["param"], inputs["grad"], state, amsgrad=amsgrad,
                                     decoupled_weight_decay=decoupled, **hyper)
        return {"new_param": new_param, **{f"new_{k}": getattr(new, k) for k in state_names}}

    return OpSpec(name, ("param", "grad", *state_names), ("step", *ADAM_HYPER),
                  ("new_param", *(f"new_{k}" for k in state_names)), (), None, configs,
                  lambda config, rng: _moments(config, rng, amsgrad), reference, kind="step",
                  op="adamw_step" if decoupled else "adam_step", options={"amsgrad": amsgrad})


# One SGD step ------------------------------------------------------------------------------


def _sgd_configs():
    return st.builds(lambda shape, first, hyper: {"shape": shape, "first_step": first, **hyper},
                     nst.shapes(1, 2, 1, 4), st.booleans(), _sgd_hyper())


def _sgd_inputs(config, rng):
    shape = config["shape"]
    with_buffer = config["momentum"] > 0 and not config["first_step"]
    return {"param": rng.uniform(-1.0, 1.0, size=shape), "grad": rng.normal(0.0, 1.0, size=shape),
            "momentum_buffer": rng.normal(0.0, 0.5, size=shape) if with_buffer else None}


def _sgd_reference(inputs, config, upstream):
    state = SGDState(0 if config["first_step"] else 1, inputs["momentum_buffer"])
    new_param, new = sgd_update(inputs["param"], inputs["grad"], state,
                                **{k: config[k] for k in SGD_HYPER})
    return {"new_param": new_param, "new_momentum_buffer": new.momentum_buffer}


SGD = OpSpec("sgd_step", ("param", "grad", "momentum_buffer"), SGD_HYPER,
             ("new_param", "new_momentum_buffer"), (), None, _sgd_configs, _sgd_inputs,
             _sgd_reference, kind="step")


# k steps with the state carried inside their optimizer -------------------------------------


def _trajectory_inputs(config, rng):
    shape, steps = config["shape"], config["steps"]
    return {"param": rng.uniform(-1.0, 1.0, size=shape),
            "grads": rng.normal(0.0, 1.0, size=(steps, *shape))}  # (steps, *shape)


def _run_steps(make_step, args, config, hyper_names):
    """Their optimizer on ``param``, fed ``grads[t]`` at step t: the (steps, ...) trajectory."""
    param, grads = args[0], args[1]
    step = make_step(param, **{k: config[k] for k in hyper_names})
    return np.stack([as_numpy(step(grads[t]), "step").astype(np.float64)
                     for t in range(config["steps"])])


def trajectory_spec(optimizer: str, max_steps: int) -> OpSpec:
    """``optimizer`` in sgd, adam, adamw: ``steps`` in 1..max_steps updates from a fresh state."""
    where = "npgen.verify.verify_optimizer_steps"
    if optimizer not in ("sgd", "adam", "adamw"):
        raise ValueError(f"{where}: optimizer must be 'sgd', 'adam' or 'adamw'; "
                         f"got {optimizer!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"{where}: max_steps must be a positive int; got {max_steps!r}")
    hyper_names = SGD_HYPER if optimizer == "sgd" else (*ADAM_HYPER, "amsgrad")
    base = {"shape": nst.shapes(1, 2, 1, 3), "steps": st.integers(1, max_steps)}

    def configs():
        if optimizer == "sgd":
            return st.builds(lambda b, h: {**b, **h}, st.fixed_dictionaries(base), _sgd_hyper())
        return st.fixed_dictionaries({**base, **_adam_hyper(), "amsgrad": st.booleans()})

    def reference(inputs, config, upstream):
        param, hyper = inputs["param"], {k: config[k] for k in hyper_names}
        if optimizer == "sgd":
            update, state = sgd_update, SGDState(0)
        else:
            update, state = adam_update, AdamState(0, param * 0.0, param * 0.0,
                                                   param * 0.0 if config["amsgrad"] else None)
            hyper["decoupled_weight_decay"] = optimizer == "adamw"
        trajectory = []
        for t in range(config["steps"]):
            param, state = update(param, inputs["grads"][t], state, **hyper)
            trajectory.append(param)
        return {"params": np.stack(trajectory)}

    def call(make_step, args, config):
        return _run_steps(make_step, args, config, hyper_names)

    return OpSpec(f"{optimizer}_steps", ("param", "grads"), (), ("params",), (), None, configs,
                  _trajectory_inputs, reference, kind="step", call=call,
                  verifier="verify_optimizer_steps")


# Gradient clipping by the total norm -------------------------------------------------------


def _clip_configs():
    return st.fixed_dictionaries({"count": st.integers(1, 3), "shape": nst.shapes(1, 2, 1, 4),
                                  "max_norm": st.sampled_from([1.0, 0.5, 2.0, 10.0])})


def _clip_inputs(config, rng):
    return {f"g{i}": rng.uniform(-1.0, 1.0, size=config["shape"]) if i < config["count"]
            else None for i in range(3)}


def _clip_reference(inputs, config, upstream):
    grads = [inputs[f"g{i}"].copy() for i in range(config["count"])]
    total = clip_grad_norm(grads, config["max_norm"])
    return {"total_norm": total, "clipped": np.concatenate([g.reshape(-1) for g in grads])}


def _clip_call(clip, args, config):
    grads = [g for g in args[:3] if g is not None]
    total, clipped = clip(grads, config["max_norm"])
    flat = [as_numpy(g, "clipped").astype(np.float64).reshape(-1) for g in clipped]
    return total, np.concatenate(flat)  # (total number of elements,)


CLIP_GRAD_NORM = OpSpec("clip_grad_norm", ("g0", "g1", "g2"), (), ("total_norm", "clipped"), (),
                        None, _clip_configs, _clip_inputs, _clip_reference, kind="step",
                        call=_clip_call)
