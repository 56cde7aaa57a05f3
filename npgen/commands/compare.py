"""``npgen compare REFERENCE THEIRS``: two ``.npz`` files, or two folders (every case of the
reference manifest, one summary table); pass or fail (exit status 1)."""

from __future__ import annotations

from npgen.commands import require

HELP = ("compare an .npz of outputs/gradients with a golden reference file, or a folder with a "
        "golden folder (exit 1 on failure)")


def add_arguments(parser) -> None:
    parser.add_argument("reference", help="a golden file or folder written by npgen "
                                          "export-reference (or VerifyReport.save)")
    parser.add_argument("theirs", help="an .npz with the same array names (at least the "
                                       "outputs and gradients), or a folder of such files "
                                       "named as in the reference manifest")
    parser.add_argument("--rtol", type=float, default=None,
                        help="relative tolerance (default: 1e-7 when both files are float64, "
                             "1e-4 otherwise)")
    parser.add_argument("--atol", type=float, default=None,
                        help="absolute tolerance (default: 1e-9 / 1e-5 likewise)")


def run(args) -> int:
    if not require("hypothesis", "compare", "verify"):  # npgen.verify uses it
        return 2
    from pathlib import Path

    from npgen.verify.reference_files import compare_files, compare_folder

    if Path(args.reference).is_dir():
        return _run_folder(args, compare_folder)
    for name in ("reference", "theirs"):
        path = getattr(args, name)
        try:
            open(path, "rb").close()
        except OSError as exc:
            print(f"npgen compare: cannot read {name} file {path!r}: {exc.strerror}")
            return 2
    try:
        result = compare_files(args.reference, args.theirs, args.rtol, args.atol)
    except ValueError as exc:  # e.g. a malformed manifest.json beside the reference
        raise ValueError(f"cannot compare {args.reference} with {args.theirs} (or read the "
                         f"manifest.json beside the reference): {exc}") from exc
    print(result)
    return 0 if result.ok else 1


def _run_folder(args, compare_folder) -> int:
    from pathlib import Path

    manifest = Path(args.reference) / "manifest.json"
    for path, what in ((manifest, "reference manifest"), (Path(args.theirs), "their folder")):
        if not path.exists() or (what == "their folder" and not path.is_dir()):
            print(f"npgen compare: cannot read {what} {str(path)!r}: a folder comparison "
                  "needs REF_DIR/manifest.json and a THEIRS_DIR folder")
            return 2
    try:
        result = compare_folder(args.reference, args.theirs, args.rtol, args.atol)
    except ValueError as exc:  # a manifest that does not fit the schema
        print(f"npgen compare: {manifest}: {exc}")
        return 2
    print(result)
    return 0 if result.ok else 1
