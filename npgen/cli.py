"""The ``npgen`` command: one subcommand per task, each a small function.

Every subcommand that computes takes ``--backend`` (and ``--device``); the
backend is set once, here, before the subcommand runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import npgen


def _add_backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=npgen.BACKEND_NAMES, default=None,
                        help="array backend (default: $NPGEN_BACKEND or numpy)")
    parser.add_argument("--device", default=None,
                        help="device for the backend, e.g. cuda:0 (torch), device1 "
                             "(array_api_strict), 0 (cupy)")


def _cmd_info(args: argparse.Namespace) -> int:
    """Print the version and which backends can be used on this machine."""
    import importlib.util

    print(f"npgen {npgen.__version__}")
    for name in npgen.BACKEND_NAMES:
        if importlib.util.find_spec(name) is None:
            status = "not installed"
        else:
            try:
                with npgen.use_backend(name):
                    status = "available"
            except (ImportError, RuntimeError) as exc:
                status = f"unusable: {exc}"
        print(f"  {name:17s} {status}")
    print(f"current: {npgen.get_backend()}")
    return 0


# name -> (help, function adding arguments, function running the command).
# Later subcommands register themselves here (see _register_optional below).
COMMANDS: dict[str, tuple[str, Callable, Callable]] = {
    "info": ("show the version and the usable backends", lambda p: None, _cmd_info),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="npgen",
        description="VAE and GAN building blocks with hand-written, gradient-checked "
                    "backward passes on NumPy, CuPy or any Array API library.",
    )
    parser.add_argument("--version", action="version", version=f"npgen {npgen.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        _add_backend_options(command)
        add_arguments(command)
        command.set_defaults(run=run)
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
