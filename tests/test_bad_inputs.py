"""Bad inputs to the Python API: each is a clear error naming the function or layer.

One table, easy to extend: a row is ``(call, exception type, substring)``. The
test calls ``call()`` and asserts that it raises that type with a message that
contains the substring, which names the function or layer (and usually what
was expected). The rows follow the classes of issue 15: constructors and
hyper-parameters, state, checker misuse, backends, silent promotion in forward
and backward, non-numeric host data. Checks that need a file (checkpoints, IDX
data) or a model's life cycle (stale caches) sit below the table.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

import npgen
from npgen import functional as F
from npgen import nn
from npgen.gradcheck import check_module, check_vjp, numerical_gradient
from npgen.optim import SGD, Adam, adam_init, adam_update, sgd_update
from npgen.optim.sgd import sgd_init


def f32(*shape):
    return npgen.asarray(np.random.default_rng(0).normal(size=shape), dtype="float32")


def f64(*shape):
    return npgen.asarray(np.random.default_rng(1).normal(size=shape), dtype="float64")


def strict(array, device="device1"):
    """``array`` on array_api_strict's ``device`` (to mix devices on purpose)."""
    import array_api_strict

    return array_api_strict.asarray(np.asarray(array), device=array_api_strict.Device(device))


def backward_with(layer, x, dy_dtype):
    """Run ``layer(x)``, then its backward with a dy of ``dy_dtype`` (no cast expected)."""
    y = layer(x)
    return layer.backward(npgen.asarray(np.ones(tuple(y.shape), dtype=dy_dtype)))


def torch_backend(device):
    pytest.importorskip("torch")
    with npgen.use_backend("torch", device):
        pass


def _forward_then_load(opt_state_key, value):
    params = {"w": f32(2)}
    opt = Adam(params)
    opt.step({"w": f32(2)})
    state = opt.state_dict()
    state[opt_state_key] = value
    return opt.load_state_dict(state)


