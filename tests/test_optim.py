"""SGD, Adam, AdamW: trajectories against the papers' algorithms, convergence, exact resume.

The references below are written from the papers (scalar Python loops in
float64), not from npgen's code: Adam as Kingma & Ba (2015) Algorithm 1 with
bias-corrected m_hat / v_hat, AdamW as Loshchilov & Hutter (2019) Algorithm 2,
SGD with momentum as PyTorch documents it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import on_backend
from hypothesis import given
from hypothesis import strategies as st

import npgen
from npgen.nn.module import Module
from npgen.optim import SGD, Adam, AdamW, adam_init, adam_update, sgd_init, sgd_update
from npgen.testing import strategies as nst

STEPS = 300
SHAPES = {"w": (3, 4), "b": (5,), "s": ()}


# ----------------------------------------------------------------------------
# Paper references: one scalar at a time, float64 Python arithmetic
# ----------------------------------------------------------------------------


def reference_sgd(theta, grads, lr, momentum=0.0, dampening=0.0, nesterov=False,
                  weight_decay=0.0):
    """Trajectory of one scalar parameter under SGD (PyTorch's documented algorithm)."""
    path, b = [], None
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * theta
        if momentum != 0:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        path.append(theta)
    return path


def reference_adam(theta, grads, lr, beta1, beta2, eps, weight_decay=0.0, amsgrad=False,
                   decoupled=False):
    """Kingma & Ba Algorithm 1 (+ AMSGrad's max, + AdamW's decoupled decay), one scalar."""
    path, m, v, v_max = [], 0.0, 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        if not decoupled:
            g = g + weight_decay * theta  # L2 penalty enters the gradient
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v) if amsgrad else v
        m_hat = m / (1 - beta1**t)
        v_hat = v_max / (1 - beta2**t)
        adam_direction = m_hat / (math.sqrt(v_hat) + eps)
        decay = weight_decay * theta if decoupled else 0.0  # Loshchilov & Hutter Alg. 2, l. 12
        theta = theta - lr * adam_direction - lr * decay
        path.append(theta)
    return path


def reference_paths(params0, grad_seq, reference, **options):
    """Per key, an array (steps, *shape) of the reference trajectory, element by element."""
    out = {}
    for key, p0 in params0.items():
        flat = [reference(float(p0.flat[i]), [float(g[key].flat[i]) for g in grad_seq],
                          **options) for i in range(p0.size)]
        out[key] = np.array(flat).T.reshape((len(grad_seq), *p0.shape))  # (steps, *shape)
    return out


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------


def host_problem(seed, steps=STEPS):
    """Random float64 parameters and a gradient sequence with varied scales (NumPy)."""
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(size=s) for k, s in SHAPES.items()}
    scales = 10.0 ** rng.uniform(-2, 1, size=steps)
    grads = [{k: scale * rng.normal(size=s) for k, s in SHAPES.items()} for scale in scales]
    return params, grads


def run(opt, params, grad_seq, dtype="float64"):
    """Step through ``grad_seq``; return the host trajectory per key (steps, *shape)."""
    path = {k: [] for k in params}
    for g in grad_seq:
        opt.step(on_backend(g, dtype))
        for k, p in params.items():
            path[k].append(npgen.to_numpy(p).copy())
    return {k: np.stack(v) if v else None for k, v in path.items()}


SGD_OPTIONS = [
    dict(lr=0.05),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.02, momentum=0.9),
    dict(lr=0.02, momentum=0.9, dampening=0.5),
    dict(lr=0.02, momentum=0.5, dampening=0.9, weight_decay=0.05),
    dict(lr=0.02, momentum=0.9, nesterov=True),
    dict(lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.1),
]
ADAM_OPTIONS = [
    dict(lr=1e-2),
    dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=3e-3, weight_decay=0.1),
    dict(lr=1e-2, amsgrad=True),
    dict(lr=1e-2, betas=(0.5, 0.9), weight_decay=0.05, amsgrad=True),
    dict(lr=1e-2, betas=(0.0, 0.0)),
]


def adam_reference_options(options, decoupled):
    beta1, beta2 = options.get("betas", (0.9, 0.999))
    default_wd = 1e-2 if decoupled else 0.0
    return dict(lr=options["lr"], beta1=beta1, beta2=beta2, eps=options.get("eps", 1e-8),
                weight_decay=options.get("weight_decay", default_wd),
                amsgrad=options.get("amsgrad", False), decoupled=decoupled)


