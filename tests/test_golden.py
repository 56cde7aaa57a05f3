"""Golden reference files: export, manifest schema, compare (CLI exit codes), independent values."""

from __future__ import annotations

import json

import numpy as np
import pytest

import npgen
from npgen.cli import main
from npgen.testing.reference import (
    batchnorm_reference,
    conv2d_reference,
    conv_transpose2d_reference,
)
from npgen.verify.golden import GOLDEN_CASES, OPS, export_reference
from npgen.verify.reference_files import (
    compare_files,
    load_manifest,
    manifest_schema,
    validate_manifest,
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """All golden files in float64, written once through the CLI."""
    directory = tmp_path_factory.mktemp("golden")
    assert main(["export-reference", str(directory), "--seed", "5"]) == 0
    return directory


def _load(path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def test_manifest_lists_every_file_with_roles_shapes_and_dtypes(exported):
    manifest = load_manifest(exported / "manifest.json")  # validates against the schema
    assert manifest["npgen_version"] == npgen.__version__ and manifest["seed"] == 5
    assert [c["file"] for c in manifest["cases"]] == [c.file for c in GOLDEN_CASES]
    assert {c["op"] for c in manifest["cases"]} == set(OPS)
    for entry in manifest["cases"]:
        arrays = _load(exported / entry["file"])
        assert list(arrays) == list(entry["arrays"])
        for name, described in entry["arrays"].items():
            assert list(arrays[name].shape) == described["shape"]
            assert arrays[name].dtype.name == described["dtype"] == "float64"
            if described["role"] == "gradient":
                assert arrays[described["of"]].shape == arrays[name].shape
    leftovers = [p.name for p in exported.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []  # atomic writes cleaned up


def test_manifest_validates_with_jsonschema_too(exported):
    jsonschema = pytest.importorskip("jsonschema")
    manifest = json.loads((exported / "manifest.json").read_text())
    jsonschema.validate(manifest, manifest_schema())


def test_broken_manifests_are_rejected(exported):
    manifest = json.loads((exported / "manifest.json").read_text())
    broken = json.loads(json.dumps(manifest))
    broken["cases"][2]["arrays"]["x"]["role"] = "weights"
    with pytest.raises(ValueError, match=r"manifest.cases\[2\].arrays.x.role: 'weights'"):
        validate_manifest(broken)
    del manifest["tolerances"]
    with pytest.raises(ValueError, match="missing required keys"):
        validate_manifest(manifest)


def test_edge_cases_are_in_the_fixed_set():
    configs = {(c.op, c.case): c.config for c in GOLDEN_CASES}
    remainder = configs["conv2d", "stride_remainder"]
    assert any((h - 3) % 2 for h in remainder["size"])  # stride does not divide
    assert configs["conv2d", "kernel_equals_input"]["kernel_size"] == (4, 4)
    assert configs["conv2d", "dilation"]["dilation"] == (2, 2)
    assert configs["conv_transpose2d", "output_padding"]["output_padding"] == (1, 1)
    assert configs["batchnorm_train", "batch2_features"]["batch"] == 2
    assert configs["bce_with_logits", "extreme_logits"]["scale"] >= 100


def test_values_match_the_slow_twins(exported):
    conv = _load(exported / "conv2d__stride_remainder.npz")
    expected = conv2d_reference(conv["x"], conv["weight"], conv["bias"], stride=2)
    np.testing.assert_allclose(conv["y"], expected, rtol=1e-12, atol=1e-14)
    up = _load(exported / "conv_transpose2d__output_padding.npz")
    expected = conv_transpose2d_reference(up["x"], up["weight"], up["bias"], stride=2,
                                          padding=1, output_padding=1)
    np.testing.assert_allclose(up["y"], expected, rtol=1e-12, atol=1e-14)
    bn = _load(exported / "batchnorm_train__batch2_features.npz")
    np.testing.assert_allclose(bn["y"], batchnorm_reference(bn["x"], bn["weight"], bn["bias"])[0],
                               rtol=1e-12, atol=1e-14)
    bce = _load(exported / "bce_with_logits__extreme_logits.npz")
    assert np.abs(bce["logits"]).max() > 100 and np.isfinite(bce["loss"])
    closed_form = np.mean(np.logaddexp(0, bce["logits"]) - bce["target"] * bce["logits"])
    np.testing.assert_allclose(bce["loss"], closed_form, rtol=1e-14)


def test_conv_gradients_match_torch(exported):
    torch = pytest.importorskip("torch")
    data = {k: torch.tensor(v, requires_grad=k in ("x", "weight", "bias"))
            for k, v in _load(exported / "conv2d__asymmetric.npz").items()}
    y = torch.nn.functional.conv2d(data["x"], data["weight"], data["bias"], stride=(2, 1),
                                   padding=(1, 0), dilation=(1, 2))
    y.backward(data["dy"])
    for name in ("x", "weight", "bias"):
        np.testing.assert_allclose(data[f"d{name}"].detach().numpy(),
                                   data[name].grad.numpy(), rtol=1e-12, atol=1e-14)


def test_compare_passes_on_itself_and_fails_on_a_perturbed_file(exported, tmp_path, capsys):
    reference = exported / "conv_transpose2d__dilation_output_padding.npz"
    assert main(["compare", str(reference), str(reference)]) == 0
    assert capsys.readouterr().out.startswith("PASS")
    arrays = _load(reference)
    arrays["dweight"][0, 1, 0, 0] += 1e-4
    perturbed = tmp_path / "theirs.npz"
    np.savez(perturbed, **arrays)
    assert main(["compare", str(reference), str(perturbed)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL") and "dweight (1, 2, 2, 2): FAILED" in out
    assert "worst at index (0, 1, 0, 0)" in out
    assert main(["compare", str(reference), str(perturbed), "--atol", "1e-3"]) == 0


def test_only_outputs_and_gradients_are_required(exported, tmp_path):
    reference = exported / "dense__no_bias.npz"
    arrays = _load(reference)
    theirs = tmp_path / "theirs.npz"
    np.savez(theirs, y=arrays["y"], dx=arrays["dx"], dweight=arrays["dweight"], extra=np.ones(2))
    result = compare_files(reference, theirs)
    assert result.ok and result.ignored == ["extra"]
    np.savez(theirs, y=arrays["y"], dx=arrays["dx"])
    result = compare_files(reference, theirs)
    assert not result.ok and "dweight: FAILED: missing from their file" in str(result)


def test_float32_export_and_subset(tmp_path, exported):
    assert main(["export-reference", str(tmp_path), "--ops", "adam_step", "--dtype",
                 "float32", "--seed", "5"]) == 0
    manifest = load_manifest(tmp_path / "manifest.json")
    assert [c["op"] for c in manifest["cases"]] == ["adam_step"] * 3
    ours32 = _load(tmp_path / "adam_step__first_step.npz")
    ours64 = _load(exported / "adam_step__first_step.npz")
    assert all(a.dtype == np.float32 for a in ours32.values())
    np.testing.assert_array_equal(ours32["grad"], ours64["grad"].astype(np.float32))
    assert main(["compare", str(exported / "adam_step__first_step.npz"),
                 str(tmp_path / "adam_step__first_step.npz")]) == 0  # float32 tolerances


def test_bad_arguments(tmp_path, capsys):
    assert main(["export-reference", str(tmp_path), "--ops", "maxpool"]) == 2
    assert "unknown ops ['maxpool']" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown ops"):
        export_reference(tmp_path, ops=["maxpool"])
    assert main(["compare", str(tmp_path / "nope.npz"), str(tmp_path / "nope.npz")]) == 2
    assert "cannot read" in capsys.readouterr().out
