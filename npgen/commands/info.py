"""``npgen info``: the version and which backends can be used on this machine."""

from __future__ import annotations

import importlib.util

import npgen

HELP = "show the version and the usable backends"


def add_arguments(parser) -> None:
    del parser  # no options beyond --backend/--device


def run(args) -> int:
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
