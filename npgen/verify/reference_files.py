"""Reading golden reference files: the manifest, its schema, and comparing two ``.npz`` files.

``compare_files(reference, theirs)`` compares every array the two files share
with the rule of :func:`npgen.verify.report.compare_arrays`. Which arrays
*must* be in ``theirs`` comes from the ``manifest.json`` next to the reference
when there is one (the outputs and gradients); without a manifest, every
reference array must be there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from npgen._checks.primitives import load_json
from npgen.verify.report import TOLERANCES, ArrayComparison, compare_arrays

__all__ = ["FileComparison", "FolderComparison", "compare_files", "compare_folder",
           "load_manifest", "manifest_schema", "validate_manifest"]

REQUIRED_ROLES = ("output", "gradient")


def manifest_schema() -> dict:
    """The JSON schema of ``manifest.json`` (npgen/verify/manifest.schema.json)."""
    text = resources.files("npgen.verify").joinpath("manifest.schema.json").read_text("utf-8")
    return json.loads(text)


def load_manifest(path) -> dict:
    """Read and validate a ``manifest.json``; a ValueError names the first problem."""
    manifest = load_json(f"load_manifest {path}", Path(path).read_text("utf-8"))
    validate_manifest(manifest)
    return manifest


# A validator for the subset of JSON Schema the manifest schema uses, so that npgen does not
# depend on the jsonschema package (the tests also check the schema with it when installed).

_TYPES = {"object": dict, "array": list, "string": str, "number": (int, float),
          "integer": int, "boolean": bool}


def validate_manifest(manifest: dict, schema: dict | None = None) -> None:
    """Raise ValueError('manifest.cases[3].arrays.x.role: ...') unless ``manifest`` fits."""
    schema = manifest_schema() if schema is None else schema
    _validate(manifest, schema, schema, "manifest")


def _validate(value, schema: dict, root: dict, where: str) -> None:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return _validate(value, root["$defs"][name], root, where)
    _check_scalar_keywords(value, schema, where)
    if isinstance(value, dict):
        _check_object(value, schema, root, where)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _validate(item, schema["items"], root, f"{where}[{i}]")
    return None


def _check_scalar_keywords(value, schema: dict, where: str) -> None:
    kind = schema.get("type")
    if kind is not None:
        is_bool = isinstance(value, bool)
        if not isinstance(value, _TYPES[kind]) or (is_bool and kind != "boolean"):
            raise ValueError(f"{where}: expected {kind}, got {type(value).__name__} {value!r}")
    if "const" in schema and value != schema["const"]:
        raise ValueError(f"{where}: expected {schema['const']!r}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise ValueError(f"{where}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and value < schema["minimum"]:
        raise ValueError(f"{where}: {value!r} is below the minimum {schema['minimum']}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        raise ValueError(f"{where}: {value!r} is shorter than {schema['minLength']}")


def _check_object(value: dict, schema: dict, root: dict, where: str) -> None:
    missing = [k for k in schema.get("required", ()) if k not in value]
    if missing:
        raise ValueError(f"{where}: missing required keys {missing}")
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            _validate(item, properties[key], root, f"{where}.{key}")
        elif extra is False:
            raise ValueError(f"{where}: unexpected key {key!r}")
        elif isinstance(extra, dict):
            _validate(item, extra, root, f"{where}.{key}")


# Comparing files ---------------------------------------------------------------------------


@dataclass
class FileComparison:
    """Per-array results of comparing ``theirs`` with ``reference``; ``ok`` when all pass."""

    reference: str
    theirs: str
    rtol: float
    atol: float
    comparisons: list = field(default_factory=list)
    ignored: list = field(default_factory=list)  # in theirs only

    @property
    def ok(self) -> bool:
        return bool(self.comparisons) and all(c.ok for c in self.comparisons)

    def __str__(self) -> str:
        lines = [f"{'PASS' if self.ok else 'FAIL'}: {self.theirs} against {self.reference} "
                 f"(pass when |theirs - ref| <= {self.atol:g} + {self.rtol:g} |ref|)"]
        lines += [f"  {c.describe()}" for c in self.comparisons]
        if not self.comparisons:
            lines.append("  no arrays in common")
        if self.ignored:
            lines.append(f"  not in the reference (ignored): {', '.join(self.ignored)}")
        return "\n".join(lines)


def _read(path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _required(reference_path: Path, names, manifest: dict | None) -> set:
    """Names theirs must contain: outputs and gradients per the manifest, else everything."""
    if manifest is None:
        candidate = reference_path.parent / "manifest.json"
        manifest = load_manifest(candidate) if candidate.exists() else None
    if manifest is not None:
        for entry in manifest["cases"]:
            if entry["file"] == reference_path.name:
                return {n for n, a in entry["arrays"].items() if a["role"] in REQUIRED_ROLES}
    return set(names)


def _tolerances(reference: dict, theirs: dict) -> tuple[float, float]:
    """float64 tolerances when both sides are float64, float32's otherwise."""
    dtypes = {a.dtype for a in (*reference.values(), *theirs.values())}
    return TOLERANCES["float64" if dtypes <= {np.dtype(np.float64)} else "float32"]


