"""``npgen export-reference DIR``: golden ``.npz`` files plus ``manifest.json`` (docs/verify.md).

``--ops`` takes the op names of ``npgen gradcheck --list``, separated by commas or
spaces (``--ops dense,batchnorm[train]``); a base name such as ``batchnorm``
selects its variants. ``--list`` shows the ops that have golden files.
"""

from __future__ import annotations

from npgen.commands import op_names, require

HELP = "write golden reference files (.npz per op and case, plus manifest.json)"


def add_arguments(parser) -> None:
    parser.add_argument("directory", nargs="?", default=None,
                        help="output folder (created if needed)")
    parser.add_argument("--ops", nargs="+", type=op_names, default=None, metavar="OP",
                        help="ops to export, separated by commas or spaces (default: all; "
                             "see --list)")
    parser.add_argument("--list", action="store_true",
                        help="list the ops that have golden files and exit")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="dtype of the stored arrays (the reference is computed in float64 "
                             "from the stored inputs)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the input data")


def golden_ops(names, ops) -> list[str]:
    """The golden-file ops named by ``names`` (shared op names, base names or variants).

    ``batchnorm`` and ``batchnorm[train]`` select ``batchnorm_train``;
    ``negative_elbo[gaussian]`` selects ``negative_elbo`` (whose golden cases
    cover both likelihoods). An unknown name is a ValueError listing the ops.
    """
    from npgen.registry import golden_shared_names  # the names of ``npgen gradcheck --list``

    shared = {golden_shared_names().get(op, op): op for op in ops}
    chosen, unknown = [], []
    for name in names:
        base = name.split("[")[0]
        matches = [op for public, op in shared.items()
                   if name in (public, op) or base == public
                   or ("[" not in name and base == public.split("[")[0])]
        unknown += [] if matches else [name]
        chosen += [op for op in matches if op not in chosen]
    if unknown:
        raise ValueError(f"unknown ops {unknown} (no golden files); choose from "
                         f"{', '.join(shared)}")
    return chosen


def run(args) -> int:
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0; got {args.seed}")
    if not require("hypothesis", "export-reference", "verify"):  # npgen.verify uses it
        return 2
    from npgen.registry import golden_shared_names
    from npgen.verify.golden import GOLDEN_CASES, OPS, export_reference

    if args.list:
        print("\n".join(golden_shared_names().get(op, op) for op in OPS))
        return 0
    if args.directory is None:
        raise ValueError("missing the output folder: npgen export-reference DIRECTORY")
    ops = golden_ops([n for group in args.ops for n in group], OPS) if args.ops else None
    manifest = export_reference(args.directory, ops, args.dtype, args.seed)
    cases = manifest["cases"]
    print(f"wrote {len(cases)} of {len(GOLDEN_CASES)} reference files ({args.dtype}, seed "
          f"{args.seed}) and manifest.json to {args.directory}")
    for entry in cases:
        print(f"  {entry['file']:48s} {entry['description']}")
    return 0
