"""Training runs: exact resume, atomic checkpoints under a crash, the non-finite guard.

These are training smoke tests: they run on the numpy backend only (the
default global backend), except one tiny array_api_strict-device1 epoch of
each loop that proves the loops are device-clean.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

import npgen
import npgen.checkpoint
from npgen import evaluation
from npgen.checkpoint import load_checkpoint
from npgen.training import NonFiniteLossError, TrainConfig, save_run, start_run, train
from npgen.training import run as run_module
from npgen.training.gan_loop import gan_epoch_row, sample_scores, train_gan_epoch
from npgen.training.vae_loop import train_vae_epoch, vae_epoch_row

CONFIGS = {  # tiny versions of each kind of run
    "vae-mlp": dict(model="vae", data="digits", arch="mlp", hidden=8, latent_dim=2,
                    batch_size=256),
    "vae-conv": dict(model="vae", data="digits", arch="conv", channels=2, latent_dim=2,
                     batch_size=256),
    "dcgan": dict(model="gan", data="digits", arch="conv", channels=2, latent_dim=2,
                  batch_size=256, extra={"scores": False}),
    "toy-gan": dict(model="gan", data="ring", arch="mlp", hidden=8, depth=2, latent_dim=2,
                    batch_size=1000, eval_samples=100),
}


def _config(name, **changes):
    return TrainConfig(**{**CONFIGS[name], **changes})


def _quiet_train(config, out, **kwargs):
    return train(config, out, progress=False, make_pictures=False, log=lambda line: None,
                 **kwargs)


@pytest.mark.parametrize("name", ["vae-mlp", "dcgan", "toy-gan"])
def test_resume_is_bit_identical(tmp_path, name):
    _quiet_train(_config(name, epochs=2), tmp_path / "straight")
    _quiet_train(_config(name, epochs=1), tmp_path / "split")  # "interrupted" after epoch 1
    _quiet_train(_config(name, epochs=2), tmp_path / "split", resume=True)
    a = load_checkpoint(tmp_path / "straight" / "checkpoint.npz")
    b = load_checkpoint(tmp_path / "split" / "checkpoint.npz")
    assert a.epoch == b.epoch == 2
    for key, value in a.model_state["model"].items():
        assert np.array_equal(value, b.model_state["model"][key]), key
    for opt, state in a.optimizer_state.items():
        for key, value in state.items():
            assert np.array_equal(np.asarray(value), np.asarray(b.optimizer_state[opt][key]))
    assert a.rng_state == _jsonable(b.rng_state)
    assert a.extra["history"] == b.extra["history"]


def _jsonable(tree):
    return json.loads(json.dumps(tree))


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        start_run(_config("vae-mlp", epochs=1), tmp_path, resume=True)


def test_crash_while_replacing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    _quiet_train(_config("vae-mlp", epochs=1), tmp_path)
    before = (tmp_path / "checkpoint.npz").read_bytes()

    def crash(src, dst):  # dies after the temporary file is complete, before the rename
        raise OSError("simulated crash during os.replace")

    monkeypatch.setattr(npgen.checkpoint.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        _quiet_train(_config("vae-mlp", epochs=2), tmp_path, resume=True)
    monkeypatch.undo()
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    assert load_checkpoint(tmp_path / "checkpoint.npz").epoch == 1
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def _poison(monkeypatch, name):
    """From now on a resumed run gets NaN pixels (VAE) or a NaN in D's last bias (GAN)."""
    if name.startswith("vae"):
        original = run_module.load_data

        def load_data(config):
            data = original(config)
            return dataclasses.replace(data, train=np.full_like(data.train, np.nan))

        monkeypatch.setattr(run_module, "load_data", load_data)
        return
    restore = run_module._restore

    def poisoned_restore(run, saved):
        restore(run, saved)
        bias = list(run.model.discriminator.parameters().values())[-1]
        bias[...] = np.nan

    monkeypatch.setattr(run_module, "_restore", poisoned_restore)


@pytest.mark.parametrize(("name", "term"), [("vae-mlp", "negative ELBO"),
                                            ("toy-gan", "discriminator loss")])
def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch,
                                                                  name, term):
    _quiet_train(_config(name, epochs=1), tmp_path)
    good = (tmp_path / "checkpoint.npz").read_bytes()
    _poison(monkeypatch, name)
    with pytest.raises(NonFiniteLossError, match=f"epoch 2, step 1: the {term} is nan") as info:
        _quiet_train(_config(name, epochs=2), tmp_path, resume=True)
    assert "checkpoint.npz is kept" in str(info.value)
    assert (tmp_path / "checkpoint.npz").read_bytes() == good


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_huge_learning_rate_is_caught(tmp_path):
    with pytest.raises(NonFiniteLossError, match="non-finite loss at epoch 1, step"):
        _quiet_train(_config("vae-mlp", epochs=1, batch_size=16, lr=1e12), tmp_path)


def test_train_writes_metrics_history_and_pictures(tmp_path):
    metrics = train(_config("vae-conv", epochs=1, iw_samples=3), tmp_path, progress=False,
                    log=lambda line: None)
    assert metrics["test_iw_bound_k3"] <= metrics["test_negative_elbo"] + 1.0
    for name in ("samples.png", "reconstructions.png", "interpolation.png", "loss_curves.png",
                 "history.csv", "history.json", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    rows = json.loads((tmp_path / "history.json").read_text())
    assert rows[0]["epoch"] == 1 and "test_negative_elbo" in rows[0]
    header = (tmp_path / "history.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,train_negative_elbo")


def test_digits_scores_are_wired_in(tmp_path, monkeypatch):
    seen = {}

    def fake_scores(samples, real, seed=0):
        seen["shapes"] = (samples.shape, real.shape)
        return {"inception_score": 5.0, "real_inception_score": 9.0, "frechet_distance": 1.0}

    monkeypatch.setattr(evaluation, "digits_scores", fake_scores)
    run = start_run(_config("dcgan", epochs=1, extra={}), tmp_path)
    scores = sample_scores(run, np.zeros((4, 1, 8, 8), np.float32))
    assert scores == {"inception_score": 5.0, "real_inception_score": 9.0,
                      "frechet_distance": 1.0}
    assert seen["shapes"] == ((4, 1, 8, 8), run.data.test.shape)


@pytest.mark.parametrize("name", ["vae-conv", "dcgan"])
def test_loops_are_device_clean_on_array_api_strict(tmp_path, name):
    pytest.importorskip("array_api_strict")
    with npgen.use_backend("array_api_strict", "device1"):
        run = start_run(_config(name, epochs=1, batch_size=4), tmp_path)
        run.data = dataclasses.replace(run.data, train=run.data.train[:8],
                                       test=run.data.test[:4])
        vae = name.startswith("vae")
        terms = (train_vae_epoch if vae else train_gan_epoch)(run, progress=False)
        run.epoch += 1
        row = (vae_epoch_row if vae else gan_epoch_row)(run, terms)
        save_run(run)
    assert np.isfinite(list(row.values())).all()
    assert load_checkpoint(tmp_path / "checkpoint.npz").extra["backend"] == "array_api_strict"
