"""Subcommands of the ``npgen`` CLI, one module each.

A command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status). List it in ``COMMANDS`` to register it.
"""

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
