"""The module protocol on real layers: Sequential, keys, state dicts, accumulation, errors."""

from __future__ import annotations

import numpy as np
import pytest

import npgen
from npgen import nn
from npgen.backend import dtype_name
from npgen.functional import activations as act
from npgen.functional.batchnorm import batchnorm_backward, batchnorm_forward
from npgen.functional.dense import dense_backward, dense_forward
from npgen.gradcheck import check_module

PARAMETER_KEYS = ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
STATE_KEYS = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
              "1.num_batches_tracked", "3.weight", "3.bias"]


def _mlp(dtype="float64", seed=0, last=None):
    rng = npgen.RNG(seed)
    layers = [nn.Dense(4, 5, dtype=dtype, rng=rng), nn.BatchNorm1d(5, dtype=dtype, rng=rng),
              nn.ReLU(), nn.Dense(5, 2, dtype=dtype, rng=rng)]
    return nn.Sequential(*layers, *([last] if last is not None else []))


def _x(shape=(6, 4), seed=1, dtype="float64"):
    return npgen.asarray(np.random.default_rng(seed).normal(size=shape), dtype=dtype)


def _close(a, b, tol=1e-14):
    np.testing.assert_allclose(npgen.to_numpy(a), npgen.to_numpy(b), rtol=tol, atol=tol)


def test_sequential_equals_composed_functional_pieces(backend):
    model = _mlp()
    p = model.parameters()
    x, dy = _x(), _x((6, 2), seed=2)
    h1, c1 = dense_forward(x, p["0.weight"], p["0.bias"])
    buffers = model.buffers()
    h2, c2, _, _ = batchnorm_forward(h1, p["1.weight"], p["1.bias"], buffers["1.running_mean"],
                                     buffers["1.running_var"], training=True)
    h3, c3 = act.relu_forward(h2)
    y, c4 = dense_forward(h3, p["3.weight"], p["3.bias"])
    _close(model(x), y)

    d3, dw3, db3 = dense_backward(dy, c4)
    d1, dw1, db1 = batchnorm_backward(act.relu_backward(d3, c3), c2)
    dx, dw0, db0 = dense_backward(d1, c1)
    _close(model.backward(dy), dx)
    expected = dict(zip(PARAMETER_KEYS, (dw0, db0, dw1, db1, dw3, db3)))
    grads = model.gradients()
    for key in PARAMETER_KEYS:
        _close(grads[key], expected[key])


def test_parameter_gradient_and_buffer_keys(backend):
    model = _mlp()
    assert list(model.parameters()) == PARAMETER_KEYS
    assert list(model.gradients()) == PARAMETER_KEYS
    assert list(model.buffers()) == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    for key, g in model.gradients().items():
        assert tuple(g.shape) == tuple(model.parameters()[key].shape)
    assert list(model.state_dict()) == STATE_KEYS


def test_state_dict_matches_torch_sequential():
    torch = pytest.importorskip("torch")
    reference = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5),
                                    torch.nn.ReLU(), torch.nn.Linear(5, 2))
    ours = _mlp().state_dict()
    theirs = reference.state_dict()
    assert list(ours) == list(theirs)
    for key in ours:
        assert isinstance(ours[key], np.ndarray)
        assert ours[key].shape == tuple(theirs[key].shape)
        assert ours[key].dtype.name == ("int64" if "num_batches" in key else "float64")


def test_state_dict_values_are_host_copies(backend):
    model = _mlp()
    state = model.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["0.weight"][...] = 123.0
    assert not (npgen.to_numpy(model.parameters()["0.weight"]) == 123.0).any()


def test_load_state_dict_round_trip_and_across_backends(backend):
    with npgen.use_backend("numpy"):
        source = _mlp(seed=3)
        source(_x())  # move the running stats and num_batches_tracked
        saved = source.state_dict()
    target = _mlp(seed=4)  # on the test's backend
    target.load_state_dict(saved)
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, saved[key])
    assert npgen.backend.backend_of(target.parameters()["0.weight"]).name == backend.name
    source.eval()
    target.eval()
    with npgen.use_backend("numpy"):
        expected = npgen.to_numpy(source(_x()))
    _close(target(_x()), expected)


def test_load_state_dict_from_torch(backend):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5),
                                    torch.nn.ReLU(), torch.nn.Linear(5, 2)).double()
    reference(torch.randn(7, 4, dtype=torch.float64))  # update the running stats
    model = _mlp()
    model.load_state_dict(reference.state_dict())
    reference.eval()
    model.eval()
    x_host = np.random.default_rng(5).normal(size=(3, 4))
    _close(model(npgen.asarray(x_host, dtype="float64")),
           reference(torch.from_numpy(x_host)).detach().numpy(), tol=1e-12)
    assert int(model.state_dict()["1.num_batches_tracked"]) == 1


