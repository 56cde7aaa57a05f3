"""Checkpoint files: full round trip, RNG continuation, atomicity under a crash, clear errors."""

from __future__ import annotations

import json
import math
import os
import zipfile

import numpy as np
import pytest

import npgen
import npgen.checkpoint
from npgen.checkpoint import atomic_write, load_checkpoint, save_checkpoint


def example_parts(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return dict(
        model_state={
            "generator": {"0.weight": rng.normal(size=(4, 3)).astype(np.float32),
                          "0.bias": rng.normal(size=4).astype(np.float32),
                          "1.running_var": rng.uniform(size=4),
                          "1.num_batches_tracked": np.array(7, dtype=np.int64)},
            "discriminator": {"weight": rng.normal(size=(1, 4))},
        },
        optimizer_state={
            "generator": {"step": 12, "lr": 2e-4, "betas": [0.5, 0.999],
                          "exp_avg": {"0.weight": rng.normal(size=(4, 3))},
                          "amsgrad": False, "note": None},
            "discriminator": {},
        },
        rng_state={"batches": np.random.default_rng(seed + 1).bit_generator.state,
                   "noise": npgen.RNG(seed + 2, portable=True).state_dict(),
                   "legacy": np.random.Generator(np.random.MT19937(3)).bit_generator.state},
        epoch=3,
        config={"dataset": "digits", "latent_dim": 8, "lr": 1e-3, "layers": [64, 32]},
        extra={"history": {"loss": [1.5, float("nan"), 0.25]}, "best": np.float64(0.25)},
    )


def assert_trees_equal(actual, expected):
    if isinstance(expected, dict):
        assert list(actual) == list(expected)  # same keys, same order
        for key in expected:
            assert_trees_equal(actual[key], expected[key])
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray) and actual.dtype == expected.dtype
        np.testing.assert_array_equal(actual, expected)
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_trees_equal(a, e)
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual)
    else:
        plain = expected.item() if isinstance(expected, np.generic) else expected
        assert actual == plain and type(actual) is type(plain)


def test_round_trip_of_every_part(tmp_path):
    parts = example_parts()
    path = save_checkpoint(tmp_path / "runs" / "ckpt.npz", **parts)
    loaded = load_checkpoint(path)
    assert loaded.epoch == 3 and loaded.path == path
    assert_trees_equal(loaded.model_state, parts["model_state"])
    assert_trees_equal(loaded.optimizer_state, parts["optimizer_state"])
    assert_trees_equal(loaded.rng_state, parts["rng_state"])
    assert_trees_equal(loaded.config, parts["config"])
    assert_trees_equal(loaded.extra, parts["extra"])
    # The documented layout: prefixed array members plus one JSON document.
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert {"model/generator/0.weight.npy", "optim/generator/exp_avg/0.weight.npy",
            "rng/legacy/state/key.npy", "__npgen_checkpoint__.npy"} <= names
    with np.load(path, allow_pickle=False) as archive:
        document = json.loads(str(archive["__npgen_checkpoint__"]))
    assert document["rng"]["batches"]["state"]["state"] == \
        parts["rng_state"]["batches"]["state"]["state"]  # a 128-bit int, exact in JSON


def test_restored_generators_continue_bit_identically(tmp_path):
    batches = np.random.default_rng(42)
    batches.permutation(100)
    noise = npgen.RNG(7, portable=True)
    noise.normal((5,))
    save_checkpoint(tmp_path / "c.npz", model_state={}, optimizer_state={}, epoch=1, config={},
                    rng_state={"batches": batches.bit_generator.state,
                               "noise": noise.state_dict()})
    expected_perm, expected_noise = batches.permutation(100), npgen.to_numpy(noise.normal((6,)))
    loaded = load_checkpoint(tmp_path / "c.npz")
    fresh_batches, fresh_noise = np.random.default_rng(0), npgen.RNG(0, portable=True)
    fresh_batches.bit_generator.state = loaded.rng_state["batches"]
    fresh_noise.load_state_dict(loaded.rng_state["noise"])
    np.testing.assert_array_equal(fresh_batches.permutation(100), expected_perm)
    np.testing.assert_array_equal(npgen.to_numpy(fresh_noise.normal((6,))), expected_noise)


