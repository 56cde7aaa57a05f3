"""``npgen gradcheck``: every op checked, failures reported with exit status 1, any backend."""

from __future__ import annotations

import re

import pytest

import npgen
from npgen import functional, losses
from npgen import gradcheck_suite as suite
from npgen.cli import main


@pytest.fixture
def numpy_global():
    """cli.main sets the global backend: run it inside a block that restores it."""
    before = npgen.get_backend()
    with npgen.use_backend("numpy"):
        yield
    assert npgen.get_backend() == before


def _rows(out: str) -> dict:
    """op name -> status from the printed table."""
    rows = {}
    for line in out.splitlines():
        match = re.match(r"^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(ok|FAILED|no configurations)$", line)
        if match:
            rows[match.group(1)] = (int(match.group(2)), match.group(5))
    return rows


def test_every_op_passes_on_numpy(numpy_global, capsys):
    assert main(["gradcheck", "--examples", "2"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert list(rows) == list(suite.OPS)
    assert all(row == (2, "ok") for row in rows.values())


def test_every_op_passes_on_every_backend_row(backend):
    results = suite.run_suite(examples=1, seed=3)
    assert [r.name for r in results] == list(suite.OPS)
    assert [r.name for r in results if r.status != "ok"] == []


def test_the_registry_covers_every_public_op():
    forward_ops = {name.removesuffix("_forward") for name in functional.__all__
                   if name.endswith("_forward")}
    # negative_elbo_terms and reconstruction_nll are negative_elbo's pieces, checked through it
    loss_ops = {name for name in losses.__all__ if name.islower() and not name.endswith(
        "_backward")} - {"negative_elbo_terms", "reconstruction_nll"}
    base_names = {name.split("[")[0] for name in suite.OPS}
    assert forward_ops | loss_ops <= base_names
    modules = {"nn.Dense", "nn.Conv2d", "nn.ConvTranspose2d", "nn.BatchNorm1d", "nn.BatchNorm2d"}
    assert modules <= base_names


def _wrong_relu_vjp(config, dy, x):
    return (functional.relu_backward(dy, functional.relu_forward(x)[1]) * 1.01,)


def test_a_broken_backward_fails_with_status_1(numpy_global, capsys, monkeypatch):
    monkeypatch.setitem(suite.OPS, "relu", suite.OPS["relu"]._replace(vjp=_wrong_relu_vjp))
    assert main(["gradcheck", "--ops", "relu,tanh", "-k", "2"]) == 1
    out = capsys.readouterr().out
    assert _rows(out) == {"relu": (2, "FAILED"), "tanh": (2, "ok")}
    assert "FAILED: relu" in out
    assert "gradient check FAILED for x" in out  # the checker's report names the input


def test_an_op_that_raises_fails_its_row(numpy_global, capsys, monkeypatch):
    def crash(config, x):
        raise ValueError("boom")

    monkeypatch.setitem(suite.OPS, "tanh", suite.OPS["tanh"]._replace(forward=crash))
    assert main(["gradcheck", "--ops", "tanh", "-k", "1"]) == 1
    assert "raised ValueError: boom" in capsys.readouterr().out


def test_runs_on_array_api_strict_device1(numpy_global, capsys):
    pytest.importorskip("array_api_strict")
    argv = ["gradcheck", "--backend", "array_api_strict", "--device", "device1",
            "--ops", "conv_transpose2d,nn.BatchNorm2d,negative_elbo", "-k", "2"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "device1" in out
    assert set(_rows(out)) == {"conv_transpose2d", "nn.BatchNorm2d",
                               "negative_elbo[bernoulli]", "negative_elbo[gaussian]"}
    with npgen.use_backend("array_api_strict", "device1") as active:
        case = suite.draw_cases(suite.OPS["conv2d"], 1)[0]
        assert all(x.device == active.device for x in case.inputs)


def test_unknown_op_and_list(numpy_global, capsys):
    assert main(["gradcheck", "--ops", "conv3d"]) == 2
    assert "unknown op 'conv3d'" in capsys.readouterr().err
    assert main(["gradcheck", "--list"]) == 0
    assert capsys.readouterr().out.split() == list(suite.OPS)


def test_select_ops_expands_base_names():
    names = [op.name for op in suite.select_ops(["batchnorm", "dense", "batchnorm[eval]"])]
    assert names == ["batchnorm[train]", "batchnorm[eval]", "dense"]


def test_configurations_are_reproducible_and_vary_with_the_seed():
    op = suite.OPS["conv2d"]
    first = [c.describe() for c in suite.draw_cases(op, 4, seed=0)]
    assert first == [c.describe() for c in suite.draw_cases(op, 4, seed=0)]
    assert first != [c.describe() for c in suite.draw_cases(op, 4, seed=1)]
    assert len(set(first)) > 1