# ----------------------------------------------------------------------------
# Trajectories
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_trajectory_matches_reference(backend, options):
    host_params, grad_seq = host_problem(0)
    params = on_backend(host_params)
    got = run(SGD(params, **options), params, grad_seq)
    want = reference_paths(host_params, grad_seq, reference_sgd, **options)
    for k in params:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-13, err_msg=k)


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_trajectory_matches_reference(backend, cls, options):
    host_params, grad_seq = host_problem(1)
    params = on_backend(host_params)
    got = run(cls(params, **options), params, grad_seq)
    reference_options = adam_reference_options(options, decoupled=cls is AdamW)
    want = reference_paths(host_params, grad_seq, reference_adam, **reference_options)
    for k in params:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-13, err_msg=k)


def test_adamw_default_decays_and_adam_default_does_not(backend):
    """With zero gradients Adam leaves theta alone; AdamW shrinks it by (1 - lr*1e-2)."""
    host = {"w": np.array([1.0, -2.0, 3.0])}
    zero = {"w": np.zeros(3)}
    for cls, factor in [(Adam, 1.0), (AdamW, 1 - 0.1 * 1e-2)]:
        params = on_backend(host)
        cls(params, lr=0.1).step(on_backend(zero))
        np.testing.assert_array_equal(npgen.to_numpy(params["w"]), host["w"] * factor)


def test_first_adam_step_moves_each_parameter_by_about_lr(backend):
    rng = np.random.default_rng(2)
    host_p = rng.normal(size=(4, 5))
    host_g = rng.choice([-1.0, 1.0], size=(4, 5)) * 10.0 ** rng.uniform(-3, 3, size=(4, 5))
    lr, eps = 1e-3, 1e-8
    params = on_backend({"w": host_p})
    Adam(params, lr=lr, eps=eps).step(on_backend({"w": host_g}))
    delta = npgen.to_numpy(params["w"]) - host_p
    # m_hat = g and v_hat = g^2 at t = 1: the step is lr * g / (|g| + eps).
    np.testing.assert_allclose(delta, -lr * host_g / (np.abs(host_g) + eps), rtol=1e-12)
    np.testing.assert_allclose(np.abs(delta), lr, rtol=1e-5)  # |g| >= 1e-3 >> eps


def test_step_updates_the_callers_arrays_in_place(backend):
    """The arrays in the dict (e.g. a module's live parameters) are the ones that change."""
    host_params, grad_seq = host_problem(3, steps=2)
    for cls in (SGD, Adam, AdamW):
        params = on_backend(host_params)
        live = dict(params)  # the module's own references
        cls(params, lr=0.1).step(on_backend(grad_seq[0]))
        for k, p in live.items():
            assert params[k] is p
            assert not np.array_equal(npgen.to_numpy(p), host_params[k])


def test_module_sees_the_update(backend):
    """opt = SGD(module.parameters(), ...) moves the module's own arrays."""
    module = Module()
    module._add_parameter("weight", npgen.asarray(np.ones((2, 3)), dtype="float64"))
    child = Module()
    child._add_parameter("bias", npgen.asarray(np.zeros(2), dtype="float64"))
    module._add_child("0", child)
    opt = Adam(module.parameters(), lr=0.1)
    for g in module.gradients().values():
        g[...] = g + 1.0  # what a backward would accumulate
    opt.step(module.gradients())
    state = module.state_dict()
    step = 0.1 * 1.0 / (1.0 + 1e-8)  # the first Adam step: lr * g / (|g| + eps)
    np.testing.assert_allclose(state["weight"], np.full((2, 3), 1.0 - step), rtol=1e-14)
    np.testing.assert_allclose(state["0.bias"], np.full(2, -step), rtol=1e-14)


@given(shape=nst.shapes(min_dims=0, max_dims=3), data=st.data(),
       lr=st.floats(0.0, 1.0), momentum=st.floats(0.01, 0.99), nesterov=st.booleans())
