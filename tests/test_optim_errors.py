"""Bad input to the optimizers and clip_grad_norm: clear errors that name the culprit."""

from __future__ import annotations

import numpy as np
import pytest

import npgen
from npgen.optim import (
    SGD,
    Adam,
    AdamW,
    adam_init,
    adam_update,
    clip_grad_norm,
    sgd_init,
    sgd_update,
)


def _params(dtype="float64"):
    return {"w": npgen.asarray(np.ones((2, 3)), dtype=dtype),
            "b": npgen.asarray(np.ones(2), dtype=dtype)}


def _grads(dtype="float64"):
    return {"w": npgen.asarray(np.full((2, 3), 0.5), dtype=dtype),
            "b": npgen.asarray(np.full(2, 0.5), dtype=dtype)}


ALL = [(SGD, dict(lr=0.1, momentum=0.9)), (Adam, dict(lr=0.1)), (AdamW, dict(lr=0.1))]
IDS = ["SGD", "Adam", "AdamW"]


@pytest.mark.parametrize("cls, options", ALL, ids=IDS)
def test_grads_with_missing_or_extra_keys(backend, cls, options):
    opt = cls(_params(), **options)
    grads = _grads()
    del grads["b"]
    with pytest.raises(ValueError, match=rf"{cls.__name__}.step: .*missing \['b'\]"):
        opt.step(grads)
    grads = {**_grads(), "extra.weight": _grads()["b"]}
    with pytest.raises(ValueError, match=r"unexpected \['extra.weight'\]"):
        opt.step(grads)
    with pytest.raises(TypeError, match="grads must be a dict"):
        opt.step(list(_grads().values()))


@pytest.mark.parametrize("cls, options", ALL, ids=IDS)
def test_grad_with_wrong_shape_dtype_or_library(backend, cls, options):
    params = _params()
    opt = cls(params, **options)
    bad_shape = {**_grads(), "b": npgen.asarray(np.ones(3), dtype="float64")}
    with pytest.raises(ValueError, match=r"gradient 'b' has shape \(3,\).*shape \(2,\)"):
        opt.step(bad_shape)
    bad_dtype = {**_grads(), "w": npgen.asarray(np.ones((2, 3)), dtype="float32")}
    with pytest.raises(TypeError, match=rf"{cls.__name__}.step: gradient 'w' is float32"):
        opt.step(bad_dtype)
    with npgen.use_backend("numpy"):
        host = _grads()
    if backend.name != "numpy":
        with pytest.raises(TypeError, match=r"gradient 'w' is on numpy/cpu"):
            opt.step(host)
    with pytest.raises(TypeError, match="expected gradient 'b' to be an array"):
        opt.step({**_grads(), "b": [0.5, 0.5]})
    # Nothing was updated by the failed calls (all grads are checked before any update).
    for p in params.values():
        assert np.all(npgen.to_numpy(p) == 1.0)


def test_grad_on_another_device():
    """array_api_strict: parameter on device1, gradient on the default CPU device."""
    pytest.importorskip("array_api_strict")
    with npgen.use_backend("array_api_strict", "device1"):
        params = _params()
    with npgen.use_backend("array_api_strict"):
        grads = _grads()
    for cls, options in ALL:
        with pytest.raises(TypeError, match=r"gradient 'w' is on array_api_strict/.*CPU_DEVICE"):
            cls(params, **options).step(grads)


@pytest.mark.parametrize("make, match", [
    (lambda p: SGD(p, lr=-0.1), "SGD: lr must be a finite number >= 0"),
    (lambda p: SGD(p, lr=0.1, momentum=-0.5), "SGD: momentum"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1e-4), "SGD: weight_decay"),
    (lambda p: SGD(p, lr=0.1, nesterov=True), "SGD: nesterov=True requires momentum > 0"),
    (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     "SGD: nesterov=True requires .* dampening == 0"),
    (lambda p: Adam(p, lr=-1e-3), "Adam: lr"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), r"Adam: betas\[0\] must lie in \[0, 1\)"),
    (lambda p: Adam(p, betas=(0.9, -0.1)), r"Adam: betas\[1\]"),
    (lambda p: Adam(p, eps=-1e-8), "Adam: eps"),
    (lambda p: Adam(p, weight_decay=-0.1), "Adam: weight_decay"),
    (lambda p: AdamW(p, betas=(0.9, 1.5)), r"AdamW: betas\[1\]"),
    (lambda p: AdamW(p, eps=float("nan")), "AdamW: eps"),
])
def test_bad_hyperparameters(backend, make, match):
    with pytest.raises(ValueError, match=match):
        make(_params())


@pytest.mark.parametrize("make, error, match", [
    (lambda p: SGD(p, lr="0.1"), TypeError, "SGD: lr must be a real number"),
    (lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=1), TypeError, "nesterov must be True"),
    (lambda p: Adam(p, betas=0.9), TypeError, "Adam: betas must be a pair"),
    (lambda p: Adam(p, amsgrad="yes"), TypeError, "Adam: amsgrad must be True or False"),
    (lambda p: SGD(list(p.values()), lr=0.1), TypeError, "SGD: params must be a dict"),
    (lambda p: Adam({}, lr=0.1), ValueError, "Adam: got an empty parameter dict"),
])
def test_bad_constructor_arguments(backend, make, error, match):
    with pytest.raises(error, match=match):
        make(_params())


