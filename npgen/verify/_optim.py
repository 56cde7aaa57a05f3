"""Op specs for the optimizers: one step (pure form), k steps with the state carried, clipping.

Optimizer steps have no backward: every output is compared. The single-step
specs (and clipping) are the op registry's steps (:data:`npgen.registry.STEPS`: their
space and update); they take the state before the step as inputs (``torch.optim``'s
layout). The
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

from npgen.optim import AdamState, SGDState, adam_update, sgd_update
from npgen.registry._steps import ADAM_HYPER, SGD_HYPER, adam_hyper, sgd_hyper
from npgen.testing import strategies as nst
from npgen.verify._convert import as_numpy
from npgen.verify._from_registry import step_spec
from npgen.verify._runner import OpSpec

__all__ = ["CLIP_GRAD_NORM", "SGD", "adam_spec", "trajectory_spec"]


def adam_spec(decoupled: bool, amsgrad: bool) -> OpSpec:
    """One Adam (L2 decay in the gradient) or AdamW (decoupled decay) step, AMSGrad optional."""
    step = "adamw_step" if decoupled else "adam_step"
    return step_spec(step, step + ("(amsgrad)" if amsgrad else ""), {"amsgrad": amsgrad},
                     op=step)


SGD = step_spec("sgd_step")


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
            return st.builds(lambda b, h: {**b, **h}, st.fixed_dictionaries(base), sgd_hyper())
        return st.fixed_dictionaries({**base, **adam_hyper(), "amsgrad": st.booleans()})

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


def _clip_call(clip, args, config):
    grads = [g for g in args[:3] if g is not None]
    total, clipped = clip(grads, config["max_norm"])
    flat = [as_numpy(g, "clipped").astype(np.float64).reshape(-1) for g in clipped]
    return total, np.concatenate(flat)  # (total number of elements,)


CLIP_GRAD_NORM = step_spec("clip_grad_norm", call=_clip_call)
