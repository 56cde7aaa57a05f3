"""The op registry's own promises: every entry's docs page explains it, its kinks are
avoided by its configurations, its names agree with npgen.verify and the golden files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

import npgen
from npgen.gradcheck import DEFAULT_TOLERANCES
from npgen.gradcheck_suite import draw_cases
from npgen.registry import OPS, STEPS, TOLERANCES, golden_cases, golden_shared_names
from npgen.verify import golden

ROOT = Path(__file__).resolve().parents[1]


def _documented_name(name: str) -> str:
    """The name a docs page uses: ``nn.Conv2d`` -> ``Conv2d``, ``batchnorm[eval]`` ->
    ``batchnorm``, ``relu_double_backward`` -> ``relu``, ``conv2d_winograd`` -> ``conv2d``."""
    base = name.removeprefix("nn.").split("[")[0]
    return base.removesuffix("_double_backward").removesuffix("_winograd")


@pytest.mark.parametrize("name", list(OPS))
def test_every_entry_has_a_docs_page_that_names_it(name):
    page = ROOT / OPS[name].docs
    assert OPS[name].docs.startswith("docs/") and page.is_file(), f"{name}: no page {page}"
    assert _documented_name(name) in page.read_text(encoding="utf-8"), (name, page)


@pytest.mark.parametrize("name", [name for name, op in OPS.items() if op.kinks])
def test_configurations_stay_off_the_kinks(name):
    op = OPS[name]
    for case in draw_cases(op, 20, seed=1):
        x = npgen.to_numpy(case.inputs[case.names.index("x" if "x" in case.names else "grads")])
        distance = np.min(np.abs(x[..., None] - np.asarray(op.kinks)), initial=np.inf)
        assert distance >= 0.5e-3, (name, case.describe())


def test_tolerances_are_the_gradient_checks_defaults():
    assert all(op.tolerances["float64"] == DEFAULT_TOLERANCES["float64"] for op in OPS.values())
    assert TOLERANCES["float32"] == (2e-5, 2e-5)  # the float32 twin tolerance of test_twins


def test_golden_ops_are_registry_names():
    """Each entry's golden op has golden files; every golden op but the optimizer steps
    belongs to an entry (export-reference --list shows it under the registry's name)."""
    named = {op.golden for op in OPS.values() if op.golden is not None}
    assert named <= set(golden.OPS)
    assert set(golden.OPS) - named == {"adam_step", "adamw_step", "sgd_step", "clip_grad_norm"}
    assert golden_shared_names() == {"batchnorm_train": "batchnorm[train]",
                                     "batchnorm_eval": "batchnorm[eval]"}


def test_golden_cases_come_from_the_entries():
    """export-reference iterates the registry: each entry's golden cases are files of its
    golden op, every entry with a golden op has some, and nothing else is exported."""
    for entry in (*OPS.values(), *STEPS.values()):
        assert all(case.op == entry.golden for case in entry.golden_cases), entry.name
        assert bool(entry.golden_cases) == (entry.golden is not None), entry.name
    assert golden.GOLDEN_CASES == golden_cases()
    assert len({case.file for case in golden.GOLDEN_CASES}) == len(golden.GOLDEN_CASES)


def test_verifiers_draw_from_their_registry_entry():
    """npgen.verify keeps no op list of its own: every layer, objective and second-order
    verifier draws its configurations and inputs from an entry's space (and its reference
    is that entry's forward and VJP), and every entry with a space has a verifier."""
    from npgen.verify import _layers, _objectives, _second_order
    from npgen.verify._from_registry import registry_entry

    specs = [_layers.DENSE, _layers.CONV2D, _layers.CONV_TRANSPOSE2D, _layers.BATCHNORM,
             _layers.BATCHNORM_EVAL, _layers.DROPOUT, _layers.FLATTEN, _layers.UNFLATTEN,
             *map(_layers.activation_spec, _layers.ACTIVATIONS), _objectives.bce_spec(),
             _objectives.mse_spec(), _objectives.GAUSSIAN_KL, _objectives.REPARAMETERIZE,
             _objectives.NEGATIVE_ELBO, _objectives.gan_discriminator_spec(),
             _objectives.gan_generator_spec(True), _objectives.WASSERSTEIN_CRITIC,
             _objectives.WASSERSTEIN_GENERATOR, _objectives.gradient_penalty_spec(),
             _objectives.r1_penalty_spec(1.0)]
    pairs = [(spec, registry_entry(spec.golden_op)) for spec in specs]
    pairs += [(_second_order._spec(op, 0.01), registry_entry(f"{op}_double_backward"))
              for op in _second_order.OPS]
    drawn = set()
    for spec, entry in pairs:
        assert spec.configs is entry.space.configs, spec.name
        assert spec.make_inputs is entry.space.make_inputs, spec.name
        assert spec.reference.__module__ == "npgen.verify._from_registry", spec.name
        drawn.add(entry.name)
    spaced = {name for name, op in OPS.items() if getattr(op, "space", None) is not None}
    assert spaced - drawn <= {"negative_elbo[gaussian]", "gan_generator_loss[saturating]"}


def test_step_verifiers_draw_from_the_registry_steps():
    from npgen.verify import _optim

    for step, spec in (("sgd_step", _optim.SGD), ("clip_grad_norm", _optim.CLIP_GRAD_NORM),
                       ("adam_step", _optim.adam_spec(False, True)),
                       ("adamw_step", _optim.adam_spec(True, False))):
        assert spec.configs is STEPS[step].space().configs, step
        assert spec.reference.__module__ == "npgen.verify._from_registry", step
        assert spec.golden_op == STEPS[step].golden


# The generic gradient check: every entry, every backend row, Hypothesis-drawn configurations ---


def _examples(name: str) -> int:
    """The conv second-order rows cost ~0.5 s per example on the strict row: as many as the
    op-specific tests they replaced drew (8). The Winograd rows (seconds per example) are
    checked by test_gradcheck_command's run over every row and by test_conv_fast_path."""
    profile = settings().max_examples
    return min(profile, 8) if "conv" in name and name.endswith("_double_backward") else profile


GENERIC = [name for name in OPS if not name.endswith("_winograd")]


@pytest.mark.parametrize("name", GENERIC)
def test_every_entry_passes_its_gradient_check(backend, name):
    """check_vjp on a FunctionOp's pair (or check_module on a ModuleOp), float64, at the
    entry's tolerances; the op-specific files keep only what this cannot say."""
    op = OPS[name]

    @settings(max_examples=_examples(name))
    @given(op.cases())
    def check(case):
        report = op.check(case)
        assert report.ok, f"{name}: {case.describe()}\n{report}"

    check()