def test_integer_parameter_is_refused(backend):
    params = {"n": npgen.asarray(np.arange(3))}
    with pytest.raises(TypeError, match="SGD: expected a floating-point parameter 'n'"):
        SGD(params, lr=0.1)


@pytest.mark.parametrize("cls, options", ALL, ids=IDS)
def test_bad_lr_set_later_and_hyperparameters_edited_later(backend, cls, options):
    opt = cls(_params(), **options)
    with pytest.raises(ValueError, match=f"{cls.__name__}: lr"):
        opt.lr = -1.0
    assert opt.lr == 0.1
    opt.weight_decay = -1.0
    with pytest.raises(ValueError, match=f"{cls.__name__}.step: weight_decay"):
        opt.step(_grads())


def test_pure_functions_check_their_inputs(backend):
    p = npgen.asarray(np.ones(3), dtype="float64")
    g32 = npgen.asarray(np.ones(3), dtype="float32")
    with pytest.raises(TypeError, match="sgd_update: gradient is float32"):
        sgd_update(p, g32, sgd_init(p), lr=0.1)
    with pytest.raises(ValueError, match="sgd_update: gradient has shape"):
        sgd_update(p, p[:2], sgd_init(p), lr=0.1)
    with pytest.raises(ValueError, match="sgd_update: lr"):
        sgd_update(p, p, sgd_init(p), lr=-0.1)
    with pytest.raises(ValueError, match=r"adam_update: betas\[0\]"):
        adam_update(p, p, adam_init(p), betas=(-0.1, 0.9))
    with pytest.raises(ValueError, match="adam_update: amsgrad=True needs a state"):
        adam_update(p, p, adam_init(p), amsgrad=True)


@pytest.mark.parametrize("cls, options", ALL, ids=IDS)
def test_load_state_dict_bad_input(backend, cls, options):
    opt = cls(_params(), **options)
    opt.step(_grads())
    good = opt.state_dict()
    other = cls(_params(), **options)
    wrong_kind = SGD if cls is not SGD else Adam
    with pytest.raises(ValueError, match=f"belongs to a '{wrong_kind.__name__}' optimizer"):
        other.load_state_dict(wrong_kind(_params(), lr=0.1).state_dict())
    with pytest.raises(ValueError, match=r"lacks the keys \['hyper.lr'\]"):
        other.load_state_dict({k: v for k, v in good.items() if k != "hyper.lr"})
    with pytest.raises(ValueError, match=r"lacks the keys \['optimizer', 'step'\]"):
        other.load_state_dict({k: v for k, v in good.items() if k not in ("optimizer", "step")})
    with pytest.raises(TypeError, match="'step' must be an int"):
        other.load_state_dict({**good, "step": 1.5})
    with pytest.raises(ValueError, match=r"unexpected keys in the state dict: \['state.x.y'\]"):
        other.load_state_dict({**good, "state.x.y": np.zeros(2)})
    state_key = next(k for k in good if k.startswith("state.w."))
    with pytest.raises(ValueError, match=rf"'{state_key}' has shape \(3,\)"):
        other.load_state_dict({**good, state_key: np.zeros(3)})
    before = other.state_dict()
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        other.load_state_dict({**good, "hyper.lr": -1.0, "hyper.weight_decay": 0.5})
    after = other.state_dict()  # a refused state dict leaves the optimizer as it was
    assert after.keys() == before.keys()
    assert all(np.array_equal(after[k], before[k]) for k in before)
    other.load_state_dict(good)


def test_load_state_dict_missing_adam_moment(backend):
    opt = Adam(_params(), amsgrad=True)
    saved = opt.state_dict()
    del saved["state.b.max_exp_avg_sq"]
    with pytest.raises(ValueError, match="lacks the key 'state.b.max_exp_avg_sq'"):
        Adam(_params()).load_state_dict(saved)


def test_clip_grad_norm_bad_input(backend):
    with pytest.raises(ValueError, match="clip_grad_norm: got no gradients"):
        clip_grad_norm({}, 1.0)
    with pytest.raises(ValueError, match="clip_grad_norm: max_norm must be >= 0"):
        clip_grad_norm(_grads(), -1.0)
    with pytest.raises(TypeError, match="clip_grad_norm: max_norm must be a real number"):
        clip_grad_norm(_grads(), "1")
    mixed = [_grads()["w"], _grads("float32")["b"]]
    with pytest.raises(TypeError, match="clip_grad_norm: gradient 1 is float32"):
        clip_grad_norm(mixed, 1.0)
    with pytest.raises(TypeError, match="clip_grad_norm: expected gradient 0 to be an array"):
        clip_grad_norm([[1.0, 2.0]], 1.0)