def test_load_state_dict_casts_to_parameter_dtype(backend):
    model = _mlp(dtype="float32")
    model.load_state_dict(_mlp(dtype="float64").state_dict())
    assert dtype_name(model.parameters()["0.weight"].dtype) == "float32"
    assert dtype_name(model.buffers()["1.num_batches_tracked"].dtype) == "int64"


def test_load_state_dict_errors_name_the_key(backend):
    model = _mlp()
    state = model.state_dict()
    missing = {k: v for k, v in state.items() if k != "1.running_var"}
    with pytest.raises(KeyError, match=r"missing keys \['1.running_var'\]"):
        model.load_state_dict(missing)
    with pytest.raises(KeyError, match=r"unexpected keys \['5.weight'\]"):
        model.load_state_dict({**state, "5.weight": state["0.weight"]})
    model.load_state_dict(missing, strict=False)  # non-strict: missing keys are allowed
    with pytest.raises(ValueError, match=r"'0.bias' has shape \(4,\), the module expects \(5,\)"):
        model.load_state_dict({**state, "0.bias": np.zeros(4)})


def test_gradients_accumulate_in_place_and_zero_grad(backend):
    model = _mlp()
    x, dy = _x(), _x((6, 2), seed=2)
    accumulators = model.gradients()
    model(x)
    model.backward(dy)
    once = {k: npgen.to_numpy(v).copy() for k, v in model.gradients().items()}
    model(x)
    model.backward(dy)
    for key, g in model.gradients().items():
        assert g is accumulators[key]  # the same live arrays, updated in place
        np.testing.assert_allclose(npgen.to_numpy(g), 2 * once[key], rtol=1e-14, atol=1e-14)
    model.zero_grad()
    for key, g in model.gradients().items():
        assert g is accumulators[key]
        np.testing.assert_array_equal(npgen.to_numpy(g), 0.0)


def test_parameters_are_live(backend):
    layer = nn.Dense(2, 1, dtype="float64")
    layer.parameters()["weight"][...] = npgen.asarray([[1.0, 2.0]], dtype="float64")
    layer.parameters()["bias"][...] = npgen.asarray([0.5], dtype="float64")
    _close(layer(npgen.asarray([[3.0, 4.0]], dtype="float64")), np.array([[11.5]]))


def test_train_eval_propagate_to_children(backend):
    model = nn.Sequential(_mlp(), nn.Dropout(0.5, seed=0))
    assert model.eval() is model
    assert not any(m.training for m in [model, *model, *model[0]])
    model.train()
    assert all(m.training for m in [model, *model, *model[0]])
    assert list(model.parameters())[0] == "0.0.weight"


