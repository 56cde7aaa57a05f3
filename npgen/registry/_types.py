"""The entry types of the op registry: a configuration (:class:`Case`), a function with
its VJP (:class:`FunctionOp`), a module (:class:`ModuleOp`), an optimizer step
(:class:`StepOp`), a golden-file case (:class:`GoldenCase`) and a benchmark
(:class:`BenchCase`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from npgen.gradcheck import DEFAULT_TOLERANCES, GradcheckReport, check_module, check_vjp

# dtype -> (rtol, atol). float64: the gradient check's defaults; float32: the forward on
# inputs rounded to float32 against the float64 twin, a few units of float32's 6e-8
# rounding per term times sums of a few dozen terms.
TOLERANCES = {"float64": DEFAULT_TOLERANCES["float64"], "float32": (2e-5, 2e-5)}


class Case(NamedTuple):
    """One configuration: the arrays checked (float64, global backend) and the settings."""

    inputs: tuple
    names: tuple
    config: dict  # non-array arguments, e.g. {"stride": (2, 1)}

    def describe(self) -> str:
        arrays = ", ".join(f"{n} {tuple(a.shape)}" for n, a in zip(self.names, self.inputs))
        settings_ = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return arrays + (f"; {settings_}" if settings_ else "")


class Space(NamedTuple):
    """An entry's verification space (:mod:`npgen.verify`, golden files): configurations
    as plain dicts, the inputs made from one and a NumPy Generator, and the names of the
    op's arguments, outputs and gradients in the verifiers' calling convention."""

    configs: Callable  # () -> SearchStrategy of dict
    make_inputs: Callable  # (config, rng) -> dict of NumPy float64 arrays (or None)
    inputs: tuple  # array arguments, in call order
    config_args: tuple = ()  # configuration keys passed after the arrays
    outputs: tuple = ("y",)
    gradients: tuple = ("dx",)  # "d" + input ("d_" + input for names with "_")
    upstream: str = "dy"  # "dloss": a loss, whose backward scales its gradients
    round_inputs: bool = True  # inputs may be rounded to few decimals (False near kinks)
    options: tuple = ()  # (keyword, default): the verifier's own settings of the op
    kind: str = "layer"  # "loss": dloss scales the gradients; "step": no backward


class GoldenCase(NamedTuple):
    """One golden file: an op, a case name, why it is there, and the configuration (in the
    form of the op's :mod:`npgen.verify` spec)."""

    op: str
    case: str
    description: str
    config: dict

    @property
    def file(self) -> str:
        return f"{self.op}__{self.case}.npz"


class FunctionOp(NamedTuple):
    """A function and its VJP: ``forward(config, *inputs) -> y``,
    ``vjp(config, dy, *inputs) -> one gradient (or None) per input``.

    ``twin(config, *host float64 inputs) -> float64 array or float`` is the slow
    definition (npgen.testing.reference*); ``kinks`` the input values where the op is
    not differentiable (the case strategy stays off them); ``tolerances`` dtype ->
    (rtol, atol); ``docs`` the page that explains the op; ``verifier`` its
    :mod:`npgen.verify` function, whose configurations and inputs are ``space`` (a
    :class:`Space`) and whose reference is this entry's forward and VJP; ``golden`` its
    golden-file op (None: none) and ``golden_cases`` the :class:`GoldenCase` files
    ``npgen export-reference`` writes for it (in ``space``'s configuration form).
    """

    name: str
    cases: Callable  # () -> strategy of Case
    forward: Callable
    vjp: Callable
    twin: Callable | None = None
    kinks: tuple = ()
    tolerances: dict = TOLERANCES
    docs: str = ""
    verifier: str = ""
    golden: str | None = None
    golden_cases: tuple = ()
    space: Space | None = None  # the verifier's configurations and inputs

    def check(self, case: Case) -> GradcheckReport:
        rtol, atol = self.tolerances["float64"]
        return check_vjp(lambda *a: self.forward(case.config, *a),
                         lambda dy, *a: self.vjp(case.config, dy, *a),
                         case.inputs, names=case.names, rtol=rtol, atol=atol,
                         raise_exception=False)


class ModuleOp(NamedTuple):
    """A module built by ``build(config)`` (float64), checked on ``case.inputs[0]``; the
    other fields as in :class:`FunctionOp` (a module's twin is its functional op's)."""

    name: str
    cases: Callable  # () -> strategy of Case with inputs (x,)
    build: Callable
    twin: Callable | None = None
    kinks: tuple = ()
    tolerances: dict = TOLERANCES
    docs: str = ""
    verifier: str = ""
    golden: str | None = None
    golden_cases: tuple = ()
    bench: tuple = ()  # BenchCase: the layer's ``npgen bench`` shapes

    def check(self, case: Case) -> GradcheckReport:
        rtol, atol = self.tolerances["float64"]
        return check_module(self.build(case.config), case.inputs[0], rtol=rtol, atol=atol,
                            raise_exception=False)


class StepOp(NamedTuple):
    """An optimizer step, checked by steps (not gradients) by its ``verifier``:
    ``space(**options) -> Space`` draws its configurations and inputs (the state before the
    step), ``update(inputs, config, **options) -> dict`` is npgen's step on them (e.g.
    ``amsgrad=True``); ``golden`` and ``golden_cases`` as in :class:`FunctionOp`."""

    name: str
    verifier: str
    docs: str
    golden: str
    golden_cases: tuple = ()
    space: Callable | None = None
    update: Callable | None = None


class BenchCase(NamedTuple):
    """One ``npgen bench`` timing of a module entry: the layer built with ``args`` (npgen's
    class and torch's ``torch_layer`` alike) on float32 inputs, one forward + backward."""

    name: str  # "conv2d-3-64-64x64": the group, then the sizes
    description: str
    args: tuple  # constructor arguments, e.g. (3, 64, 4, 2, 1)
    input_shape: tuple  # one example, without the batch axis
    output_shape: tuple
    batch: int  # default batch size
    torch_layer: str  # the torch.nn class
    seeded: bool = True  # npgen's layer takes seed=0 (random weights)
    target_ratio: float = 1.25  # npgen time / torch time must stay under this

    @property
    def group(self) -> str:
        return self.name.split("-")[0]
