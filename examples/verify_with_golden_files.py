"""Check an implementation that is not npgen through golden reference files.

    python examples/verify_with_golden_files.py [--dir golden/] [--dtype float64] [--bug]

The workflow a C++/CUDA test suite would follow, played here by plain NumPy:

1. ``npgen export-reference DIR`` writes ``<op>__<case>.npz`` files and ``manifest.json``;
2. "their" code reads the inputs of each dense and bce_with_logits file, computes the
   outputs and gradients, and writes them to ``theirs/<same name>.npz``;
3. ``npgen compare REFERENCE THEIRS`` reports per-array errors; exit status 1 on failure.

``--bug`` makes their dense backward forget to sum dbias over the batch (it keeps row 0).

There is no ``--backend`` flag, unlike the other examples: ``export-reference`` always
computes the golden values with npgen on NumPy in float64 (``--dtype float32`` only rounds
what is stored), and "their" side here is plain NumPy, so an npgen backend would change
nothing. Without ``--dir`` the files go to a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from npgen.cli import main as npgen_cli


def their_dense(arrays: dict, bug: bool) -> dict:
    """y = x W^T + b and its VJP for the stored upstream gradient dy."""
    x, w, dy = arrays["x"], arrays["weight"], arrays["dy"]
    out = {"y": x @ w.T, "dx": dy @ w, "dweight": dy.T @ x}
    if "bias" in arrays:
        out["y"] = out["y"] + arrays["bias"]
        out["dbias"] = dy[0] if bug else dy.sum(axis=0)
    return out


def their_bce_with_logits(arrays: dict, bug: bool) -> dict:
    """mean(softplus(l) - t l), written stably with logaddexp, and its gradient."""
    del bug
    logits, target = arrays["logits"], arrays["target"]
    loss = np.mean(np.logaddexp(0.0, logits) - target * logits)
    dlogits = (np.exp(-np.logaddexp(0.0, -logits)) - target) / logits.size
    return {"loss": np.asarray(loss, dtype=logits.dtype), "dlogits": dlogits}


THEIRS = {"dense": their_dense, "bce_with_logits": their_bce_with_logits}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--bug", action="store_true", help="inject a dbias bug")
    args = parser.parse_args()
    if args.dir is not None:
        return run(args.dir, args.dtype, args.bug)
    with tempfile.TemporaryDirectory(prefix="npgen-golden-") as folder:
        return run(Path(folder), args.dtype, args.bug)


def run(root: Path, dtype: str, bug: bool) -> int:
    """Export the reference files to ``root``, write theirs, compare; 1 if any failed."""
    npgen_cli(["export-reference", str(root), "--ops", *THEIRS, "--dtype", dtype])
    manifest = json.loads((root / "manifest.json").read_text())
    failures = 0
    for entry in manifest["cases"]:
        with np.load(root / entry["file"]) as data:
            arrays = {name: data[name] for name in data.files}
        theirs = THEIRS[entry["op"]](arrays, bug)
        path = root / "theirs" / entry["file"]
        path.parent.mkdir(exist_ok=True)
        np.savez(path, **theirs)
        failures += npgen_cli(["compare", str(root / entry["file"]), str(path)]) != 0
    print(f"{failures} of {len(manifest['cases'])} files failed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