MODELS = {  # name -> (model factory, input shape); Tanh/Sigmoid outputs have no kinks
    "mlp_tanh": (lambda: _mlp(last=nn.Tanh()), (5, 4)),
    "dense_sigmoid": (lambda: nn.Sequential(nn.Dense(3, 2, dtype="float64", seed=0),
                                            nn.Sigmoid()), (5, 3)),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_module_gradcheck_train_and_eval(backend, name):
    make, shape = MODELS[name]
    model, x = make(), _x(shape)
    model(x)  # running stats away from (0, 1)
    check_module(model, x)
    check_module(model.eval(), x)


LAYERS = {
    "Dense": lambda: nn.Dense(3, 2),
    "BatchNorm1d": lambda: nn.BatchNorm1d(3),
    "BatchNorm2d": lambda: nn.BatchNorm2d(3),
    "ReLU": nn.ReLU, "LeakyReLU": nn.LeakyReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh,
    "Dropout": nn.Dropout, "Flatten": nn.Flatten, "Unflatten": lambda: nn.Unflatten(1, (3, 1)),
    "Sequential": lambda: nn.Sequential(nn.Dense(3, 2)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_backward_before_forward_names_the_layer(backend, name):
    name = "Dense" if name == "Sequential" else name  # the first child to run backward
    with pytest.raises(RuntimeError, match=f"{name}.backward called before forward"):
        LAYERS[name]().backward(_x((2, 3), dtype="float32"))


BAD_INPUTS = [  # (layer, input shape, input dtype, error, message)
    (lambda: nn.Dense(4, 3), (2, 5), "float32", ValueError,
     r"Dense\(in_features=4, out_features=3\): expected input with 4 features .* \(2, 5\)"),
    (lambda: nn.Dense(4, 3), (2, 3, 5), "float32", ValueError,
     r"Dense\(in_features=4, out_features=3\): expected input with 4 features \(axis 2\)"),
    (lambda: nn.Dense(4, 3), (2, 4), "float64", TypeError,
     r"Dense\(in_features=4, out_features=3\): input is float64 but the weight is float32"),
    (lambda: nn.Dense(4, 3, dtype="float64"), (2, 4), "float32", TypeError,
     r"Dense.*input is float32 but the weight is float64"),
    (lambda: nn.BatchNorm1d(3), (2, 3, 2, 2), "float32", ValueError,
     r"BatchNorm1d\(num_features=3\): expected a 2-D \(N, C\) or a 3-D \(N, C, L\) input"),
    (lambda: nn.BatchNorm1d(3), (2, 4), "float32", ValueError,
     r"BatchNorm1d\(num_features=3\): expected input with 3 channels .* \(2, 4\)"),
    (lambda: nn.BatchNorm2d(3), (2, 3, 4), "float32", ValueError,
     r"BatchNorm2d\(num_features=3\): expected a 4-D \(N, C, H, W\) input; got shape"),
    (lambda: nn.BatchNorm2d(3), (2, 3, 2, 2), "float64", TypeError,
     r"BatchNorm2d\(num_features=3\): input is float64 but the weight is float32"),
    (lambda: nn.BatchNorm1d(3, affine=False), (2, 3), "float64", TypeError,
     r"BatchNorm1d\(num_features=3\): input is float64 but the running_mean is float32"),
]


@pytest.mark.parametrize("make, shape, dtype, error, message", BAD_INPUTS)
def test_bad_inputs_name_the_layer(backend, make, shape, dtype, error, message):
    with pytest.raises(error, match=message):
        make()(_x(shape, dtype=dtype))


def test_integer_and_foreign_inputs(backend):
    layer = nn.Dense(2, 1)
    with pytest.raises(TypeError, match=r"Dense.*floating-point input"):
        layer(npgen.asarray(np.ones((1, 2), dtype=np.int64)))
    with pytest.raises(TypeError, match=r"Dense.*expected input to be an array"):
        layer([[1.0, 2.0]])
    if backend.name != "numpy":
        with pytest.raises(TypeError, match=r"Dense.*input is on numpy/cpu but its weight is on"):
            layer(np.ones((1, 2), dtype=np.float32))


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.Dense(0, 3), ValueError, "Dense: in_features must be a positive int"),
    (lambda: nn.Dense(2, 3, dtype="int32"), TypeError, "Dense: dtype must be float32 or float64"),
    (lambda: nn.Dense(2, 3, rng=npgen.RNG(0), seed=1), ValueError, "Dense: pass rng= or seed="),
    (lambda: nn.BatchNorm2d(3, momentum="0.1"), TypeError, "BatchNorm2d: momentum must be"),
    (lambda: nn.BatchNorm1d(-1), ValueError, "BatchNorm1d: num_features must be a positive"),
    (lambda: nn.Sequential(nn.ReLU(), "relu"), TypeError, "Sequential: item 1 must be"),
])
def test_bad_constructor_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_dtype_objects_and_default_float32(backend):
    assert dtype_name(nn.Dense(2, 2).parameters()["weight"].dtype) == "float32"
    layer = nn.BatchNorm1d(2, dtype=backend.xp.float64)
    assert dtype_name(layer.parameters()["weight"].dtype) == "float64"
    assert dtype_name(layer.buffers()["num_batches_tracked"].dtype) == "int64"
    assert tuple(layer.buffers()["num_batches_tracked"].shape) == ()


# ----------------------------------------------------------------------------
# DCGAN-style models (needs the conv layers)
# ----------------------------------------------------------------------------


def _dcgan(conv, library, nz=4, ngf=4, ndf=4, nc=1, **kwargs):
    """The same generator / discriminator in npgen (``library=nn``) or torch.nn."""
    dense = library.Linear if library is not nn else nn.Dense
    generator = library.Sequential(
        conv.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False, **kwargs),  # 1 -> 4
        library.BatchNorm2d(ngf * 2, **kwargs), library.ReLU(),
        conv.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False, **kwargs),  # 4 -> 8
        library.BatchNorm2d(ngf, **kwargs), library.ReLU(),
        conv.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False, **kwargs),  # 8 -> 16
        library.Tanh(),
    )
    discriminator = library.Sequential(
        conv.Conv2d(nc, ndf, 4, 2, 1, bias=False, **kwargs), library.LeakyReLU(0.2),  # 16 -> 8
        conv.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False, **kwargs),  # 8 -> 4
        library.BatchNorm2d(ndf * 2, **kwargs), library.LeakyReLU(0.2),
        library.Flatten(), dense(ndf * 2 * 4 * 4, 1, **kwargs),
    )
    return generator, discriminator