CASES = [
    # --- constructors and hyper-parameters --------------------------------------------------
    ("Dense seed=-1", lambda: nn.Dense(4, 3, seed=-1), ValueError, "Dense: seed"),
    ("Dense seed='a'", lambda: nn.Dense(4, 3, seed="a"), TypeError, "Dense: seed"),
    ("ReLU seed=-3", lambda: nn.ReLU(seed=-3), ValueError, "ReLU: seed"),
    ("BatchNorm1d eps='a'", lambda: nn.BatchNorm1d(3, eps="a"), TypeError, "BatchNorm1d: eps"),
    ("BatchNorm2d eps=-1", lambda: nn.BatchNorm2d(3, eps=-1.0), ValueError, "BatchNorm2d: eps"),
    ("LeakyReLU('a')", lambda: nn.LeakyReLU("a"), TypeError, "LeakyReLU: negative_slope"),
    ("LeakyReLU(None)", lambda: nn.LeakyReLU(None), TypeError, "LeakyReLU: negative_slope"),
    ("leaky_relu_forward slope 'x'", lambda: F.leaky_relu_forward(f32(2, 3), "x"), TypeError,
     "leaky_relu_forward: negative_slope"),
    ("Unflatten(1, 5)", lambda: nn.Unflatten(1, 5), TypeError, "Unflatten: sizes"),
    ("Unflatten(1, 'ab')", lambda: nn.Unflatten(1, "ab"), TypeError, "Unflatten: sizes"),
    # --- state ------------------------------------------------------------------------------
    ("Module.load_state_dict str array",
     lambda: nn.Dense(2, 2).load_state_dict({"weight": np.array([["a", "b"], ["c", "d"]]),
                                             "bias": np.zeros(2)}),
     TypeError, "Dense.load_state_dict: 'weight'"),
    ("Module.load_state_dict object array",
     lambda: nn.Dense(3, 1).load_state_dict({"weight": np.array([[None, 1, 2]], dtype=object),
                                             "bias": np.zeros(1)}),
     TypeError, "Dense.load_state_dict: 'weight'"),
    ("Module.load_state_dict int64 into float32",
     lambda: nn.Dense(2, 1).load_state_dict({"weight": np.ones((1, 2), dtype=np.int64),
                                             "bias": np.zeros(1)}),
     TypeError, "Dense.load_state_dict: 'weight'"),
    ("Adam.load_state_dict list", lambda: Adam({"w": f32(2)}).load_state_dict([1, 2]),
     TypeError, "Adam.load_state_dict"),
    ("Adam.load_state_dict str exp_avg",
     lambda: _forward_then_load("state.w.exp_avg", np.array(["a", "b"])),
     TypeError, "Adam.load_state_dict: 'state.w.exp_avg'"),
    ("adam_update state of another shape",
     lambda: adam_update(f32(2), f32(2), adam_init(f32(3))), ValueError,
     "adam_update: state.exp_avg has shape (3,)"),
    ("adam_update state of another dtype",
     lambda: adam_update(f32(2), f32(2), adam_init(f64(2))), TypeError,
     "adam_update: state.exp_avg is float64"),
    ("sgd_update momentum buffer of another shape",
     lambda: sgd_update(f32(2), f32(2), sgd_init(f32(2))._replace(momentum_buffer=f32(3)),
                        lr=0.1, momentum=0.9),
     ValueError, "sgd_update: state.momentum_buffer"),
    ("SGD.load_state_dict None", lambda: SGD({"w": f32(2)}, lr=0.1).load_state_dict(None),
     TypeError, "SGD.load_state_dict"),
    # --- checker misuse ---------------------------------------------------------------------
    ("numerical_gradient on a list", lambda: numerical_gradient(lambda x: x[0], [1.0, 2.0]),
     TypeError, "numerical_gradient: x must be an array"),
    ("numerical_gradient f returns an array",
     lambda: numerical_gradient(lambda x: x * 2.0, f64(3)), ValueError,
     "numerical_gradient: f must return a scalar"),
    ("numerical_gradient int input",
     lambda: numerical_gradient(lambda x: x[0], npgen.asarray(np.arange(3))), TypeError,
     "numerical_gradient: x is int64"),
    ("check_vjp bare array inputs", lambda: check_vjp(lambda x: x, lambda dy, x: (dy,), f64(3)),
     TypeError, "check_vjp: inputs must be a tuple"),
    ("check_vjp list holding a list",
     lambda: check_vjp(lambda x: x, lambda dy, x: (dy,), ([1.0, 2.0],)),
     TypeError, "check_vjp: inputs[0] must be an array"),
    ("check_vjp int input in wrt",
     lambda: check_vjp(lambda x: x * 1.0, lambda dy, x: (dy,), (npgen.asarray(np.arange(3)),),
                       wrt=(0,)),
     TypeError, "check_vjp: inputs[0] (in wrt) is int64"),
    ("check_vjp f returns a string", lambda: check_vjp(lambda x: "y", lambda dy, x: (dy,),
                                                       (f64(2),)),
     TypeError, "check_vjp: f must return an array or a float"),
    ("check_module on a function", lambda: check_module(lambda x: x, f64(2, 3)), TypeError,
     "check_module: module must be an npgen Module"),
    ("check_module int input", lambda: check_module(nn.Dense(3, 2, dtype="float64"),
                                                    npgen.asarray(np.ones((2, 3), dtype=int))),
     TypeError, "check_module: x is int64"),
    # --- backends and host data ---------------------------------------------------------------
    ("set_backend strict device9", lambda: npgen.set_backend("array_api_strict", "device9"),
     ValueError, "npgen backend 'array_api_strict'"),
    ("use_backend torch tpu", lambda: torch_backend("tpu"),
     ValueError, "npgen backend 'torch'"),
    ("asarray ragged", lambda: npgen.asarray([[1, 2], [3]]), ValueError, "npgen.asarray"),
    ("asarray str", lambda: npgen.asarray("abc"), TypeError, "npgen.asarray"),
    ("asarray object", lambda: npgen.asarray([object()]), TypeError, "npgen.asarray"),
    ("to_numpy object", lambda: npgen.to_numpy(object()), TypeError, "npgen.to_numpy"),
    ("dense_forward x on device1, weight on CPU",
     lambda: F.dense_forward(strict(np.ones((2, 3))), strict(np.ones((4, 3)), "CPU_DEVICE")),
     TypeError, "dense_forward: weight is on array_api_strict/"),
    ("batchnorm_forward x on device1, weight on CPU",
     lambda: F.batchnorm_forward(strict(np.ones((2, 3))), strict(np.ones(3), "CPU_DEVICE"),
                                 None, None, None, training=True),
     TypeError, "batchnorm_forward: weight is on array_api_strict/"),
    # --- forward promotion ------------------------------------------------------------------
    ("dense_forward f64 x, f32 w", lambda: F.dense_forward(f64(2, 3), f32(4, 3)), TypeError,
     "dense_forward: weight is float32 but the input is float64"),
    ("dense_forward int64 weight",
     lambda: F.dense_forward(f32(2, 3), npgen.asarray(np.ones((4, 3), dtype=np.int64))),
     TypeError, "dense_forward: expected a floating-point weight"),
    ("dense_forward f64 bias", lambda: F.dense_forward(f32(2, 3), f32(4, 3), f64(4)), TypeError,
     "dense_forward: bias is float64"),
    ("batchnorm_forward f64 x, f32 w",
     lambda: F.batchnorm_forward(f64(4, 3), f32(3), f32(3), None, None, training=True),
     TypeError, "batchnorm_forward: weight is float32"),
    ("batchnorm_forward f32 running_var",
     lambda: F.batchnorm_forward(f64(4, 3), None, None, f64(3), f32(3), training=False),
     TypeError, "batchnorm_forward: running_var is float32"),
    ("ConvTranspose2d on a (1, 3, 0, 0) input",
     lambda: nn.ConvTranspose2d(3, 4, 3, stride=2)(f32(1, 3, 0, 0)), ValueError,
     "ConvTranspose2d(3, 4, kernel_size=(3, 3))"),
    ("conv2d_forward on a (1, 3, 5, 0) input",
     lambda: F.conv2d_forward(f32(1, 3, 5, 0), f32(2, 3, 1, 1)), ValueError,
     "conv2d: expected an input (N, C, H, W) with C, H, W >= 1"),
    # --- backward promotion -----------------------------------------------------------------
    ("ReLU.backward f64 dy", lambda: backward_with(nn.ReLU(), f32(2, 3), np.float64), TypeError,
     "ReLU.backward: dy is float64"),
    ("LeakyReLU.backward f64 dy", lambda: backward_with(nn.LeakyReLU(), f32(2, 3), np.float64),
     TypeError, "LeakyReLU.backward: dy is float64"),
    ("Dropout.backward f64 dy", lambda: backward_with(nn.Dropout(0.5, seed=0), f32(2, 3),
                                                      np.float64),
     TypeError, "Dropout.backward: dy is float64"),
    ("Flatten.backward f64 dy", lambda: backward_with(nn.Flatten(), f32(2, 3, 2), np.float64),
     TypeError, "Flatten.backward: dy is float64"),
    ("Flatten.backward int64 dy", lambda: backward_with(nn.Flatten(), f32(2, 3, 2), np.int64),
     TypeError, "Flatten.backward: dy is int64"),
    ("Unflatten.backward f32 dy",
     lambda: backward_with(nn.Unflatten(1, (3, 2), dtype="float64"), f64(2, 6), np.float32),
     TypeError, "Unflatten.backward: dy is float32"),
    ("dropout_backward f64 dy after a f32 forward",
     lambda: F.dropout_backward(f64(2, 3), F.dropout_forward(f32(2, 3), 0.5, f32(2, 3))[1]),
     TypeError, "dropout_backward: dy is float64"),
    ("relu_backward f64 dy after a f32 forward",
     lambda: F.relu_backward(f64(2, 3), F.relu_forward(f32(2, 3))[1]),
     TypeError, "relu_backward: dy is float64 but the forward output is float32"),
    ("relu_double_backward f64 dy after a f32 forward",
     lambda: F.relu_double_backward(f32(2, 3), f64(2, 3), F.relu_forward(f32(2, 3))[1]),
     TypeError, "relu_double_backward: dy is float64"),
    ("leaky_relu_backward f32 dy after a f64 forward",
     lambda: F.leaky_relu_backward(f32(2, 3), F.leaky_relu_forward(f64(2, 3))[1]),
     TypeError, "leaky_relu_backward: dy is float32 but the forward output is float64"),
    ("flatten_backward f64 dy after a f32 forward",
     lambda: F.flatten_backward(f64(2, 6), F.flatten_forward(f32(2, 3, 2))[1]),
     TypeError, "flatten_backward: dy is float64 but the forward output is float32"),
    ("flatten_backward int64 dy",
     lambda: F.flatten_backward(npgen.asarray(np.ones((2, 6), dtype=np.int64)),
                                F.flatten_forward(f32(2, 3, 2))[1]),
     TypeError, "flatten_backward: dy is int64"),
    ("unflatten_backward f64 dy after a f32 forward",
     lambda: F.unflatten_backward(f64(2, 3, 2), F.unflatten_forward(f32(2, 6), 1, (3, 2))[1]),
     TypeError, "unflatten_backward: dy is float64 but the forward output is float32"),
    ("unflatten_double_backward f64 ddx after a f32 forward",
     lambda: F.unflatten_double_backward(f64(2, 6), f32(2, 3, 2),
                                         F.unflatten_forward(f32(2, 6), 1, (3, 2))[1]),
     TypeError, "unflatten_double_backward: ddx is float64 but the forward input is float32"),
    ("Sequential.backward f64 dy",
     lambda: backward_with(nn.Sequential(nn.Dense(3, 2), nn.ReLU()), f32(2, 3), np.float64),
     TypeError, "Sequential.backward: dy is float64"),
]