def compare_files(reference, theirs, rtol: float | None = None, atol: float | None = None,
                  manifest: dict | None = None) -> FileComparison:
    """Compare two ``.npz`` files array by array (see the module docstring)."""
    reference, theirs = Path(reference), Path(theirs)
    ref_arrays, their_arrays = _read(reference), _read(theirs)
    default_rtol, default_atol = _tolerances(ref_arrays, their_arrays)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    required = _required(reference, ref_arrays, manifest)
    result = FileComparison(str(reference), str(theirs), rtol, atol,
                            ignored=sorted(set(their_arrays) - set(ref_arrays)))
    for name, expected in ref_arrays.items():
        if name in their_arrays:
            result.comparisons.append(compare_arrays(name, their_arrays[name], expected,
                                                     rtol, atol))
        elif name in required:
            result.comparisons.append(ArrayComparison(name, False, shape=expected.shape,
                                                      problem="missing from their file"))
    return result


# Comparing folders -------------------------------------------------------------------------


@dataclass
class FolderComparison:
    """Every case of a reference folder's manifest checked against a folder of theirs.

    ``results`` maps each case file to its :class:`FileComparison`, or to None
    when their folder has no such file (a failure).
    """

    reference: str
    theirs: str
    results: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r is not None and r.ok for r in self.results.values())

    @property
    def failed(self) -> list:
        return [f for f, r in self.results.items() if r is None or not r.ok]

    def table(self) -> str:
        """One line per case: status, file, the worst array and its errors."""
        width = max((len(f) for f in self.results), default=4)
        lines = [f"{'':4}  {'case':{width}}  worst array: max abs err, max rel err"]
        for file, result in self.results.items():
            if result is None:
                lines.append(f"FAIL  {file:{width}}  missing from {self.theirs}")
                continue
            worst = _worst(result)
            detail = ("no arrays in common" if worst is None else worst.problem
                      or f"{worst.name}: {worst.abs_err:.3g}, {worst.rel_err:.3g}")
            lines.append(f"{'PASS' if result.ok else 'FAIL'}  {file:{width}}  {detail}")
        passed = len(self.results) - len(self.failed)
        lines.append(f"{passed} of {len(self.results)} cases passed"
                     + ("" if self.ok else f"; failed: {', '.join(self.failed)}"))
        return "\n".join(lines)

    def __str__(self) -> str:
        details = [str(r) for r in self.results.values() if r is not None and not r.ok]
        return "\n".join([self.table(), *details])


def _worst(result: FileComparison):
    failed = [c for c in result.comparisons if not c.ok]
    if failed:
        return failed[0]
    return max(result.comparisons, key=lambda c: c.abs_err, default=None)


def compare_folder(reference, theirs, rtol: float | None = None,
                   atol: float | None = None) -> FolderComparison:
    """Compare every case listed in ``reference/manifest.json`` with ``theirs/<same file>``."""
    reference, theirs = Path(reference), Path(theirs)
    manifest = load_manifest(reference / "manifest.json")
    result = FolderComparison(str(reference), str(theirs))
    for entry in manifest["cases"]:
        their_file = theirs / entry["file"]
        result.results[entry["file"]] = (
            compare_files(reference / entry["file"], their_file, rtol, atol, manifest)
            if their_file.is_file() else None)
    return result
