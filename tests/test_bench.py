"""``npgen bench`` and :mod:`npgen.bench`: the runs complete and the JSON has its keys.

No timing is asserted anywhere (timings depend on the machine and its load). Cases run on
tiny batches; the train-step cases are also checked to compute the same loss in npgen and
PyTorch, so that the benchmark compares like with like.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from npgen import bench
from npgen.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _load(path):
    data = json.loads(Path(path).read_text())
    assert set(data) == {"environment", "settings", "results"}
    for key in ("cpu_count", "threads", "blas", "numpy", "load_average", "command"):
        assert key in data["environment"]
    assert data["settings"]["dtype"] == "float32"
    for result in data["results"]:
        assert set(bench.RESULT_KEYS) <= set(result)
        assert result["npgen"]["median_ms"] > 0
        assert len(result["npgen"]["samples_ms"]) == data["settings"]["repeats"]
        assert len(result["npgen"]["other_cores"]) == data["settings"]["repeats"]
    return data


def test_quick_run_writes_json_for_every_case(tmp_path, capsys):
    path = tmp_path / "quick.json"
    assert main(["bench", "--quick", "--batch", "1", "--repeats", "1", "--warmup", "0",
                 "--json", str(path)]) == 0
    data = _load(path)
    assert [r["name"] for r in data["results"]] == [c.name for c in bench.CASES]
    assert all(r["batch"] == 1 for r in data["results"])
    out = capsys.readouterr().out
    assert "conv2d-64-128-32x32" in out and f"wrote {path}" in out
    if data["settings"]["torch_reference"]:
        for r in data["results"]:
            assert r["torch"]["median_ms"] > 0
            assert r["ratio"] == pytest.approx(r["npgen"]["median_ms"] / r["torch"]["median_ms"])
            assert r["meets_target"] == (r["ratio"] <= r["target_ratio"])


def test_several_batches_and_no_torch(tmp_path):
    path = tmp_path / "scaling.json"
    assert main(["bench", "--cases", "dense,batchnorm", "--batch", "2,3", "--repeats", "2",
                 "--warmup", "0", "--pause", "0", "--no-torch", "--json", str(path)]) == 0
    data = _load(path)
    rows = [(r["name"], r["batch"]) for r in data["results"]]
    assert rows == [("batchnorm2d-128-16x16", 2), ("batchnorm2d-128-16x16", 3),
                    ("dense-784-400", 2), ("dense-784-400", 3)]
    assert all(r["torch"] is None and r["ratio"] is None for r in data["results"])


def test_memory_runs_a_subprocess_per_library(tmp_path):
    path = tmp_path / "memory.json"
    assert main(["bench", "--cases", "dense", "--batch", "4", "--repeats", "1", "--warmup", "0",
                 "--pause", "0", "--memory", "--json", str(path)]) == 0
    (result,) = _load(path)["results"]
    memory = result["memory"]
    assert memory["npgen"]["impl"] == "npgen"
    assert memory["npgen"]["peak_mb"] >= memory["npgen"]["baseline_mb"] > 0
    if memory["torch"] is not None:
        assert memory["torch"]["impl"] == "torch"
        assert memory["ratio"] == pytest.approx(
            memory["npgen"]["peak_increase_mb"] / max(memory["torch"]["peak_increase_mb"], 1e-3))


def test_list_and_unknown_case(capsys):
    assert main(["bench", "--list"]) == 0
    assert "dcgan-step" in capsys.readouterr().out
    assert main(["bench", "--cases", "resnet"]) == 2
    assert "no case starts with ['resnet']" in capsys.readouterr().out


def test_bad_batch_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--batch", "0"])
    assert "batch sizes must be >= 1" in capsys.readouterr().err


def test_script_wrapper_runs():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--list"],
                          capture_output=True, text=True, check=True)
    assert "conv_transpose2d-256-128-8x8" in done.stdout


@pytest.mark.parametrize("name", ["vae-step", "dcgan-step"])
def test_train_steps_compute_what_torch_computes(name):
    """Same weights, data and first loss: the benchmark compares the same computation."""
    pytest.importorskip("torch")
    import npgen

    (case,) = bench.select_cases([name])
    npgen_loss = float(npgen.to_numpy(case.build("npgen", 4)()))
    torch_loss = case.build("torch", 4)().item()
    # float32 through a whole network and one Adam step: agreement to ~1e-5 relative
    np.testing.assert_allclose(npgen_loss, torch_loss, rtol=1e-4)


def test_reference_results_file_is_valid():
    _load(ROOT / "benchmarks" / "reference-results.json")


def test_noisy_samples_are_left_out_of_the_median():
    """Samples during which other processes kept >= QUIET_CORES cores busy do not count."""
    busy = bench.QUIET_CORES + 0.5
    s = bench._summary([10.0, 50.0, 12.0, 11.0, 90.0], [0.0, busy, 0.1, 0.2, busy], batch=2)
    assert (s["median_ms"], s["quiet_samples"], s["filtered"]) == (11.0, 3, True)
    assert s["median_all_ms"] == 12.0 and s["ms_per_sample"] == 5.5
    # fewer than 3 quiet samples (or no /proc): the median of all, flagged unfiltered
    s = bench._summary([10.0, 50.0, 12.0], [0.0, busy, None], batch=1)
    assert (s["median_ms"], s["quiet_samples"], s["filtered"]) == (12.0, 1, False)


def test_the_load_of_other_processes_is_read_from_proc():
    """Own CPU time shows up in both counters: the machine's busy ticks include this process."""
    ticks = bench._cpu_ticks()
    if ticks is None:
        pytest.skip("no /proc/stat on this system")
    deadline = time.monotonic() + 10.0
    while bench._cpu_ticks()[1] - ticks[1] < 5 and time.monotonic() < deadline:
        sum(i * i for i in range(20_000))  # spend CPU in this process
    busy, own = (after - before for after, before in zip(bench._cpu_ticks(), ticks))
    assert own >= 5 and busy >= own - 2  # the two counters are read a few µs apart


def test_layer_cases_are_the_registry_module_entries_bench_shapes():
    """No separate list of layer benchmarks: each comes from a module entry's ``bench``."""
    from npgen.registry import bench_cases

    layers = [c for c in bench.CASES if c.group != "train_step"]
    assert [(c.name, c.description) for c in layers] == [
        (b.name, b.description) for _, b in bench_cases()]
    assert {op.name for op, _ in bench_cases()} == {
        "nn.Conv2d", "nn.ConvTranspose2d", "nn.BatchNorm2d", "nn.Dense"}
