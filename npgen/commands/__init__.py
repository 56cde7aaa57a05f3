"""Subcommands of the ``npgen`` CLI, one module each.

A command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status). List it in ``COMMANDS`` to register it.

The parser imports every command module, so a module imports only the standard
library and ``npgen`` at the top; what its command needs (Hypothesis, the
training code, ...) is imported inside ``run``. ``npgen --version`` and
``npgen demo`` then work on an install without the test extras.
"""

import argparse
import importlib

COMMANDS = [
    "info",
    "gradcheck",
    "bench",
    "export-reference",
    "compare",
    "demo",
    "train",
    "sample",
]


def require(module: str, command: str, extra: str) -> bool:
    """True if ``module`` imports; else print what to install and return False."""
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        pass
    print(f"npgen {command} needs {module}, which is not installed: "
          f'pip install "npgen[{extra}]"')
    return False


DEFAULT_THREADS = 1  # = npgen.training.threads.DEFAULT_THREADS (not imported: it is slow)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's ArgumentDefaultsHelpFormatter, quiet about None and flag defaults and
    about options whose help already states its default."""

    def _get_help_string(self, action):
        if action.default is None or isinstance(action.default, bool) or \
                action.default is argparse.SUPPRESS or "(default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)

    def _expand_help(self, action):
        if action.help is None:  # options without help still show their default
            action.help = ""
        return super()._expand_help(action)


def common_options() -> argparse.ArgumentParser:
    """The options of every subcommand: --backend, --device, --debug (a parent parser)."""
    import npgen

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--backend", choices=npgen.BACKEND_NAMES, default=None,
                        help="array backend (default: $NPGEN_BACKEND or numpy)")
    parser.add_argument("--device", default=None,
                        help="device for the backend, e.g. cuda:0 (torch), device1 "
                             "(array_api_strict), 0 (cupy)")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error (also NPGEN_DEBUG=1)")
    return parser


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    """``--threads N`` (default 1: small models run fastest single-threaded)."""
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, metavar="N",
                        help="threads for BLAS/OpenMP and torch; small models run fastest "
                             "on 1, 0 keeps the libraries' default (see README)")


def op_names(text: str) -> list[str]:
    """``--ops`` values: names separated by commas (and/or given as several arguments)."""
    return [part.strip() for part in text.split(",") if part.strip()]
