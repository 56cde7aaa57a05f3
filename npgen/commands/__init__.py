"""Subcommands of the ``npgen`` CLI, one module each.

A command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status). List it in ``COMMANDS`` to register it.

The parser imports every command module, so a module imports only the standard
library and ``npgen`` at the top; what its command needs (Hypothesis, the
training code, ...) is imported inside ``run``. ``npgen --version`` and
``npgen demo`` then work on an install without the test extras.
"""

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
