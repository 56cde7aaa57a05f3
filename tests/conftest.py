"""The backend test matrix and the Hypothesis profiles.

Every backend-agnostic test takes the ``backend`` fixture and runs once per row:

* ``numpy``                      the reference CPU row;
* ``array_api_strict-device1``   arrays on ``array_api_strict.Device("device1")``, which
                                 refuses implicit conversion to NumPy and mixing devices:
                                 a stray ``np.`` call, a missing ``device=`` or a host
                                 round-trip fails here as it would on CuPy;
* ``torch``                      torch on the CPU, when torch is installed.

``NPGEN_TEST_BACKENDS=numpy,torch`` restricts the rows. Hypothesis runs the
``ci`` profile (derandomized, bounded) unless ``HYPOTHESIS_PROFILE`` names another.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os

import pytest
from hypothesis import HealthCheck, settings

import npgen

# The backend fixture is function-scoped but immutable for the whole test, so
# reusing it across Hypothesis examples is safe: silence that health check.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                     HealthCheck.too_slow])
settings.register_profile("ci", max_examples=30, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=50, **_COMMON)
settings.register_profile("thorough", max_examples=400, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROWS = {
    "numpy": ("numpy", None),
    "array_api_strict-device1": ("array_api_strict", "device1"),
    "torch": ("torch", None),
}


def _available_rows() -> list:
    wanted = os.environ.get("NPGEN_TEST_BACKENDS")
    names = [n.strip() for n in wanted.split(",")] if wanted else list(ROWS)
    rows = []
    for row in names:
        library, _ = ROWS[row]
        marks = []
        if importlib.util.find_spec(library) is None:
            marks.append(pytest.mark.skip(reason=f"{library} is not installed"))
        rows.append(pytest.param(row, id=row, marks=marks))
    return rows


@contextlib.contextmanager
def _one_torch_thread(library: str):
    """The torch row runs with one intra-op thread: on the tests' tiny arrays more threads
    only wait for each other, which on a loaded machine costs several times the work (the
    torch row of test_registry's conv entries: 59 s with torch's 2 threads, 10 s with one)."""
    if library != "torch":
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(params=_available_rows())
def backend(request):
    """Run the test with this row's backend as the global one; yields the Backend."""
    library, device = ROWS[request.param]
    with npgen.use_backend(library, device) as active, _one_torch_thread(library):
        yield active


@pytest.fixture(autouse=True)
def _restore_global_backend():
    """Whatever a test does to the global backend (e.g. `npgen ... --backend`), undo it."""
    before = npgen.get_backend()
    yield
    if npgen.get_backend() is not before:
        npgen.set_backend(before.name, before.device)


@pytest.fixture(autouse=True, scope="session")
def _private_classifier_cache(tmp_path_factory):
    """The digits classifier cache (npgen.evaluation) of a test run lives in a temporary folder,
    never in ~/.cache/npgen: results cannot depend on a stale cache. Subprocesses inherit it."""
    before = os.environ.get("NPGEN_CACHE")
    os.environ["NPGEN_CACHE"] = str(tmp_path_factory.mktemp("npgen-cache"))
    yield
    if before is None:
        os.environ.pop("NPGEN_CACHE", None)
    else:
        os.environ["NPGEN_CACHE"] = before
