"""The ``npgen`` command: one subcommand per module in :mod:`npgen.commands`.

Every subcommand takes ``--backend`` (and ``--device``); the backend is set,
and its device tried, once, here, before the subcommand runs, so that an
unusable backend is refused at once rather than mid-training.

An error the user can cause (a bad option, an unusable backend or folder, a
corrupted file, a full disk) is printed as one line on stderr, with a non-zero
exit status; ``--debug`` (or ``NPGEN_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

import npgen
from npgen.commands import COMMANDS, HelpFormatter, common_options

# What a command's exit status means: 1 a failed check or run, 2 a usage or input error.
USAGE_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="npgen", formatter_class=HelpFormatter,
        description="VAE and GAN building blocks with hand-written, gradient-checked "
                    "backward passes on NumPy, CuPy or any Array API library.",
    )
    parser.add_argument("--version", action="version", version=f"npgen {npgen.__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also NPGEN_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"npgen.commands.{name.replace('-', '_')}")
        nested = getattr(module, "NESTED", False)  # its own subcommands carry the options
        command = sub.add_parser(name, help=module.HELP, description=module.HELP,
                                 parents=[] if nested else [common_options()],
                                 formatter_class=HelpFormatter)
        module.add_arguments(command)
        command.set_defaults(run=module.run, select_backend=getattr(module, "SELECTS_BACKEND",
                                                                    True))
    return parser


def select_backend(name: str | None, device: str | None) -> npgen.Backend:
    """Set (or read from the environment) the backend and create one array on its device."""
    backend = (npgen.set_backend(name or npgen.get_backend().name, device)
               if name is not None or device is not None else npgen.get_backend())
    backend.xp.zeros((1,), device=backend.device)  # e.g. cuda:0 on a CPU-only torch fails here
    return backend


def _one_line(exc: BaseException) -> str:
    """The exception as one line; its type is named unless it is a plain input error."""
    message = " ".join(str(exc).split()) or "(no message)"
    if isinstance(exc, (ValueError, OSError, KeyError, ImportError, RuntimeError)):
        if isinstance(exc, OSError) and exc.filename and exc.strerror:
            return f"{exc.filename}: {exc.strerror}"
        return message
    return f"{type(exc).__name__}: {message} (--debug shows the traceback)"


def _run(args) -> int:
    if args.select_backend:
        try:
            select_backend(getattr(args, "backend", None), getattr(args, "device", None))
        except Exception as exc:
            where = (f"--backend {args.backend}" if getattr(args, "backend", None) else
                     f"NPGEN_BACKEND={os.environ.get('NPGEN_BACKEND', 'numpy')!r}")
            raise RuntimeError(f"cannot use {where} "
                               f"(device {getattr(args, 'device', None) or 'default'}): "
                               f"{' '.join(str(exc).split())}") from exc
    return int(args.run(args) or 0)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    debug = getattr(args, "debug", False) or os.environ.get("NPGEN_DEBUG", "") not in ("", "0")
    if debug:
        return _run(args)
    try:
        return _run(args)
    except BrokenPipeError:  # e.g. ``npgen gradcheck --list | head``: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"npgen {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place a user-caused error becomes a message
        print(f"npgen {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 1 if isinstance(exc, (FloatingPointError, AssertionError)) else USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
