"""Learning-rate schedules as plain functions of the step (Python floats in, float out).

Set the optimizer's ``lr`` before each step::

    for t in range(total_steps):
        opt.lr = linear_warmup(t, cosine_lr(t, 3e-4, total_steps), warmup_steps=100)
        opt.step(grads)

Each function is the closed form of the PyTorch scheduler named in its
docstring, with ``step`` playing PyTorch's ``last_epoch`` (the number of
``scheduler.step()`` calls so far).
"""

from __future__ import annotations

import math

from npgen._checks.optim import check_rate, check_step_int


def step_lr(step: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """``base_lr * gamma ** (step // step_size)``, as ``torch.optim.lr_scheduler.StepLR``."""
    where = "step_lr"
    check_step_int(where, "step", step, 0)
    check_step_int(where, "step_size", step_size, 1)
    base_lr = check_rate(where, "base_lr", base_lr)
    gamma = check_rate(where, "gamma", gamma)
    return base_lr * gamma ** (step // step_size)


def cosine_lr(step: int, base_lr: float, total_steps: int, min_lr: float = 0.0) -> float:
    """Cosine annealing from ``base_lr`` at step 0 to ``min_lr`` at ``total_steps``.

    ``min_lr + (base_lr - min_lr) * (1 + cos(pi * step / total_steps)) / 2``,
    the closed form of ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total_steps,
    eta_min=min_lr)``. After ``total_steps`` it stays at ``min_lr`` (PyTorch's
    scheduler would continue the cosine back up).
    """
    where = "cosine_lr"
    check_step_int(where, "step", step, 0)
    check_step_int(where, "total_steps", total_steps, 1)
    base_lr = check_rate(where, "base_lr", base_lr)
    min_lr = check_rate(where, "min_lr", min_lr)
    t = min(step, total_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2


def linear_warmup(step: int, lr: float, warmup_steps: int, start_factor: float = 1.0 / 3) -> float:
    """``lr`` times a factor rising linearly from ``start_factor`` (step 0) to 1 (``warmup_steps``).

    ``lr * (start_factor + (1 - start_factor) * min(step, warmup_steps) / warmup_steps)``,
    the closed form of ``torch.optim.lr_scheduler.LinearLR(start_factor,
    end_factor=1.0, total_iters=warmup_steps)`` (same default start factor).
    Pass another schedule's value as ``lr`` to chain them.
    """
    where = "linear_warmup"
    check_step_int(where, "step", step, 0)
    check_step_int(where, "warmup_steps", warmup_steps, 1)
    lr = check_rate(where, "lr", lr)
    start_factor = check_rate(where, "start_factor", start_factor)
    if not 0 < start_factor <= 1:
        raise ValueError(f"{where}: start_factor must lie in (0, 1]; got {start_factor!r}")
    progress = min(step, warmup_steps) / warmup_steps
    return lr * (start_factor + (1.0 - start_factor) * progress)
