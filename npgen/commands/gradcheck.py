"""``npgen gradcheck``: check the backward of every op on the selected backend, print a table.

::

    npgen gradcheck                               # numpy, 5 configurations per op
    npgen gradcheck --backend cupy --examples 20  # the GPU path
    npgen gradcheck --ops conv2d,batchnorm        # a few rows ("batchnorm" = both modes)
    npgen gradcheck --ops conv2d batchnorm[train] # the same syntax as export-reference

Exit status 0 when every check passes, 1 when any fails (the failures are
printed after the table with their configuration and the worst element), 2
for an unknown op name.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

import npgen
from npgen.commands import op_names, require
from npgen.gradcheck import DEFAULT_TOLERANCES

if TYPE_CHECKING:
    from npgen import gradcheck_suite

HELP = "gradient-check every op on generated configurations (float64, the selected backend)"

_HEADER = f"{'op':36s} {'configs':>7s} {'max rel err':>11s} {'max err/tol':>11s}  status"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("--examples", "-k", type=_positive_int, default=5, metavar="K",
                        help="configurations drawn per op (the first one is a random draw, "
                             "the minimal one comes last)")
    parser.add_argument("--ops", nargs="+", type=op_names, default=None, metavar="OP",
                        help="op names, separated by commas or spaces; a base name such as "
                             "batchnorm selects each of its [variants] (default: all; see "
                             "--list)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the drawn configurations")
    parser.add_argument("--list", action="store_true", help="list the op names and exit")


def format_row(result: gradcheck_suite.OpResult) -> str:
    """One table row: op, configurations, worst rel. error, worst error/tolerance, status."""
    errors = (f"{result.max_rel_err:11.2e} {result.max_ratio:11.2e}" if result.passed
              else f"{'-':>11s} {'-':>11s}")  # no passing check to summarize
    return f"{result.name:36s} {result.tried:7d} {errors}  {result.status}"


def _print_failures(results, shown: int = 3) -> None:
    """The first ``shown`` failures of each op, with configuration and the checker's report."""
    for result in results:
        for i, message in enumerate(result.failures[:shown], start=1):
            print(f"\n{result.name}: failure {i} of {len(result.failures)}, configuration "
                  f"{message}")


def run(args) -> int:
    if not require("hypothesis", "gradcheck", "verify"):  # it draws the configurations
        return 2
    from npgen import gradcheck_suite

    if args.list:
        print("\n".join(gradcheck_suite.OPS))
        return 0
    names = [name for group in args.ops for name in group] if args.ops else None
    try:
        gradcheck_suite.select_ops(names)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    rtol, atol = DEFAULT_TOLERANCES["float64"]
    print(f"npgen gradcheck on {npgen.get_backend()}: float64 central differences, "
          f"rtol={rtol:g}, atol={atol:g}, {args.examples} configurations per op, "
          f"seed {args.seed}")
    print(_HEADER)
    results = gradcheck_suite.run_suite(names, args.examples, args.seed,
                                        on_result=lambda r: print(format_row(r), flush=True))
    failed = [r.name for r in results if r.failures]
    _print_failures(results)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        return 1
    print(f"\nall {len(results)} ops passed")
    return 0