def test_torch_generator_state_round_trips(tmp_path):
    pytest.importorskip("torch")
    with npgen.use_backend("torch"):
        noise = npgen.RNG(5)
        noise.normal((3,))
        save_checkpoint(tmp_path / "t.npz", model_state={}, optimizer_state={}, epoch=0,
                        config={}, rng_state={"noise": noise.state_dict()})
        expected = npgen.to_numpy(noise.normal((4,)))
        fresh = npgen.RNG(0)
        fresh.load_state_dict(load_checkpoint(tmp_path / "t.npz").rng_state["noise"])
        np.testing.assert_array_equal(npgen.to_numpy(fresh.normal((4,))), expected)


def test_backend_arrays_are_saved_as_numpy(tmp_path):
    with npgen.use_backend("array_api_strict", "device1"):
        moment = npgen.asarray(np.arange(3.0), dtype="float64")
        save_checkpoint(tmp_path / "s.npz", model_state={}, rng_state={}, epoch=0, config={},
                        optimizer_state={"adam": {"exp_avg": {"w": moment}}})
    restored = load_checkpoint(tmp_path / "s.npz").optimizer_state["adam"]["exp_avg"]["w"]
    assert isinstance(restored, np.ndarray) and restored.dtype == np.float64
    np.testing.assert_array_equal(restored, [0.0, 1.0, 2.0])


def _fail_replace(*args, **kwargs):
    raise OSError("simulated crash before the rename")


def test_crash_before_replace_keeps_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, **example_parts(0))
    before = path.read_bytes()
    newer = {**example_parts(1), "epoch": 4}
    monkeypatch.setattr(npgen.checkpoint.os, "replace", _fail_replace)
    with pytest.raises(OSError, match="simulated crash"):
        save_checkpoint(path, **newer)
    monkeypatch.undo()
    assert path.read_bytes() == before and load_checkpoint(path).epoch == 3
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]  # no temporary file left behind


def test_crash_on_first_save_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(npgen.checkpoint.os, "replace", _fail_replace)
    with pytest.raises(OSError, match="simulated crash"):
        save_checkpoint(tmp_path / "first.npz", **example_parts())
    assert os.listdir(tmp_path) == []


