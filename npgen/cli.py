"""The ``npgen`` command: one subcommand per module in :mod:`npgen.commands`.

Every subcommand takes ``--backend`` (and ``--device``); the backend is set
once, here, before the subcommand runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import npgen
from npgen.commands import COMMANDS


def _add_backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=npgen.BACKEND_NAMES, default=None,
                        help="array backend (default: $NPGEN_BACKEND or numpy)")
    parser.add_argument("--device", default=None,
                        help="device for the backend, e.g. cuda:0 (torch), device1 "
                             "(array_api_strict), 0 (cupy)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="npgen",
        description="VAE and GAN building blocks with hand-written, gradient-checked "
                    "backward passes on NumPy, CuPy or any Array API library.",
    )
    parser.add_argument("--version", action="version", version=f"npgen {npgen.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"npgen.commands.{name.replace('-', '_')}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        _add_backend_options(command)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.backend is not None or args.device is not None:
        npgen.set_backend(args.backend or npgen.get_backend().name, args.device)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
