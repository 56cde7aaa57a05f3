"""Every ```python block of README.md and docs/**/*.md runs on its own and shows something.

Each block is executed in a fresh namespace, in a fresh working directory, so a block
that forgets its imports fails here as it would for a reader who pastes it. A block
that needs an optional library (torch, jax, ...) is skipped, with the reason, when the
library is missing.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

import npgen

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
OPTIONAL = ("torch", "jax", "cupy", "sklearn", "matplotlib", "PIL", "array_api_strict",
            "hypothesis")


def _blocks():
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for number, match in enumerate(_BLOCK.finditer(text), start=1):
            line = text.count("\n", 0, match.start()) + 2
            name = f"{path.relative_to(ROOT)}:{line}"
            yield pytest.param(match.group(1), id=f"{name} (block {number})")


BLOCKS = list(_blocks())


def _imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _skip_if_missing(modules: set[str]) -> None:
    """Skip when an optional library (or an npgen module that is not there yet) is missing."""
    for module in sorted(modules):
        top = module.split(".")[0]
        if top in OPTIONAL and importlib.util.find_spec(top) is None:
            pytest.skip(f"needs {top}, which is not installed (an npgen extra)")
        if module == "npgen.interop.jax":
            try:
                importlib.import_module(module)
            except ImportError as exc:
                pytest.skip(f"needs npgen.interop.jax, which does not import here: {exc}")




def test_every_docs_file_was_scanned():
    assert len(BLOCKS) >= 10  # README.md and docs/ hold at least this many python blocks


@pytest.mark.parametrize("code", BLOCKS)
def test_block_runs_on_its_own_and_shows_something(code, tmp_path, monkeypatch):
    tree = ast.parse(code)
    _skip_if_missing(_imported_modules(tree))
    shows = any(isinstance(node, ast.Assert) or (
        isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print")
        for node in ast.walk(tree))
    assert shows, "a docs block must print or assert something a reader can see"
    monkeypatch.chdir(tmp_path)
    output, current = io.StringIO(), npgen.get_backend()
    with contextlib.redirect_stdout(output), npgen.use_backend(current.name, current.device):
        exec(compile(tree, "<docs block>", "exec"), {"__name__": "__docs__"})  # noqa: S102
    assert output.getvalue().strip() or any(isinstance(n, ast.Assert) for n in ast.walk(tree))
