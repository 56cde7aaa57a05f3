"""A newcomer's first hour, through the command line as a user runs it (subprocesses).

Every error a user can cause is one line on stderr with a non-zero exit status and no
traceback; runs never overwrite silently and check what they resume; accepted flags act.
Budgets are tiny (one epoch of an 8-unit MLP).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

TINY = ["--hidden", "8", "--latent-dim", "2", "--batch-size", "256", "--no-progress"]


def npgen(*argv, cwd=None, env=None, ok=True) -> subprocess.CompletedProcess:
    """``python -m npgen ARGV`` (PYTHONPATH inherited); checks the status and no traceback."""
    done = subprocess.run([sys.executable, "-m", "npgen", *map(str, argv)], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})
    assert "Traceback" not in done.stderr, done.stderr
    if ok:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr  # one line
    return done


def test_subpackages_are_reachable_after_a_bare_import():
    code = ("import sys, npgen\n"
            "assert 'npgen.nn' not in sys.modules and 'hypothesis' not in sys.modules\n"
            "npgen.nn.Dense(2, 2); npgen.verify; npgen.losses; npgen.functional\n"
            "for name in ('optim', 'gradcheck', 'testing', 'interop', 'models', 'data',\n"
            "             'metrics'):\n"
            "    assert getattr(npgen, name).__name__ == 'npgen.' + name\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_missing_optional_dependency_names_the_extra():
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "import npgen\n"
            "try:\n    npgen.verify\nexcept ImportError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert 'pip install "npgen[verify]"' in done.stdout, done.stderr


def test_the_parser_imports_no_training_code_or_optional_library():
    code = ("import sys\nfrom npgen.cli import build_parser\nbuild_parser()\n"
            "heavy = {'scipy', 'npgen.training', 'npgen.models', 'hypothesis', 'torch',\n"
            "         'matplotlib'} & set(sys.modules)\nprint(sorted(heavy))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_python_dash_m_npgen_is_the_npgen_script():
    assert npgen("--version").stdout.startswith("npgen ")
    assert "COMMAND" in npgen("--help").stdout


@pytest.mark.parametrize("env, argv, message", [
    ({"NPGEN_BACKEND": "bogus"}, ["gradcheck", "--ops", "relu"], "unknown npgen backend"),
    ({"NPGEN_BACKEND": "cupy"}, ["train", "vae", "--epochs", "1"], "cupy"),
    ({}, ["train", "vae", "--backend", "torch", "--device", "cuda:0", "--epochs", "1"],
     "cannot use --backend torch"),
])
def test_an_unusable_backend_is_refused_at_selection(tmp_path, env, argv, message):
    pytest.importorskip("torch") if "torch" in argv else None
    done = npgen(*argv, cwd=tmp_path, env=env, ok=False)
    assert message in done.stderr
    assert not (tmp_path / "runs").exists()  # refused before anything was trained


@pytest.mark.parametrize("backend", ["bogus", "cupy"])
def test_info_reports_an_unusable_environment_backend(backend):
    done = subprocess.run([sys.executable, "-m", "npgen", "info"], capture_output=True,
                          text=True, env={**os.environ, "NPGEN_BACKEND": backend})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "numpy" in done.stdout and f"{backend!r}" in done.stdout and "unusable" in done.stdout


def test_debug_shows_the_traceback(tmp_path):
    (tmp_path / "file").write_text("x")
    argv = [sys.executable, "-m", "npgen", "train", "vae", "--out", str(tmp_path / "file")]
    done = subprocess.run([*argv, "--debug"], capture_output=True, text=True)
    assert done.returncode != 0 and "Traceback" in done.stderr
    done = subprocess.run(argv, capture_output=True, text=True,
                          env={**os.environ, "NPGEN_DEBUG": "1"})
    assert "Traceback" in done.stderr


def test_unusable_output_folders(tmp_path):
    (tmp_path / "file").write_text("x")
    assert "is a file" in npgen("train", "vae", "--out", tmp_path / "file", ok=False).stderr
    assert "is a file" in npgen("demo", "--out", tmp_path / "file", ok=False).stderr
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert "cannot write" in npgen("train", "vae", "--out", locked / "run",
                                       ok=False).stderr


def test_a_full_disk_is_one_line(tmp_path):
    code = ("import errno, sys\n"
            "import npgen.checkpoint as c\n"
            "def full(*args, **kwargs):\n"
            "    raise OSError(errno.ENOSPC, 'No space left on device', 'checkpoint.npz')\n"
            "c.save_checkpoint = full\n"
            "import npgen.training.run as r; r.save_checkpoint = full\n"
            "from npgen.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", code, "train", "vae", "--epochs", "1",
                           "--out", str(tmp_path / "run"), *TINY],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "npgen train: checkpoint.npz: No space left on device"]


def test_runs_never_overwrite_and_resumes_are_checked(tmp_path):
    out = tmp_path / "run"
    npgen("train", "vae", "--epochs", "1", "--out", out, *TINY)
    before = (out / "checkpoint.npz").read_bytes()
    refused = npgen("train", "vae", "--epochs", "1", "--out", out, *TINY, ok=False).stderr
    assert "--resume" in refused and "--overwrite" in refused
    assert (out / "checkpoint.npz").read_bytes() == before
    assert "is a vae run" in npgen("train", "gan", "--out", out, "--resume", "--epochs", "2",
                                   ok=False).stderr
    assert "data 'ring'" in npgen("train", "vae", "--out", out, "--resume", "--epochs", "2",
                                  "--data", "ring", ok=False).stderr
    differ = npgen("train", "vae", "--out", out, "--resume", "--epochs", "2", "--lr", "0.01",
                   ok=False).stderr
    assert "--lr 0.01 (checkpoint: 0.001)" in differ
    assert "nothing to train" in npgen("train", "vae", "--out", out, "--resume", "--epochs",
                                       "1", ok=False).stderr
    npgen("train", "vae", "--out", out, "--resume", "--epochs", "2", "--no-progress")
    assert json.loads((out / "metrics.json").read_text())["metrics"]["epoch"] == 2


def test_overwrite_leaves_no_stale_files_and_crash_leftovers_are_removed(tmp_path):
    out = tmp_path / "run"
    npgen("train", "gan", "--data", "ring", "--epochs", "1", "--out", out, "--hidden", "8",
          "--batch-size", "1000", "--no-progress")
    assert (out / "discriminator_outputs.png").is_file()
    (out / ".checkpoint.npz.abc123.tmp").write_bytes(b"half a checkpoint")
    npgen("train", "vae", "--epochs", "1", "--out", out, "--overwrite", *TINY)
    names = sorted(p.name for p in out.iterdir())
    assert "discriminator_outputs.png" not in names and "reconstructions.png" in names
    assert not [name for name in names if name.endswith(".tmp")]


def test_outputs_get_the_users_umask(tmp_path):
    code = ("import os, sys; os.umask(0o022)\n"
            "from npgen.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    subprocess.run([sys.executable, "-c", code, "train", "vae", "--epochs", "1", "--out",
                    str(tmp_path / "run"), *TINY], check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", code, "export-reference", str(tmp_path / "golden"),
                    "--ops", "relu"], check=True, capture_output=True)
    files = [*(tmp_path / "run").iterdir(), *(tmp_path / "golden").iterdir()]
    assert len(files) > 5
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_flags_that_do_not_fit_the_data_are_refused(tmp_path):
    cases = [(["gan", "--data", "digits", "--arch", "mlp"], "MLP GAN is for 2-D points"),
             (["vae", "--data", "ring", "--arch", "conv"], "conv VAE needs images"),
             (["vae", "--data", "ring", "--likelihood", "bernoulli"], "--likelihood gaussian")]
    for argv, message in cases:
        assert message in npgen("train", *argv, "--out", tmp_path / "x", "--epochs", "1",
                                ok=False).stderr
    assert not (tmp_path / "x" / "checkpoint.npz").exists()


def test_a_vae_on_points_gets_the_gaussian_likelihood(tmp_path):
    out = tmp_path / "vae-ring"
    npgen("train", "vae", "--data", "ring", "--epochs", "1", "--out", out, *TINY)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["config"]["likelihood"] == "gaussian"
    assert 0 < saved["metrics"]["test_negative_elbo"] < 20  # nats per 2-D point, not -986


def test_train_help_shows_defaults_and_only_its_own_options():
    vae, gan = npgen("train", "vae", "--help").stdout, npgen("train", "gan", "--help").stdout
    assert "(default: 10)" in vae and "(default: runs/latest)" in vae
    assert "--iw-samples" in vae and "--iw-samples" not in gan
    assert "--depth" in gan and "--depth" not in vae and "--threads" in gan


def test_ops_syntax_and_names_are_shared(tmp_path):
    out = npgen("gradcheck", "-k", "1", "--ops", "relu,tanh", "sigmoid").stdout  # both syntaxes
    assert "relu " in out and "tanh " in out and "sigmoid " in out
    listed = npgen("export-reference", "--list").stdout.split()
    assert "batchnorm[train]" in listed
    updates = {"adam_step", "adamw_step", "sgd_step", "clip_grad_norm"}  # no VJP to check
    assert set(listed) - updates <= set(npgen("gradcheck", "--list").stdout.split()) | {
        name.split("[")[0] for name in npgen("gradcheck", "--list").stdout.split()}
    npgen("export-reference", tmp_path / "g", "--ops", "relu,batchnorm[train]", "tanh")
    files = sorted(p.name.split("__")[0] for p in (tmp_path / "g").glob("*.npz"))
    assert set(files) == {"relu", "tanh", "batchnorm_train"}


def test_first_gradcheck_configuration_is_representative():
    pytest.importorskip("hypothesis")
    from npgen import gradcheck_suite as suite

    for name in ("dense", "relu", "conv2d"):
        first = suite.draw_cases(suite.OPS[name], 1)[0].describe()
        assert "(1, 1)" not in first and "(1,)" not in first, (name, first)
        minimal = suite.draw_cases(suite.OPS[name], 3)[-1].describe()  # kept, last
        assert "(1, 1)" in minimal or "(1,)" in minimal, (name, minimal)


def test_sample_on_a_file_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "metrics.json").write_text("{}")
    err = npgen("sample", tmp_path / "metrics.json", "--out", tmp_path / "x.png",
                ok=False).stderr
    assert "not a checkpoint" in err and "allow_pickle" not in err
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        archive.writestr("junk.npy", b"nope")
    npgen("sample", tmp_path / "bad.npz", "--out", tmp_path / "x.png", ok=False)


def test_metrics_json_never_holds_nan(tmp_path):
    from npgen.training.monitor import write_json

    path = write_json(tmp_path / "m.json", {"metrics": {"fd": float("nan"), "is": 2.0}})
    text = path.read_text()
    assert "NaN" not in text
    document = json.loads(text)
    assert document["metrics"] == {"fd": None, "is": 2.0}
    assert "not a finite number" in document["null_reasons"]["metrics.fd"]


def test_summary_puts_figures_beside_their_references(tmp_path):
    out = npgen("train", "gan", "--data", "ring", "--epochs", "1", "--out", tmp_path / "r",
                "--hidden", "8", "--batch-size", "1000", "--no-progress", "--threads", "1").stdout
    assert "modes covered" in out and "(bar: 8, docs/results.md)" in out
    assert f"results in {tmp_path / 'r'}/" in out


def test_examples_write_under_runs(tmp_path):
    example = Path(__file__).resolve().parent.parent / "examples" / "gan_ring.py"
    done = subprocess.run([sys.executable, str(example), "--epochs", "1", "--threads", "1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]
    assert (tmp_path / "runs" / "gan-ring" / "samples.png").is_file()


def test_bad_checkpoints_and_manifests_are_one_line(tmp_path):
    meta = json.dumps({"format": "npgen-checkpoint", "version": 1})  # no epoch, config, ...
    np.savez(tmp_path / "checkpoint.npz", __npgen_checkpoint__=np.array(meta))
    assert "metadata" in npgen("sample", tmp_path / "checkpoint.npz", "--out",
                               tmp_path / "s.png", ok=False).stderr
    assert "metadata" in npgen("train", "vae", "--resume", "--out", tmp_path, "--epochs", "3",
                               ok=False).stderr
    golden = tmp_path / "golden"
    npgen("export-reference", golden, "--ops", "relu")
    (golden / "manifest.json").write_text("{not json")
    reference = next(golden.glob("*.npz"))
    assert "manifest.json" in npgen("compare", reference, reference, ok=False).stderr


def test_limit_threads_limits_blas_inside_the_block_only():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from npgen.training import limit_threads

    def counts():
        return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()]

    before = counts()
    with limit_threads(1):
        assert counts() and set(counts()) == {1}
    assert counts() == before
    for command in (["demo"], ["bench"], ["train", "vae"]):
        assert "--threads" in npgen(*command, "--help").stdout