def test_dcgan_state_dict_keys_match_torch(backend):
    torch = pytest.importorskip("torch")
    ours = _dcgan(nn, nn, dtype="float64")
    theirs = _dcgan(torch.nn, torch.nn, dtype=torch.float64)
    z = np.random.default_rng(0).normal(size=(3, 4, 1, 1))
    for model, reference in zip(ours, theirs):
        state, ref_state = model.state_dict(), reference.state_dict()
        assert list(state) == list(ref_state)
        for key in state:
            assert state[key].shape == tuple(ref_state[key].shape), key
        reference.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        out = model(npgen.asarray(z, dtype="float64"))
        zt = torch.tensor(z, requires_grad=True)
        ref_out = reference(zt)
        _close(out, ref_out.detach().numpy(), tol=1e-10)
        dy = np.random.default_rng(1).normal(size=tuple(out.shape))
        dz = model.backward(npgen.asarray(dy, dtype="float64"))
        ref_out.backward(torch.from_numpy(dy))
        _close(dz, zt.grad.numpy(), tol=1e-10)
        for key, p in reference.named_parameters():
            _close(model.gradients()[key], p.grad.numpy(), tol=1e-10)
        z = ref_out.detach().numpy()  # the generator's images feed the discriminator


# ----------------------------------------------------------------------------
# The contract: every constructor takes dtype= and rng=/seed=
# ----------------------------------------------------------------------------

_PARAMETERLESS = {
    "ReLU": lambda **kw: nn.ReLU(**kw),
    "LeakyReLU": lambda **kw: nn.LeakyReLU(0.2, **kw),
    "Sigmoid": lambda **kw: nn.Sigmoid(**kw),
    "Tanh": lambda **kw: nn.Tanh(**kw),
    "Flatten": lambda **kw: nn.Flatten(**kw),
    "Unflatten": lambda **kw: nn.Unflatten(1, (2, 3), **kw),
    "Sequential": lambda **kw: nn.Sequential(nn.ReLU(), **kw),
}


@pytest.mark.parametrize("name", sorted(_PARAMETERLESS))
def test_every_constructor_takes_dtype_rng_and_seed(name):
    make = _PARAMETERLESS[name]
    for options in ({"dtype": "float64"}, {"dtype": "float32", "seed": 3},
                    {"rng": npgen.RNG(0)}):
        assert isinstance(make(**options), nn.Module)
    with pytest.raises(TypeError, match=name):
        make(dtype="int8")
    with pytest.raises(ValueError, match="not both"):
        make(rng=npgen.RNG(0), seed=1)


def test_load_state_dict_accepts_lists_and_scalars(backend):
    layer = nn.BatchNorm1d(2, dtype="float64")
    state = {"weight": [2.0, 3.0], "bias": [0.0, 1.0], "running_mean": [0.5, 0.5],
             "running_var": [1.0, 4.0], "num_batches_tracked": 5}
    layer.load_state_dict(state)
    assert npgen.to_numpy(layer.parameters()["weight"]).tolist() == [2.0, 3.0]
    assert int(npgen.to_numpy(layer.buffers()["num_batches_tracked"])) == 5


def test_load_state_dict_may_omit_num_batches_tracked_as_in_torch(backend):
    layer = nn.BatchNorm2d(3, dtype="float64")
    state = {k: v for k, v in layer.state_dict().items() if k != "num_batches_tracked"}
    layer.load_state_dict(state)  # strict, yet accepted: PyTorch accepts it too
    with pytest.raises(KeyError, match="running_var"):
        layer.load_state_dict({k: v for k, v in state.items() if k != "running_var"})


def test_load_state_dict_refuses_a_non_dict(backend):
    with pytest.raises(TypeError, match="expected a dict"):
        nn.Dense(2, 2).load_state_dict([1, 2])


@pytest.mark.parametrize("make", [lambda: nn.Dense(3, 2), lambda: nn.BatchNorm1d(2),
                                  lambda: nn.Sigmoid(), lambda: nn.Tanh()],
                         ids=["Dense", "BatchNorm1d", "Sigmoid", "Tanh"])
def test_backward_refuses_a_dy_of_another_dtype(backend, make):
    """A float64 dy into a float32 layer is an error, never a silent cast into float32."""
    layer = make()
    features = 3 if isinstance(layer, nn.Dense) else 2
    y = layer(npgen.asarray(np.random.default_rng(0).normal(size=(4, features)),
                            dtype="float32"))
    with pytest.raises(TypeError, match="dy is float64"):
        layer.backward(npgen.asarray(np.ones(tuple(y.shape)), dtype="float64"))
