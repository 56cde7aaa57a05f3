"""``npgen compare REFERENCE.npz THEIRS.npz``: per-array errors, pass or fail (exit status 1)."""

from __future__ import annotations

from npgen.commands import require

HELP = "compare an .npz of outputs/gradients with a golden reference file (exit 1 on failure)"


def add_arguments(parser) -> None:
    parser.add_argument("reference", help="a golden file written by npgen export-reference")
    parser.add_argument("theirs", help="an .npz with the same array names (at least the "
                                       "outputs and gradients)")
    parser.add_argument("--rtol", type=float, default=None,
                        help="relative tolerance (default: 1e-7 when both files are float64, "
                             "1e-4 otherwise)")
    parser.add_argument("--atol", type=float, default=None,
                        help="absolute tolerance (default: 1e-9 / 1e-5 likewise)")


def run(args) -> int:
    if not require("hypothesis", "compare", "verify"):  # npgen.verify uses it
        return 2
    from npgen.verify.reference_files import compare_files

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
