"""The gradient-penalty GAN steps against central differences of their own losses, the
critic without batch norm, and ``npgen train gan --loss wgan-gp|r1``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import npgen
from npgen.cli import main
from npgen.gradcheck import check_vjp
from npgen.losses import gradient_penalty
from npgen.models.wgan import (
    penalized_gan,
    r1_discriminator_step,
    wgan_critic,
    wgan_generator_step,
    wgan_gp_critic_step,
)
from npgen.nn import BatchNorm2d
from npgen.training import TrainConfig

TINY = ["--channels", "2", "--latent-dim", "2", "--no-progress"]


def _images(seed, n=2):
    return npgen.asarray(np.random.default_rng(seed).uniform(-1, 1, size=(n, 1, 8, 8)))


def _check_step_gradients(module, step):
    """module.gradients() after ``step()`` against central differences of ``step().loss``."""
    params = module.parameters()
    keys = list(params)

    def loss(*theta):
        for key, value in zip(keys, theta):
            params[key][...] = value
        return step().loss

    def vjp(r, *theta):
        loss(*theta)
        return tuple(r * module.gradients()[key] for key in keys)

    check_vjp(loss, vjp, [params[key] for key in keys], names=keys)


def _wgan_gp_operands():
    critic = wgan_critic((1, 8, 8), width=2, dtype="float64", seed=0)
    alpha = npgen.asarray(np.array([0.3, 0.8]).reshape(2, 1, 1, 1))
    return critic, _images(1), _images(2), alpha


def test_wgan_gp_critic_step_is_the_gradient_of_its_loss():
    critic, real, fake, alpha = _wgan_gp_operands()
    assert not any(isinstance(m, BatchNorm2d) for m in critic)
    step = wgan_gp_critic_step(critic, real, fake, alpha)
    # the reported terms, recomputed independently of the step's chain
    x_hat = alpha * real + (1.0 - alpha) * fake
    scores = critic(x_hat)
    grads = critic.backward(npgen.asarray(np.ones(tuple(scores.shape))))
    expected_penalty = float(gradient_penalty(grads)[0])
    wasserstein = float(npgen.to_numpy(critic(fake)).mean() - npgen.to_numpy(critic(real)).mean())
    assert float(step.penalty) == pytest.approx(expected_penalty, rel=1e-12)
    assert float(step.loss) == pytest.approx(wasserstein + expected_penalty, rel=1e-12)
    _check_step_gradients(critic, lambda: wgan_gp_critic_step(critic, real, fake, alpha))


def test_wgan_gp_critic_step_is_the_same_on_every_backend(backend):
    """The step above is checked against central differences on numpy; here every row must
    give numpy's numbers (cheap, and a missing device= or a host round-trip fails)."""
    with npgen.use_backend("numpy"):
        critic, real, fake, alpha = _wgan_gp_operands()
        expected = wgan_gp_critic_step(critic, real, fake, alpha)
        expected_grads = {k: npgen.to_numpy(g) for k, g in critic.gradients().items()}
    critic, real, fake, alpha = _wgan_gp_operands()
    step = wgan_gp_critic_step(critic, real, fake, alpha)
    for name in ("loss", "penalty", "real_score", "fake_score", "grad_norm"):
        assert float(getattr(step, name)) == pytest.approx(float(getattr(expected, name)),
                                                           rel=1e-12, abs=1e-14), name
    for key, g in critic.gradients().items():
        np.testing.assert_allclose(npgen.to_numpy(g), expected_grads[key], rtol=1e-10,
                                   atol=1e-13, err_msg=key)


def test_r1_discriminator_step_is_the_gradient_of_its_loss():
    critic = wgan_critic((1, 8, 8), width=2, dtype="float64", seed=1)
    real, fake = _images(3), _images(4)
    step = r1_discriminator_step(critic, real, fake, gamma=5.0)
    assert float(step.penalty) > 0 and 0 < float(step.real_score) < 1
    _check_step_gradients(critic, lambda: r1_discriminator_step(critic, real, fake, gamma=5.0))


def test_wgan_generator_step_is_the_gradient_of_minus_the_mean_score():
    model = penalized_gan((1, 8, 8), latent_dim=2, width=2, dtype="float64", seed=2)
    generator, critic = model.generator, model.discriminator
    z = npgen.asarray(np.random.default_rng(5).normal(size=(3, 2)))

    class Step:  # the step's loss as the checked scalar
        def __init__(self):
            generator.zero_grad()
            self.loss = wgan_generator_step(generator, critic, generator(z))

    value = Step().loss
    assert float(value) == pytest.approx(-float(npgen.to_numpy(critic(generator(z))).mean()))
    _check_step_gradients(generator, Step)


def test_train_gan_wgan_gp_and_r1_from_the_command_line(tmp_path):
    out = tmp_path / "wgan"
    assert main(["train", "gan", "--loss", "wgan-gp", "--critic-steps", "2", "--epochs", "1",
                 "--out", str(out), *TINY]) == 0
    saved = json.loads((out / "metrics.json").read_text())
    config, metrics = saved["config"], saved["metrics"]
    assert (config["loss"], config["critic_steps"], config["lr"], config["betas"]) == \
        ("wgan-gp", 2, 1e-4, [0.0, 0.9])
    for key in ("train_d_loss", "train_g_loss", "train_penalty", "train_grad_norm",
                "inception_score", "frechet_distance"):
        assert math.isfinite(metrics[key]), key
    assert metrics["train_penalty"] >= 0 and metrics["train_grad_norm"] > 0
    assert (out / "samples.png").read_bytes()[:4] == b"\x89PNG"
    history = json.loads((out / "history.json").read_text())
    assert len(history) == 1
    assert main(["train", "gan", "--epochs", "2", "--out", str(out), "--resume",
                 "--no-progress"]) == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["loss"] == "wgan-gp"

    r1 = tmp_path / "r1"
    assert main(["train", "gan", "--loss", "r1", "--penalty-weight", "1", "--epochs", "1",
                 "--batch-size", "512", "--out", str(r1), *TINY]) == 0
    config = json.loads((r1 / "metrics.json").read_text())["config"]
    assert (config["loss"], config["critic_steps"], config["penalty_weight"]) == ("r1", 1, 1.0)


def test_penalized_losses_reject_bad_settings(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"TrainConfig: loss must be one of \('minimax', "
                                         r"'wgan-gp', 'r1'\); got 'hinge'"):
        TrainConfig(model="gan", loss="hinge")
    with pytest.raises(ValueError, match="TrainConfig: critic_steps must be an int >= 1"):
        TrainConfig(model="gan", loss="wgan-gp", critic_steps=0)
    with pytest.raises(SystemExit) as exit_:  # --loss is an option of `train gan` only
        main(["train", "vae", "--loss", "r1", "--out", str(tmp_path), "--epochs", "1"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --loss r1" in capsys.readouterr().err


def test_wgan_gp_example_runs(tmp_path):
    script = Path(__file__).resolve().parent.parent / "examples" / "wgan_gp_digits.py"
    done = subprocess.run([sys.executable, str(script), "--epochs", "1", "--out",
                           str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "epoch   1  critic L_W" in done.stdout and "penalty" in done.stdout
    assert (tmp_path / "out" / "samples.png").read_bytes()[:4] == b"\x89PNG"
