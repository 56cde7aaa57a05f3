"""Op specs for the layers: dense, conv, batch norm, activations, dropout, flatten, unflatten.

Each is built from its op registry entry (:mod:`npgen.verify._from_registry`): the entry's
verification space draws a configuration dict (small sizes, so a failing case shrinks to
something a person can reason about) and makes NumPy float64 inputs from it; the reference
is the entry's forward and VJP on the numpy backend.
"""

from __future__ import annotations

from npgen.verify._from_registry import registry_spec, verifier_ops
from npgen.verify._runner import OpSpec

__all__ = ["ACTIVATIONS", "BATCHNORM", "BATCHNORM_EVAL", "CONV2D", "CONV_TRANSPOSE2D", "DENSE",
           "DROPOUT", "FLATTEN", "UNFLATTEN", "activation_spec"]

DENSE = registry_spec("dense")
CONV2D = registry_spec("conv2d")
CONV_TRANSPOSE2D = registry_spec("conv_transpose2d")
BATCHNORM = registry_spec("batchnorm_train")
BATCHNORM_EVAL = registry_spec("batchnorm_eval")
DROPOUT = registry_spec("dropout")
FLATTEN = registry_spec("flatten")
UNFLATTEN = registry_spec("unflatten")

ACTIVATIONS = verifier_ops("verify_activation")  # relu, leaky_relu, sigmoid, tanh


def activation_spec(name: str, negative_slope: float = 0.01) -> OpSpec:
    """The spec of one activation; inputs reach +-40 so that overflow-prone forms show."""
    if name not in ACTIVATIONS:
        raise ValueError(f"npgen.verify.verify_activation: unknown activation {name!r}; "
                         f"expected one of {', '.join(ACTIVATIONS)}")
    options = {"negative_slope": negative_slope} if name == "leaky_relu" else {}
    return registry_spec(name, options=options, verifier="verify_activation")
