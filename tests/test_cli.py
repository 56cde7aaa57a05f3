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


_WITHOUT_HYPOTHESIS = (
    "import sys; sys.modules['hypothesis'] = None\n"  # makes `import hypothesis` fail
    "from npgen.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("argv", [["--version"], ["info"], ["demo", "--help"]])
def test_the_cli_works_without_the_test_extras(argv):
    """npgen --version and npgen demo must not need Hypothesis (a test dependency)."""
    done = subprocess.run([sys.executable, "-c", _WITHOUT_HYPOTHESIS, *argv],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_gradcheck_without_hypothesis_says_what_to_install():
    done = subprocess.run([sys.executable, "-c", _WITHOUT_HYPOTHESIS, "gradcheck"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert 'pip install "npgen[verify]"' in done.stdout