def test_pure_updates_do_not_modify_their_inputs(backend, shape, data, lr, momentum, nesterov):
    param = data.draw(nst.float_arrays(shape))
    grad = data.draw(nst.float_arrays(shape))
    before_p, before_g = npgen.to_numpy(param).copy(), npgen.to_numpy(grad).copy()
    _, state = sgd_update(param, grad, sgd_init(param), lr=lr, momentum=momentum,
                          nesterov=nesterov)
    new_param, adam_state = adam_update(param, grad, adam_init(param, amsgrad=True), lr=lr,
                                        amsgrad=True)
    assert adam_state.step == 1 and state.step == 1
    assert tuple(new_param.shape) == tuple(shape)
    np.testing.assert_array_equal(npgen.to_numpy(param), before_p)
    np.testing.assert_array_equal(npgen.to_numpy(grad), before_g)
    # The first momentum buffer equals g but is a copy: zeroing g (zero_grad) leaves it.
    grad[...] = grad * 0.0
    np.testing.assert_array_equal(npgen.to_numpy(state.momentum_buffer), before_g)


def test_wrappers_equal_pure_functions(backend):
    host_params, grad_seq = host_problem(4, steps=20)
    params = on_backend(host_params)
    opt = AdamW(params, lr=0.01, weight_decay=0.1, amsgrad=True)
    p, state = on_backend(host_params)["w"], adam_init(params["w"], amsgrad=True)
    for g in grad_seq:
        opt.step(on_backend(g))
        p, state = adam_update(p, npgen.asarray(g["w"], dtype="float64"), state, lr=0.01,
                               weight_decay=0.1, amsgrad=True, decoupled_weight_decay=True)
    np.testing.assert_array_equal(npgen.to_numpy(params["w"]), npgen.to_numpy(p))
    assert opt.state["w"].step == state.step == 20


# ----------------------------------------------------------------------------
# Convergence (analytic gradients)
# ----------------------------------------------------------------------------


def rosenbrock_grad(p):
    """d/d(x, y) of (1 - x)^2 + 100 (y - x^2)^2; minimum 0 at (1, 1)."""
    xp = npgen.get_backend().xp
    x, y = p[0], p[1]
    return xp.stack([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])


@pytest.mark.parametrize("make, max_steps", [
    (lambda p: SGD(p, lr=1e-3, momentum=0.9), 2500),
    (lambda p: Adam(p, lr=2e-2), 3000),
], ids=["sgd-momentum", "adam"])
def test_rosenbrock_reaches_minimum(backend, make, max_steps):
    params = on_backend({"xy": np.array([-1.5, 2.0])})
    opt = make(params)
    for _ in range(max_steps):
        opt.step({"xy": rosenbrock_grad(params["xy"])})
    np.testing.assert_allclose(npgen.to_numpy(params["xy"]), [1.0, 1.0], atol=1e-3)


@pytest.mark.parametrize("cls, options", [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (Adam, dict(lr=0.05)),
    (AdamW, dict(lr=0.05, weight_decay=0.0, amsgrad=True)),
])
def test_quadratic_reaches_minimum(backend, cls, options):
    """f = 1/2 sum a_i (x_i - c_i)^2 with curvatures 0.5..4: the minimum is c."""
    a = npgen.asarray(np.array([0.5, 1.0, 2.0, 4.0]), dtype="float64")
    c = npgen.asarray(np.array([1.0, -2.0, 0.5, 3.0]), dtype="float64")
    params = {"x": npgen.asarray(np.zeros(4), dtype="float64")}
    opt = cls(params, **options)
    for _ in range(600):
        opt.step({"x": a * (params["x"] - c)})
    np.testing.assert_allclose(npgen.to_numpy(params["x"]), npgen.to_numpy(c), atol=1e-6)


# ----------------------------------------------------------------------------
# Exact resume
# ----------------------------------------------------------------------------

