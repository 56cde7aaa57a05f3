"""Cross-checks against torch.optim, clip_grad_norm_ and torch's LR schedulers (float64).

Skipped when torch is not installed. npgen runs on the row's backend; torch
runs separately on the host with the same gradient sequences.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import npgen
from npgen.optim import SGD, Adam, AdamW, clip_grad_norm, cosine_lr, linear_warmup, step_lr

torch = pytest.importorskip("torch")

STEPS = 100
SHAPES = {"weight": (4, 3), "bias": (4,)}


def problem(seed):
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(size=s) for k, s in SHAPES.items()}
    scales = 10.0 ** rng.uniform(-3, 1, size=STEPS)
    grads = [{k: c * rng.normal(size=s) for k, s in SHAPES.items()} for c in scales]
    return params, grads


def final_torch(torch_cls, host_params, grad_seq, options):
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in host_params.items()}
    opt = torch_cls(list(tensors.values()), **options)
    for g in grad_seq:
        for k, t in tensors.items():
            t.grad = torch.tensor(g[k], dtype=torch.float64)
        opt.step()
    return {k: t.detach().numpy() for k, t in tensors.items()}


def final_npgen(cls, host_params, grad_seq, options):
    params = {k: npgen.asarray(v, dtype="float64") for k, v in host_params.items()}
    opt = cls(params, **options)
    for g in grad_seq:
        opt.step({k: npgen.asarray(v, dtype="float64") for k, v in g.items()})
    return {k: npgen.to_numpy(v) for k, v in params.items()}


def sgd_options():
    for momentum, dampening, nesterov, wd in itertools.product(
            [0.0, 0.5, 0.9], [0.0, 0.3], [False, True], [0.0, 1e-2]):
        if nesterov and (momentum == 0 or dampening != 0):
            continue
        yield dict(lr=0.05, momentum=momentum, dampening=dampening, nesterov=nesterov,
                   weight_decay=wd)


def adam_options():
    for betas, eps, wd, amsgrad in itertools.product(
            [(0.9, 0.999), (0.5, 0.9)], [1e-8, 1e-3], [0.0, 0.1], [False, True]):
        yield dict(lr=2e-2, betas=betas, eps=eps, weight_decay=wd, amsgrad=amsgrad)


CASES = ([(SGD, torch.optim.SGD, o) for o in sgd_options()]
         + [(Adam, torch.optim.Adam, o) for o in adam_options()]
         + [(AdamW, torch.optim.AdamW, o) for o in adam_options()])


def test_optimizers_match_torch(backend):
    """Every option combination, 100 steps: the same parameters as torch.optim to ~1e-12."""
    for i, (cls, torch_cls, options) in enumerate(CASES):
        host_params, grad_seq = problem(i)
        want = final_torch(torch_cls, host_params, grad_seq, options)
        got = final_npgen(cls, host_params, grad_seq, options)
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-14,
                                       err_msg=f"{cls.__name__} {options} {k}")


@pytest.mark.parametrize("max_norm", [0.0, 0.5, 3.0, 1e6])
def test_clip_grad_norm_matches_torch(backend, max_norm):
    rng = np.random.default_rng(11)
    host = {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=(5,)), "c": np.array(2.0)}
    grads = {k: npgen.asarray(v, dtype="float64") for k, v in host.items()}
    live = dict(grads)
    total = clip_grad_norm(grads, max_norm)

    tensors = [torch.zeros(v.shape, dtype=torch.float64, requires_grad=True)
               for v in host.values()]
    for t, v in zip(tensors, host.values()):
        t.grad = torch.tensor(v)
    want_total = torch.nn.utils.clip_grad_norm_(tensors, max_norm)

    assert total.shape == () and np.isclose(float(total), float(want_total), rtol=1e-14, atol=0)
    for (k, g), t in zip(grads.items(), tensors):
        assert g is live[k]  # clipped in place
        np.testing.assert_allclose(npgen.to_numpy(g), t.grad.numpy(), rtol=1e-14, atol=0)


def _torch_schedule(make_scheduler, base_lr, steps):
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(opt)
    values = []
    for _ in range(steps):
        values.append(scheduler.get_last_lr()[0])
        opt.step()
        scheduler.step()
    return np.array(values)


def test_step_lr_matches_torch():
    want = _torch_schedule(
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5), 0.3, 50)
    got = np.array([step_lr(t, 0.3, 7, gamma=0.5) for t in range(50)])
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_cosine_lr_matches_torch():
    total, base, low = 40, 0.1, 1e-3
    want = _torch_schedule(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=low),
        base, total + 1)
    got = np.array([cosine_lr(t, base, total, min_lr=low) for t in range(total + 1)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("start_factor", [1.0 / 3, 0.01, 1.0])
def test_linear_warmup_matches_torch(start_factor):
    want = _torch_schedule(
        lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=start_factor,
                                                    total_iters=10), 0.2, 20)
    got = np.array([linear_warmup(t, 0.2, 10, start_factor=start_factor) for t in range(20)])
    np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("cls", [Adam, AdamW], ids=["Adam", "AdamW"])
@pytest.mark.parametrize("g", [1e19, 2e19, 1e20, 6e20, 1e21])
def test_adam_float32_huge_gradient_moves_as_torch(backend, cls, g):
    """(1 - beta2) * g is formed before it meets g again, as torch does: for |g| up to ~6e20
    g * g would overflow float32 and freeze the parameter, where torch moves it (to 0.9)."""
    torch_cls = getattr(torch.optim, cls.__name__)
    weight = torch.ones(3, dtype=torch.float32, requires_grad=True)
    reference = torch_cls([weight], lr=0.1)
    grad = np.array([g, -g, 1.0], dtype=np.float32)
    params = {"w": npgen.asarray(np.ones(3), dtype="float32")}
    opt = cls(params, lr=0.1)
    for _ in range(3):
        weight.grad = torch.tensor(grad)
        reference.step()
        with np.errstate(over="ignore"):  # beyond ~6e20 torch overflows too (weight stays 1)
            opt.step({"w": npgen.asarray(grad, dtype="float32")})
    np.testing.assert_allclose(npgen.to_numpy(params["w"]), weight.detach().numpy(),
                               rtol=2e-7, atol=0)
