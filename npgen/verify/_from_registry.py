"""The verifiers' op specs, built from the op registry (:mod:`npgen.registry`).

An entry's ``space`` says how its configurations are drawn, how the inputs are made and
what the op's arguments, outputs and gradients are called; the reference values are the
entry's own forward and VJP (the functions ``npgen gradcheck`` checks), computed on the
NumPy float64 inputs. A loss's reference gradients are its own (upstream 1); the runner
scales them by the drawn ``dloss``. A second-order row (upstream None) has no backward:
its outputs are the entry's VJP at its first input, the cotangent ``ddx``.
"""

from __future__ import annotations

from npgen.registry import OPS, STEPS
from npgen.verify._runner import OpSpec

__all__ = ["registry_entry", "registry_spec", "step_spec", "verifier_ops"]


def registry_entry(op: str):
    """The entry of op ``op`` with a verification space: by name, else by golden op
    (``batchnorm_train`` -> ``batchnorm[train]``, ``negative_elbo`` -> its first variant)."""
    entries = [e for e in OPS.values() if getattr(e, "space", None) is not None]
    for entry in entries:
        if op == entry.name:
            return entry
    for entry in entries:
        if op == entry.golden:
            return entry
    raise KeyError(f"npgen.verify: no registry entry {op!r} with a verification space")


def verifier_ops(verifier: str) -> tuple:
    """The registry names of the entries ``verifier`` checks (e.g. the activations)."""
    return tuple(name for name, e in OPS.items()
                 if e.verifier == verifier and getattr(e, "space", None) is not None)


def _input_of(gradient: str) -> str:
    return gradient[1:].lstrip("_")  # dx -> x, d_decoder_out -> decoder_out


def _reference(entry, options: dict):
    """reference(inputs, config, upstream) -> {output: y, gradient: array or None, ...}."""
    space = entry.space

    def reference(inputs: dict, config: dict, upstream) -> dict:
        settings = {**{k: config[k] for k in space.config_args}, **options}
        arrays = [inputs[name] for name in space.inputs]
        if space.upstream is None:  # vjp(config, ddx, dy, x, ...) -> (d_dy, d_x, ...)
            return dict(zip(space.outputs, entry.vjp(settings, *arrays)))
        out = {space.outputs[0]: entry.forward(settings, *arrays)}
        seed = 1.0 if space.kind == "loss" else upstream  # a loss: its own gradients
        grads = (None,) * len(arrays) if seed is None else entry.vjp(settings, seed, *arrays)
        out.update((g, grads[space.inputs.index(_input_of(g))]) for g in space.gradients)
        return out

    return reference


def registry_spec(op: str, name: str = "", options: dict | None = None, verifier: str = "",
                  golden_op: str | None = None) -> OpSpec:
    """The OpSpec of registry op ``op`` (an entry name or golden op), reported as ``name``
    (default ``op``), with the verifier's own settings ``options`` (default: the space's
    defaults) fixed in the reference; saved cases are files of ``golden_op`` (default: the
    entry's golden op, else ``op``; "": ``name``)."""
    entry = registry_entry(op)
    space = entry.space
    options = dict(space.options if options is None else options)
    if golden_op is None:
        golden_op = entry.golden or op
    return OpSpec(name or op, space.inputs, space.config_args, space.outputs, space.gradients,
                  space.upstream, space.configs, space.make_inputs,
                  _reference(entry, options), kind=space.kind,
                  op="" if golden_op == (name or op) else golden_op, options=options,
                  round_inputs=space.round_inputs, verifier=verifier)


def step_spec(step: str, name: str = "", options: dict | None = None, op: str = "",
              call=None) -> OpSpec:
    """The OpSpec of optimizer step ``step`` (:data:`npgen.registry.STEPS`): its space and,
    as the reference, its update, both with the verifier's ``options`` (e.g. amsgrad)."""
    entry = STEPS[step]
    options = dict(options or {})
    space = entry.space(**options)

    def reference(inputs: dict, config: dict, upstream) -> dict:
        return entry.update(inputs, config, **options)

    return OpSpec(name or step, space.inputs, space.config_args, space.outputs, (), None,
                  space.configs, space.make_inputs, reference, kind="step", op=op,
                  options=options, call=call)