@pytest.mark.parametrize("call, error, names", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error(call, error, names):
    """Raises ``error`` whose message names the function or layer (and what was wrong)."""
    pytest.importorskip("array_api_strict")
    with pytest.raises(error) as caught:
        call()
    assert names in str(caught.value), str(caught.value)


# --- outside the table: a module's life cycle, scalar losses, devices, files -------------------


def test_failed_forward_clears_the_cache_so_backward_refuses():
    """m(x), then a failing m(bad): backward must not return the gradient at the stale x."""
    for model in (nn.Dense(3, 2), nn.Sequential(nn.Dense(3, 2), nn.ReLU(), nn.Dense(2, 1))):
        model(f32(4, 3))
        with pytest.raises(ValueError):
            model(f32(4, 5))
        with pytest.raises(RuntimeError, match="Dense.backward called before forward"):
            model.backward(f32(4, 2 if isinstance(model, nn.Dense) else 1))


def test_a_scalar_loss_returned_as_a_python_float_or_list_is_checked():
    """f may return a Python float (or a one-item list) where a scalar is needed."""
    x = f64(3)
    grad = numerical_gradient(lambda v: float(npgen.to_numpy(v @ v)), x)
    np.testing.assert_allclose(npgen.to_numpy(grad), 2 * npgen.to_numpy(x), rtol=1e-8)
    grad = numerical_gradient(lambda v: [float(npgen.to_numpy(v @ v))], x)
    np.testing.assert_allclose(npgen.to_numpy(grad), 2 * npgen.to_numpy(x), rtol=1e-8)
    report = check_vjp(lambda v: float(npgen.to_numpy(v @ v)), lambda dy, v: (2 * v * dy,), (x,))
    assert report.ok


def test_torch_cuda_is_refused_at_selection_on_a_cpu_only_build():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this torch has CUDA: 'cuda:0' is a valid device here")
    with pytest.raises(ValueError, match="npgen backend 'torch': device 'cuda:0' cannot be used"):
        npgen.set_backend("torch", "cuda:0")
    assert npgen.get_backend().name == "numpy"  # the selection did not happen


def test_an_empty_idx_data_set_is_refused(tmp_path):
    from npgen.data.idx import IDX_FILES, load_idx_dataset

    headers = {"images": (b"\x00\x00\x08\x03", (0, 28, 28)), "labels": (b"\x00\x00\x08\x01", (0,))}
    for key, stem in IDX_FILES.items():
        magic, dims = headers["images" if key.endswith("images") else "labels"]
        body = b"".join(int(d).to_bytes(4, "big") for d in dims)
        (tmp_path / stem).write_bytes(magic + body)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte holds no images"):
        load_idx_dataset(tmp_path)


def test_sample_refuses_a_checkpoint_with_nan_weights(tmp_path, capsys):
    """Exit 2 and a message naming the file and the member, never a grid of NaN pictures."""
    pytest.importorskip("matplotlib")  # npgen train draws its pictures with it (examples extra)
    from npgen.cli import main

    out = tmp_path / "run"
    assert main(["train", "gan", "--epochs", "1", "--out", str(out), "--data", "ring",
                 "--hidden", "8", "--batch-size", "1000", "--no-progress"]) == 0
    path = out / "checkpoint.npz"
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    weight = next(name for name in members if name.startswith("model/") and "weight" in name)
    with zipfile.ZipFile(path) as archive, archive.open(weight) as handle:
        array = np.lib.format.read_array(handle)
    buffer = io.BytesIO()
    np.save(buffer, np.full_like(array, np.nan))
    members[weight] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    capsys.readouterr()
    assert main(["sample", str(path), "--n", "4", "--out", str(tmp_path / "s.npz")]) == 2
    message = capsys.readouterr().err
    assert "checkpoint.npz" in message and weight.removesuffix(".npy") in message
    assert "NaN" in message and not (tmp_path / "s.npz").exists()
