"""Smoke tests of ``npgen train``, ``npgen sample`` and ``npgen demo`` with tiny budgets (numpy)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from npgen.cli import main
from npgen.commands import demo
from npgen.training import TrainConfig

TINY_VAE = ["--hidden", "8", "--latent-dim", "2", "--batch-size", "256", "--no-progress"]
TINY_RING = ["--data", "ring", "--hidden", "8", "--batch-size", "1000", "--no-progress"]


def test_train_vae_then_resume_then_sample(tmp_path, capsys):
    out = tmp_path / "vae"
    assert main(["train", "vae", "--epochs", "1", "--out", str(out), *TINY_VAE]) == 0
    assert main(["train", "vae", "--epochs", "2", "--out", str(out), "--resume",
                 "--no-progress"]) == 0
    assert json.loads((out / "metrics.json").read_text())["metrics"]["epoch"] == 2
    assert "test_negative_elbo=" in capsys.readouterr().out

    assert main(["sample", str(out / "checkpoint.npz"), "--n", "5",
                 "--out", str(tmp_path / "s.npz")]) == 0
    with np.load(tmp_path / "s.npz") as archive:
        samples = archive["samples"]
    assert samples.shape == (5, 1, 8, 8) and samples.min() >= 0.0 and samples.max() <= 1.0
    assert main(["sample", str(out / "checkpoint.npz"), "--n", "4",
                 "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_train_toy_gan_and_sample_scatter(tmp_path):
    out = tmp_path / "ring"
    assert main(["train", "gan", "--epochs", "1", "--out", str(out), *TINY_RING]) == 0
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    assert set(metrics) == {"epoch", "train_d_loss", "train_g_loss", "train_d_real",
                            "train_d_fake", "modes_covered", "num_modes",
                            "high_quality_fraction", "seconds"}
    assert metrics["epoch"] == 1 and metrics["num_modes"] == 8  # the ring has 8 modes
    assert type(metrics["modes_covered"]) is int and 0 <= metrics["modes_covered"] <= 8
    for key in ("train_d_loss", "train_g_loss", "train_d_real", "train_d_fake"):
        assert type(metrics[key]) is float and math.isfinite(metrics[key]), key
    assert metrics["train_d_loss"] > 0 and metrics["train_g_loss"] > 0  # BCE sums
    assert 0 < metrics["train_d_real"] < 1 and 0 < metrics["train_d_fake"] < 1  # mean D(x)
    assert 0.0 <= metrics["high_quality_fraction"] <= 1.0
    history = json.loads((out / "history.json").read_text())
    assert history == [{k: v for k, v in metrics.items() if k != "seconds"}]  # one epoch
    assert main(["sample", str(out / "checkpoint.npz"), "--n", "50",
                 "--out", str(tmp_path / "points.png")]) == 0
    assert main(["sample", str(out / "checkpoint.npz"), "--n", "7",
                 "--out", str(tmp_path / "points.npz")]) == 0
    with np.load(tmp_path / "points.npz") as archive:
        assert archive["samples"].shape == (7, 2)


def test_cli_errors_are_clear(tmp_path, capsys):
    assert main(["train", "vae", "--epochs", "1", "--out", str(tmp_path), "--resume",
                 "--no-progress"]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert main(["sample", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "x.png")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["sample", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "x.jpg")]) == 2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that leads to the NaN
def test_non_finite_run_exits_with_the_message(tmp_path, capsys):
    status = main(["train", "vae", "--epochs", "1", "--lr", "1e12", "--batch-size", "16",
                   "--hidden", "8", "--out", str(tmp_path), "--no-progress"])
    assert status == 1
    assert "non-finite loss at epoch 1, step" in capsys.readouterr().err


def test_demo_quick_writes_pictures_and_metrics(tmp_path, monkeypatch, capsys):
    tiny = {
        "vae": TrainConfig(model="vae", arch="conv", channels=2, latent_dim=2, batch_size=256),
        "dcgan": TrainConfig(model="gan", arch="conv", channels=2, latent_dim=2,
                             batch_size=256, extra={"scores": False}),
        "ring": TrainConfig(model="gan", data="ring", hidden=8, depth=2, latent_dim=2,
                            batch_size=1000),
    }
    monkeypatch.setattr(demo, "DEMO_CONFIGS", tiny)
    assert main(["demo", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    document = json.loads((tmp_path / "metrics.json").read_text())
    assert set(document["runs"]) == {"vae", "dcgan", "ring"}
    for name, picture in [("vae", "reconstructions.png"), ("vae", "interpolation.png"),
                          ("dcgan", "samples.png"), ("ring", "samples.png")]:
        assert (tmp_path / name / picture).is_file()
    assert "npgen demo:" in capsys.readouterr().out
