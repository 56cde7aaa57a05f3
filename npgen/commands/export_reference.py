"""``npgen export-reference DIR``: golden ``.npz`` files plus ``manifest.json`` (docs/verify.md)."""

from __future__ import annotations

import sys

from npgen.commands import require

HELP = "write golden reference files (.npz per op and case, plus manifest.json)"


def add_arguments(parser) -> None:
    parser.add_argument("directory", help="output folder (created if needed)")
    parser.add_argument("--ops", nargs="+", default=None, metavar="OP",
                        help="ops to export (default: all; an unknown name lists them)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="dtype of the stored arrays (the reference is computed in float64 "
                             "from the stored inputs)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the input data")


def run(args) -> int:
    if args.seed < 0:
        raise SystemExit(f"npgen export-reference: --seed must be >= 0; got {args.seed}")
    if not require("hypothesis", "export-reference", "verify"):  # npgen.verify uses it
        return 2
    from npgen.verify.golden import GOLDEN_CASES, OPS, export_reference

    unknown = sorted(set(args.ops or ()) - set(OPS))
    if unknown:
        print(f"npgen export-reference: unknown ops {unknown}; choose from {', '.join(OPS)}",
              file=sys.stderr)
        return 2
    manifest = export_reference(args.directory, args.ops, args.dtype, args.seed)
    cases = manifest["cases"]
    print(f"wrote {len(cases)} of {len(GOLDEN_CASES)} reference files ({args.dtype}, seed "
          f"{args.seed}) and manifest.json to {args.directory}")
    for entry in cases:
        print(f"  {entry['file']:48s} {entry['description']}")
    return 0
