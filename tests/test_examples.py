"""Every script in examples/ runs end to end (tiny budgets; real runs: docs/results.md)."""

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(script: str, *args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("script", ["vae_digits.py", "dcgan_digits.py", "gan_ring.py"])
def test_training_examples_run(tmp_path, script):
    out = _run(script, "--epochs", "1", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert "epoch   1" in out or "epoch 1" in out
    assert any(p.suffix == ".png" for p in (tmp_path / "out").iterdir())


def test_vae_example_runs_on_the_strict_device(tmp_path):
    """An example is backend-clean: it runs with arrays on array_api_strict's device1."""
    code = ("import sys, runpy, npgen\n"
            "npgen.set_backend = lambda name, device=None: npgen.backend.set_backend("
            "'array_api_strict', 'device1')\n"
            f"sys.argv = ['vae_digits.py', '--epochs', '1', '--out', {str(tmp_path)!r}]\n"
            f"runpy.run_path({str(EXAMPLES / 'vae_digits.py')!r}, run_name='__main__')\n"
            "print(npgen.get_backend())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "device1" in done.stdout.splitlines()[-1]


def _write_idx(folder: Path, n_train: int = 64, n_test: int = 32) -> None:
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = (rng.random((n, 28, 28)) < 0.2).astype(np.uint8) * 255
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 0x803, n, 28, 28) + images.tobytes())
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 0x801, n) + rng.integers(0, 10, n, np.uint8).tobytes())


def test_conv_vae_mnist_example_runs_on_small_idx_files(tmp_path):
    _write_idx(tmp_path)
    out = _run("conv_vae_mnist.py", str(tmp_path), "--epochs", "1", "--train-size", "64",
               "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert "test -ELBO" in out


def test_conv_vae_mnist_example_names_the_missing_files(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / "conv_vae_mnist.py"),
                           str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert done.returncode != 0 and "train-images-idx3-ubyte" in done.stderr


def test_golden_files_example_runs_and_catches_its_bug(tmp_path):
    _run("verify_with_golden_files.py", "--dir", str(tmp_path / "golden"), cwd=tmp_path)
    done = subprocess.run([sys.executable, str(EXAMPLES / "verify_with_golden_files.py"),
                           "--dir", str(tmp_path / "golden2"), "--bug"],
                          capture_output=True, text=True)
    assert done.returncode == 1


def test_torch_conv_example_runs(tmp_path):
    pytest.importorskip("torch")
    _run("verify_torch_conv.py", "--max-examples", "5", cwd=tmp_path)
