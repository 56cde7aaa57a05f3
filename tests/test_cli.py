"""The ``npgen`` command line: version, help, info, backend selection."""

import subprocess
import sys

import pytest

import npgen
from npgen.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"npgen {npgen.__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_info_lists_every_backend(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for name in npgen.BACKEND_NAMES:
        assert name in out


def test_unknown_backend_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["info", "--backend", "jax"])
    assert "invalid choice" in capsys.readouterr().err


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "npgen.cli", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("npgen ")
