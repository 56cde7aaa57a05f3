"""``npgen info``: the version and which backends can be used on this machine."""

from __future__ import annotations

import importlib.util
import os

import npgen
from npgen.backend import _make_backend

HELP = "show the version and the usable backends"
SELECTS_BACKEND = False  # it reports an unusable $NPGEN_BACKEND instead of stopping on it


def add_arguments(parser) -> None:
    del parser  # no options beyond --backend/--device


def run(args) -> int:
    print(f"npgen {npgen.__version__}")
    for name in npgen.BACKEND_NAMES:
        if importlib.util.find_spec(name) is None:
            status = "not installed"
        else:
            try:
                _make_backend(name)  # not installed as the global one: $NPGEN_BACKEND may be bad
                status = "available"
            except (ImportError, RuntimeError) as exc:
                status = f"unusable: {exc}"
        print(f"  {name:17s} {status}")
    from npgen.cli import select_backend

    try:
        current = select_backend(args.backend, args.device)
    except Exception as exc:
        chosen = args.backend or os.environ.get("NPGEN_BACKEND", "numpy")
        print(f"current: none; {chosen!r} (device {args.device or 'default'}) is unusable: "
              f"{' '.join(str(exc).split())}")
        return 1
    print(f"current: {current}")
    return 0
