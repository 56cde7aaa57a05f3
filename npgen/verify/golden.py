"""Golden reference files: inputs, outputs and every gradient of each op, for any language.

``export_reference(directory)`` writes one ``<op>__<case>.npz`` per case of
:data:`GOLDEN_CASES` and a ``manifest.json`` describing them (see
docs/verify.md for the format). The cases are fixed and belong to the op registry
(each entry's ``golden_cases``, :mod:`npgen.registry._golden`); they include the edge
cases implementations get wrong: strides that do not divide the padded input,
dilation, output_padding, a kernel as large as the input, extreme logits, batch
norm with two values per channel, Adam's first step.

Values are computed by npgen on the numpy backend in float64. With
``dtype="float32"`` the inputs are first rounded to float32 and the reference is
computed in float64 from those rounded values, then rounded once: the file holds
the correctly rounded answer for exactly the inputs it stores.
"""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path

import numpy as np

import npgen
from npgen.checkpoint import atomic_write
from npgen.registry import GoldenCase, golden_cases
from npgen.verify import _layers, _optim
from npgen.verify._from_registry import registry_entry, registry_spec
from npgen.verify._runner import OpSpec, call_convention
from npgen.verify.report import TOLERANCES

__all__ = ["FORMAT", "FORMAT_VERSION", "GOLDEN_CASES", "GoldenCase", "OPS", "case_arrays",
           "export_reference", "spec_for", "write_case"]

FORMAT = "npgen-golden-reference"
FORMAT_VERSION = 1
PARAMETERS = ("weight", "bias")  # array inputs that are a layer's parameters


GOLDEN_CASES = golden_cases()
"""Every golden case, gathered from the registry entries' ``golden_cases`` (the ops in
table order, then the optimizer steps)."""
OPS = tuple(dict.fromkeys(case.op for case in GOLDEN_CASES))


def spec_of(case: GoldenCase) -> OpSpec:
    """The OpSpec computing ``case`` (activations and the generator loss take options)."""
    return spec_for(case.op, case.config)


def spec_for(op: str, config: dict) -> OpSpec:
    """The OpSpec of golden op ``op``: the registry entry's (its options, e.g. saturating or
    reduction, from ``config``), or an optimizer step's."""
    steps = {"sgd_step": lambda: _optim.SGD, "clip_grad_norm": lambda: _optim.CLIP_GRAD_NORM,
             "adam_step": lambda: _optim.adam_spec(False, config.get("amsgrad", False)),
             "adamw_step": lambda: _optim.adam_spec(True, config.get("amsgrad", False))}
    if op in steps:
        return steps[op]()
    try:
        space = registry_entry(op).space
    except KeyError:  # not an op: the activations' error names the choices
        return _layers.activation_spec(op)
    return registry_spec(op, options={k: config.get(k, default) for k, default in space.options})


def _role(spec: OpSpec, name: str) -> dict:
    if name in spec.inputs:
        return {"role": "parameter" if name in PARAMETERS else "input"}
    if name == spec.upstream:
        return {"role": "upstream"}
    if name in spec.outputs:
        return {"role": "output"}
    return {"role": "gradient", "of": name[1:].lstrip("_")}  # dx -> x, d_decoder_out -> ...


def case_arrays(case: GoldenCase, dtype: str = "float64", seed: int = 0) -> dict:
    """name -> NumPy array of ``dtype`` for one case: inputs, upstream, outputs, gradients.

    The data depend only on ``seed`` and the file name, so exporting a subset of
    the ops gives the same files as exporting all of them.
    """
    spec = spec_of(case)
    rng = np.random.default_rng([seed, zlib.crc32(case.file.encode())])
    inputs = {k: v for k, v in spec.make_inputs(case.config, rng).items() if v is not None}
    inputs = {k: v.astype(dtype).astype(np.float64) for k, v in inputs.items()}  # stored values
    full_inputs = {**dict.fromkeys(spec.inputs), **inputs}  # an absent bias is None
    arrays, upstream = dict(inputs), None
    if spec.kind == "layer":  # losses store their own gradients (dloss = 1)
        y = spec.reference(full_inputs, case.config, None)[spec.outputs[0]]
        upstream = rng.standard_normal(y.shape).astype(dtype).astype(np.float64)
        arrays[spec.upstream] = upstream
    results = spec.reference(full_inputs, case.config, upstream)
    arrays.update({k: np.asarray(v) for k, v in results.items() if v is not None})
    return {k: np.asarray(v, dtype=dtype) for k, v in arrays.items()}


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


def _manifest_entry(spec: OpSpec, op: str, case: str, description: str, config: dict,
                    arrays: dict) -> dict:
    described = {name: {**_role(spec, name), "shape": list(a.shape), "dtype": a.dtype.name}
                 for name, a in arrays.items()}
    return {"file": f"{op}__{case}.npz", "op": op, "case": case, "description": description,
            "config": _jsonable(config), "calling_convention": call_convention(spec),
            "arrays": described}


def _write_npz(path, arrays: dict) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with atomic_write(path) as handle:
        handle.write(buffer.getvalue())


def _manifest(dtype: str, seed: int, entries: list) -> dict:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "npgen_version": npgen.__version__,
        "dtype": dtype, "seed": seed,
        "tolerances": {k: {"rtol": r, "atol": a} for k, (r, a) in TOLERANCES.items()},
        "cases": entries,
    }


def _write_manifest(directory: Path, manifest: dict) -> None:
    with atomic_write(directory / "manifest.json") as handle:
        handle.write((json.dumps(manifest, indent=2) + "\n").encode())


def export_reference(directory, ops=None, dtype: str = "float64", seed: int = 0) -> dict:
    """Write the golden files for ``ops`` (default all of :data:`OPS`) and ``manifest.json``.

    Returns the manifest (a dict). Unknown op names are a ValueError listing the known ones.
    """
    if dtype not in ("float64", "float32"):
        raise ValueError(f"export_reference: dtype must be 'float64' or 'float32'; got {dtype!r}")
    ops = OPS if ops is None else tuple(ops)
    unknown = sorted(set(ops) - set(OPS))
    if unknown:
        raise ValueError(f"export_reference: unknown ops {unknown}; expected some of "
                         f"{', '.join(OPS)}")
    directory = Path(directory)
    entries = []
    for case in (c for c in GOLDEN_CASES if c.op in ops):
        arrays = case_arrays(case, dtype, seed)
        _write_npz(directory / case.file, arrays)
        entries.append(_manifest_entry(spec_of(case), case.op, case.case, case.description,
                                       case.config, arrays))
    manifest = _manifest(dtype, seed, entries)
    _write_manifest(directory, manifest)
    return manifest


def write_case(directory: Path, spec: OpSpec, case: str, description: str, config: dict,
               arrays: dict) -> Path:
    """Write one float64 case (e.g. a failing case of ``npgen.verify``) and list it in the
    folder's ``manifest.json`` (created if absent, the entry replaced if the file exists)."""
    from npgen.verify.reference_files import load_manifest

    directory.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    entry = _manifest_entry(spec, spec.golden_op, case, description, config, arrays)
    path = directory / entry["file"]
    _write_npz(path, arrays)
    existing = directory / "manifest.json"
    manifest = load_manifest(existing) if existing.exists() else _manifest("float64", 0, [])
    manifest["cases"] = [c for c in manifest["cases"] if c["file"] != entry["file"]] + [entry]
    _write_manifest(directory, manifest)
    return path