def test_atomic_write_failure_inside_block_leaves_target(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    with atomic_write(target) as handle:
        handle.write(b"old")
    with pytest.raises(RuntimeError, match="writer failed"), atomic_write(target) as handle:
        handle.write(b"partial")
        raise RuntimeError("writer failed")
    assert target.read_bytes() == b"old" and os.listdir(target.parent) == ["file.bin"]


def test_unreadable_files_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_checkpoint(tmp_path / "missing.npz")
    good = save_checkpoint(tmp_path / "good.npz", **example_parts())
    for cut in (len(good.read_bytes()) // 2, 100, 3):
        truncated = tmp_path / f"truncated{cut}.npz"
        truncated.write_bytes(good.read_bytes()[:cut])
        with pytest.raises(ValueError, match=f"truncated{cut}.npz"):
            load_checkpoint(truncated)
    single = tmp_path / "single.npz"
    with open(single, "wb") as handle:
        np.save(handle, np.ones(3))
    with pytest.raises(ValueError, match="single.npz"):
        load_checkpoint(single)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    with pytest.raises(ValueError, match="not an npgen checkpoint"):
        load_checkpoint(foreign)


def test_bad_contents_are_refused(tmp_path):
    base = dict(model_state={}, optimizer_state={}, rng_state={}, epoch=0, config={})
    with pytest.raises(ValueError, match="without '/'"):
        save_checkpoint(tmp_path / "a.npz", **{**base, "model_state": {"g/x": {}}})
    with pytest.raises(TypeError, match="extra/thing"):
        save_checkpoint(tmp_path / "a.npz", **base, extra={"thing": object()})
    with pytest.raises(TypeError, match="epoch"):
        save_checkpoint(tmp_path / "a.npz", **{**base, "epoch": 1.5})
    with pytest.raises(TypeError, match="config"):
        save_checkpoint(tmp_path / "a.npz", **{**base, "config": {"w": np.ones(2)}})
    assert not (tmp_path / "a.npz").exists()


# --- reading cannot be abused: members are checked before they are read -------------------


def _rewrite(path, replace=None, add=None, compress=None):
    """Copy the .npz at ``path`` member by member, replacing/adding members (raw bytes)."""
    replace, add, compress = replace or {}, add or {}, compress or set()
    with zipfile.ZipFile(path) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members.update(replace)
    members.update(add)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            kind = zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED
            archive.writestr(name, data, compress_type=kind)
    return path


def _npy_bytes(array):
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _simple(tmp_path, name="c.npz", **changes):
    parts = dict(model_state={"model": {"weight": np.ones((2, 3), dtype=np.float32)}},
                 optimizer_state={"adam": {"exp_avg": np.zeros((2, 3), dtype=np.float32)}},
                 rng_state={}, epoch=1, config={})
    return save_checkpoint(tmp_path / name, **{**parts, **changes})


def test_a_member_larger_than_it_holds_is_refused_before_reading(tmp_path):
    """A header that declares 4 GiB in a tiny member is refused without allocating it."""
    path = _simple(tmp_path)
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f4", "fortran_order": False, "shape": (2**30,)})
    huge = buffer.getvalue() + bytes(24)  # declares 4 GiB, holds 24 bytes
    _rewrite(path, replace={"model/model/weight.npy": huge})
    with pytest.raises(ValueError, match=r"c\.npz.*member 'model/model/weight'.*declares"):
        load_checkpoint(path)


def test_compressed_and_unexpected_members_are_refused(tmp_path):
    path = _simple(tmp_path, "zipped.npz")
    _rewrite(path, compress={"model/model/weight.npy"})
    with pytest.raises(ValueError, match=r"zipped\.npz.*'model/model/weight'.*compressed"):
        load_checkpoint(path)
    path = _simple(tmp_path, "extra.npz")
    _rewrite(path, add={"payload.npy": _npy_bytes(np.zeros(10))})
    with pytest.raises(ValueError, match=r"extra\.npz.*unexpected members \['payload.npy'\]"):
        load_checkpoint(path)


def test_only_the_requested_parts_are_read(tmp_path):
    path = _simple(tmp_path)
    _rewrite(path, replace={"optim/adam/exp_avg.npy": b"\x93NUMPY garbage"})
    loaded = load_checkpoint(path, parts=("model", "config", "extra"))
    assert loaded.optimizer_state == {} and loaded.model_state["model"]["weight"].shape == (2, 3)
    with pytest.raises(ValueError, match="'optim/adam/exp_avg'"):
        load_checkpoint(path)


@pytest.mark.parametrize("change, message", [
    (dict(epoch=-2), "epoch must be an int >= 0; got -2"),
    (dict(model_state={"model": {"weight": np.ones((2, 3), dtype=np.int64)}}),
     "member 'model/model/weight' is int64"),
    (dict(model_state={"model": {"weight": np.full((2, 3), np.nan, dtype=np.float32)}}),
     "member 'model/model/weight' holds NaN or inf"),
], ids=["negative epoch", "int64 weights", "NaN weights"])
def test_bad_checkpoint_contents_name_the_file_and_member(tmp_path, change, message):
    path = _simple(tmp_path, "bad.npz", **change)
    with pytest.raises(ValueError, match=r"bad\.npz") as caught:
        load_checkpoint(path)
    assert message in str(caught.value)


def test_deeply_nested_json_is_refused(tmp_path):
    path = _simple(tmp_path, "deep.npz")
    deep = "[" * 100_000 + "]" * 100_000
    _rewrite(path, replace={"__npgen_checkpoint__.npy": _npy_bytes(np.array(deep))})
    with pytest.raises(ValueError, match=r"deep\.npz: member '__npgen_checkpoint__'.*nested"):
        load_checkpoint(path)
    from npgen.verify.reference_files import load_manifest

    (tmp_path / "manifest.json").write_text('{"a": ' + deep + "}")
    with pytest.raises(ValueError, match="load_manifest .*manifest.json.*nested"):
        load_manifest(tmp_path / "manifest.json")