RESUME_CASES = [
    (SGD, dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    (SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (SGD, dict(lr=0.05)),
    (Adam, dict(lr=1e-2, weight_decay=0.01)),
    (Adam, dict(lr=1e-2, amsgrad=True)),
    (AdamW, dict(lr=1e-2, betas=(0.8, 0.95), amsgrad=True)),
]


def _resume(cls, options, host_params, grad_seq, k, dtype, through=None):
    """k steps, save, a NEW optimizer (default hyperparameters) + load, then the rest."""
    params = on_backend(host_params, dtype)
    first = cls(params, **options)
    run(first, params, grad_seq[:k], dtype)
    saved = first.state_dict()
    if through is not None:
        saved = through(saved)
    second = cls(params, lr=0.5)  # hyperparameters come back from the state dict
    second.load_state_dict(saved)
    assert second.lr == options["lr"]
    run(second, params, grad_seq[k:], dtype)
    return params, second


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cls, options", RESUME_CASES, ids=str)
def test_resume_is_bit_identical(backend, cls, options, dtype):
    host_params, grad_seq = host_problem(5, steps=30)
    params = on_backend(host_params, dtype)
    uninterrupted = cls(params, **options)
    run(uninterrupted, params, grad_seq, dtype)
    for k in (0, 1, 17):
        resumed, opt = _resume(cls, options, host_params, grad_seq, k, dtype)
        for key in params:
            assert np.array_equal(npgen.to_numpy(resumed[key]), npgen.to_numpy(params[key]))
        a, b = opt.state_dict(), uninterrupted.state_dict()
        assert a.keys() == b.keys()
        for key in a:
            assert np.array_equal(a[key], b[key]), key


@pytest.mark.parametrize("cls, options", RESUME_CASES, ids=str)
def test_resume_through_npz_file(backend, tmp_path, cls, options):
    host_params, grad_seq = host_problem(6, steps=20)
    params = on_backend(host_params)
    run(cls(params, **options), params, grad_seq)

    def through_disk(state):
        path = tmp_path / "optimizer.npz"
        np.savez(path, **state)
        with np.load(path) as f:  # allow_pickle=False: the layout is arrays and scalars only
            return {key: f[key] for key in f.files}

    resumed, _ = _resume(cls, options, host_params, grad_seq, 9, "float64", through_disk)
    for key in params:
        assert np.array_equal(npgen.to_numpy(resumed[key]), npgen.to_numpy(params[key]))


def test_state_dict_layout_is_flat_host_data(backend):
    params = on_backend({"0.weight": np.ones((2, 3)), "0.bias": np.ones(2)})
    opt = Adam(params, lr=0.1, amsgrad=True)
    opt.step(on_backend({"0.weight": np.ones((2, 3)), "0.bias": np.ones(2)}))
    state = opt.state_dict()
    assert state["optimizer"] == "Adam" and state["step"] == 1
    assert {k for k in state if k.startswith("hyper.")} == {
        "hyper.lr", "hyper.beta1", "hyper.beta2", "hyper.eps", "hyper.weight_decay",
        "hyper.amsgrad"}
    fields = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    assert {k for k in state if k.startswith("state.")} == {
        f"state.{name}.{f}" for name in params for f in fields}
    for key, value in state.items():
        assert isinstance(value, (np.ndarray, int, float, bool, str)), key
    # SGD without momentum has no per-parameter arrays; with momentum, one per parameter.
    assert not [k for k in SGD(params, lr=0.1).state_dict() if k.startswith("state.")]


def test_state_dict_is_a_snapshot(backend):
    """Later steps do not change a saved dict, and editing the dict does not touch the state."""
    host_params, grad_seq = host_problem(7, steps=3)
    params = on_backend(host_params)
    opt = SGD(params, lr=0.1, momentum=0.9)
    run(opt, params, grad_seq[:1])
    saved = opt.state_dict()
    copy = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in saved.items()}
    for value in saved.values():
        if isinstance(value, np.ndarray):
            value[...] = 0.0
    for key, value in opt.state_dict().items():
        assert np.array_equal(value, copy[key]), key
    saved = opt.state_dict()
    run(opt, params, grad_seq[1:])
    for key in saved:
        assert np.array_equal(saved[key], copy[key])


def test_load_state_dict_accepts_backend_arrays(backend):
    """State arrays of the backend's library (not only NumPy) load too."""
    host_params, grad_seq = host_problem(8, steps=6)
    params = on_backend(host_params)
    opt = Adam(params, lr=0.01)
    run(opt, params, grad_seq[:3])
    saved = {k: (npgen.asarray(v) if isinstance(v, np.ndarray) else v)
             for k, v in opt.state_dict().items()}
    other = Adam(params)
    other.load_state_dict(saved)
    a, b = opt.state_dict(), other.state_dict()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


def test_lr_is_settable_between_steps(backend):
    host_params, grad_seq = host_problem(9, steps=2)
    params = on_backend(host_params)
    opt = SGD(params, lr=0.1)
    opt.lr = 0.0
    run(opt, params, grad_seq)
    for key in params:
        np.testing.assert_array_equal(npgen.to_numpy(params[key]), host_params[key])
    assert opt.state_dict()["hyper.lr"] == 0.0
