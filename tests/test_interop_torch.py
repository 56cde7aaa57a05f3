"""The PyTorch bridge: weights round-trip, outputs agree in float64, unsupported layers named."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import npgen


def _net(torch, dtype):
    """A small DCGAN-style stack touching every supported layer type."""
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(2, 3, 3, stride=2, padding=1, dilation=1), nn.BatchNorm2d(3),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), nn.Tanh(),
        nn.Flatten(), nn.Linear(2 * 6 * 6, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.25),
        nn.Sequential(nn.Linear(4, 6), nn.Sigmoid()), nn.Unflatten(1, (2, 3)),
    ).to(dtype)
    for module in net.modules():  # non-trivial running statistics
        if isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
            module.num_batches_tracked.fill_(7)
    return net


def test_import_npgen_does_not_import_torch():
    code = ("import sys, npgen, npgen.verify, npgen.nn, npgen.interop; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_torch_gives_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    monkeypatch.delitem(sys.modules, "npgen.interop.torch", raising=False)
    with pytest.raises(ImportError, match=r'pip install "npgen\[torch\]"'):
        import npgen.interop.torch  # noqa: F401


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_weights_round_trip(dtype_name):
    torch = pytest.importorskip("torch")
    from npgen.interop.torch import from_torch, to_torch

    net = _net(torch, getattr(torch, dtype_name))
    twin = from_torch(net)
    assert all(npgen.backend.dtype_name(p.dtype) == dtype_name
               for p in twin.parameters().values())
    back = to_torch(twin)
    original, returned = net.state_dict(), back.state_dict()
    assert list(original) == list(returned)
    for key in original:
        assert original[key].dtype == returned[key].dtype, key
        assert torch.equal(original[key], returned[key]), key
    assert back.training == net.training


@pytest.mark.parametrize("training", [False, True])
def test_outputs_agree_in_float64(backend, training):
    torch = pytest.importorskip("torch")
    from npgen.interop.torch import from_torch

    net = _net(torch, torch.float64).train(training)
    net[9].p = 0.0  # dropout masks are random; p=0 keeps train mode deterministic
    twin = from_torch(net)
    x = np.random.default_rng(1).standard_normal((3, 2, 6, 6))
    expected = net(torch.as_tensor(x)).detach().numpy()
    got = npgen.to_numpy(twin(npgen.asarray(x, dtype="float64")))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13)
    assert twin.training == training


def test_compare_with_torch_reports_zero_for_a_correct_stack():
    torch = pytest.importorskip("torch")
    from npgen.interop.torch import compare_with_torch

    net = _net(torch, torch.float32)
    net[9].p = 0.0
    report = compare_with_torch(net, np.random.default_rng(2).standard_normal((2, 2, 6, 6)))
    assert report.ok, str(report)
    names = set(report.max_abs_err)
    assert {"y", "dx", "grad[0.weight]", "grad[10.0.bias]", "buffer[1.running_var]"} <= names
    assert max(report.max_abs_err.values()) < 1e-12
    assert net[0].weight.dtype == torch.float32  # the user's module is untouched


def test_compare_with_torch_catches_a_wrong_backward(monkeypatch):
    torch = pytest.importorskip("torch")
    from npgen.interop.torch import compare_with_torch

    monkeypatch.setattr(npgen.nn.LeakyReLU, "_backward", lambda self, dy, cache: dy)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LeakyReLU(0.1))
    report = compare_with_torch(net, np.random.default_rng(0).standard_normal((5, 3)))
    assert not report.ok
    failed = {c.name for c in report.comparisons if not c.ok}
    assert "dx" in failed and "grad[0.weight]" in failed and "y" not in failed


def test_unsupported_layers_are_named():
    torch = pytest.importorskip("torch")
    from npgen.interop.torch import compare_with_torch, from_torch

    nn = torch.nn
    with pytest.raises(TypeError, match=r"item 1: layer MaxPool2d.*not supported"):
        from_torch(nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2)))
    with pytest.raises(TypeError, match="groups=1"):
        from_torch(nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)))
    with pytest.raises(TypeError, match="groups=1"):
        from_torch(nn.Conv2d(1, 1, 3, padding="same"))
    with pytest.raises(ValueError, match="training mode"):
        compare_with_torch(nn.Sequential(nn.Dropout(0.5)), np.zeros((2, 3)))


def test_single_layer_and_eval_mode_running_stats():
    torch = pytest.importorskip("torch")
    from npgen.interop.torch import from_torch, to_torch

    layer = _net(torch, torch.float64)[1].eval()  # BatchNorm2d with running statistics
    twin = from_torch(layer)
    assert isinstance(twin, npgen.nn.BatchNorm2d) and not twin.training
    np.testing.assert_array_equal(twin.state_dict()["running_var"],
                                  layer.running_var.numpy())
    assert int(twin.state_dict()["num_batches_tracked"]) == 7
    assert isinstance(to_torch(twin), torch.nn.BatchNorm2d)


# Custom modules: subclasses, twins with a name mapping, custom batch norm buffers ------------


def _batch_norm_module(torch, unbiased=False):
    class MyBatchNorm(torch.nn.BatchNorm1d):
        """Their own training-mode forward (running statistics updated as torch does)."""

        def forward(self, x):
            mean, var = x.mean(0), x.var(0, unbiased=unbiased)
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * x.var(0, unbiased=True))
                self.num_batches_tracked += 1
            return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias

    return MyBatchNorm


@pytest.mark.parametrize("unbiased", [False, True])
def test_a_batchnorm_subclass_is_compared_buffers_included(unbiased):
    torch = pytest.importorskip("torch")
    from npgen.interop.torch import compare_with_torch

    module = _batch_norm_module(torch, unbiased)(4)
    report = compare_with_torch(module, np.random.default_rng(0).standard_normal((5, 4)))
    names = {c.name for c in report.comparisons}
    assert {"buffer[running_mean]", "buffer[running_var]", "grad[weight]"} <= names
    assert report.ok != unbiased, str(report)  # the unbiased variance in the forward is a bug


def _custom_linear(torch, scale=1.0):
    class MyLinear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.W = torch.nn.Parameter(torch.randn(4, 3))  # (out, in)
            self.c = torch.nn.Parameter(torch.randn(4))

        def forward(self, x):
            return x @ (scale * self.W).T + self.c

    torch.manual_seed(0)
    return MyLinear()


@pytest.mark.parametrize("scale", [1.0, 1.001])
def test_a_custom_module_with_an_npgen_twin(scale):
    torch = pytest.importorskip("torch")
    from npgen.interop.torch import compare_with_torch

    x = np.random.default_rng(1).standard_normal((2, 3))
    module = _custom_linear(torch, scale)
    with pytest.raises(TypeError, match="pass twin="):
        compare_with_torch(module, x)
    twin = npgen.nn.Dense(3, 4, dtype="float64")
    by_order = compare_with_torch(module, x, twin=twin)  # names differ, shapes in order agree
    explicit = compare_with_torch(module, x, twin=twin, mapping={"W": "weight", "c": "bias"})
    for report in (by_order, explicit):
        assert report.ok == (scale == 1.0), str(report)
        assert {c.name for c in report.comparisons} == {"y", "dx", "grad[W]", "grad[c]"}
    assert "theirs = the torch module, reference = npgen's twin" in str(by_order)
    with pytest.raises(ValueError, match="mapping names unknown keys"):
        compare_with_torch(module, x, twin=twin, mapping={"W": "kernel"})
    with pytest.raises(ValueError, match="dtype='float64'"):
        compare_with_torch(module, x, twin=npgen.nn.Dense(3, 4))


def test_a_custom_batchnorm_without_num_batches_tracked_raises_no_false_alarm():
    torch = pytest.importorskip("torch")
    from npgen.interop.torch import compare_with_torch

    class PlainBatchNorm(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.rand(n) + 0.5)
            self.bias = torch.nn.Parameter(torch.randn(n))
            self.register_buffer("running_mean", torch.zeros(n))
            self.register_buffer("running_var", torch.ones(n))

        def forward(self, x):
            with torch.no_grad():
                self.running_mean.lerp_(x.mean(0), 0.1)
                self.running_var.lerp_(x.var(0, unbiased=True), 0.1)
            xhat = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5)
            return xhat * self.weight + self.bias

    twin = npgen.nn.BatchNorm1d(3, dtype="float64")
    report = compare_with_torch(PlainBatchNorm(3), np.random.default_rng(2).normal(size=(6, 3)),
                                twin=twin)
    assert report.ok, str(report)
    assert {"buffer[running_mean]", "buffer[running_var]"} <= set(report.max_abs_err)


def test_ok_is_never_printed_beside_an_infinite_relative_error():
    from npgen.verify.report import compare_arrays

    tiny = compare_arrays("dx", np.array([1e-12, 1.0]), np.array([0.0, 1.0]), 1e-7, 1e-9)
    assert tiny.ok and tiny.rel_err == 0.0 and "inf" not in tiny.describe()
    large = compare_arrays("dx", np.array([1e-6, 1.0]), np.array([0.0, 1.0]), 1e-7, 1e-9)
    assert not large.ok and large.rel_err == float("inf")
