"""``verify_double_backward``: check someone's second-order code (gradient penalties) against npgen.

The convention is npgen's ``op_double_backward``: for an op with backward
``dx = B(dy, x, theta)``, their function receives the cotangent ``ddx`` of dx, the upstream
gradient ``dy`` and the op's arrays, and returns the cotangents of ``dy``, ``x`` and each
parameter for the scalar <ddx, dx>. The reference is npgen's functional double backward on
NumPy float64 arrays (the op registry's ``*_double_backward`` rows); configurations are
drawn and shrunk as in the other ``verify_*``.
"""

from __future__ import annotations

import numpy as np

from npgen.verify._convert import as_numpy, resolve_converter
from npgen.verify._from_registry import registry_spec, verifier_ops
from npgen.verify._runner import OpSpec, run_differential
from npgen.verify.report import VerifyError, VerifyReport

__all__ = ["verify_double_backward"]

# dense, conv2d, conv_transpose2d, relu, leaky_relu, sigmoid, tanh: the registry's
# ``*_double_backward`` rows with a verification space
OPS = tuple(name.removesuffix("_double_backward")
            for name in verifier_ops("verify_double_backward"))


def _spec(op: str, negative_slope: float) -> OpSpec:
    """The registry row ``op_double_backward``: its space draws the configurations and
    makes (ddx, dy, x, ...); its VJP, npgen's double backward, is the reference."""
    options = {"negative_slope": negative_slope} if op == "leaky_relu" else {}
    return registry_spec(f"{op}_double_backward", f"double_backward({op})", options,
                         golden_op="")


def _none_as_zero(double_backward, names):
    """Their results with None read as zeros of the matching input (torch's allow_unused)."""
    matching = {"d_dy": 1, "d_x": 2, "dweight": 3, "dbias": 4}

    def wrapped(*args):
        results = double_backward(*args)
        if not isinstance(results, (tuple, list)) or len(results) != len(names):
            return results  # the runner reports the malformed result
        return tuple(np.zeros(as_numpy(args[matching[n]]).shape)
                     if r is None and args[matching[n]] is not None else r
                     for n, r in zip(names, results))

    return wrapped


def verify_double_backward(op: str, double_backward, *, negative_slope: float = 0.01,
                           max_examples: int = 50, rtol=None, atol=None, seed: int = 0,
                           array_library=None, to_theirs=None,
                           raise_exception: bool = True) -> VerifyReport:
    """Verify a second-order VJP (the heart of a gradient penalty) against npgen's.

    Parameters
    ----------
    op : str
        ``"dense"``, ``"conv2d"``, ``"conv_transpose2d"``, ``"relu"``, ``"leaky_relu"``,
        ``"sigmoid"`` or ``"tanh"``, with the layouts of :mod:`npgen.verify`'s first-order
        functions (torch's).
    double_backward : callable
        Layers: ``double_backward(ddx, dy, x, weight, bias, *geometry) -> (d_dy, d_x,
        dweight, dbias)``, where the geometry is ``stride, padding, dilation`` (conv2d) or
        ``stride, padding, output_padding, dilation`` (conv_transpose2d), (h, w) pairs.
        Activations: ``double_backward(ddx, dy, x) -> (d_dy, d_x)``. Each result is the
        gradient of the scalar <ddx, dx> with dx = backward(dy, x, ...); ``None`` counts as
        zero (what ``torch.autograd.grad(..., allow_unused=True)`` returns for x and bias).
    negative_slope : float
        leaky_relu's slope.
    max_examples, rtol, atol, seed, array_library, to_theirs, raise_exception
        As for every ``npgen.verify`` function (see :mod:`npgen.verify.api`).

    Example (torch, second order by ``create_graph=True``)::

        import torch, torch.nn.functional as F

        def conv_double_backward(ddx, dy, x, w, b, stride, padding, dilation):
            x, w, dy = (t.requires_grad_() for t in (x, w, dy))
            y = F.conv2d(x, w, b, stride, padding, dilation)
            (dx,) = torch.autograd.grad(y, x, dy, create_graph=True)
            return torch.autograd.grad((dx * ddx).sum(), (dy, x, w), allow_unused=True) + (None,)

        npgen.verify.verify_double_backward("conv2d", conv_double_backward,
                                            array_library="torch")
    """
    where = "npgen.verify.verify_double_backward"
    if op not in OPS:
        raise ValueError(f"{where}: unknown op {op!r}; expected one of {', '.join(OPS)}")
    if not callable(double_backward):
        raise TypeError(f"{where}: double_backward must be callable; got {double_backward!r}")
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1:
        raise ValueError(f"{where}: max_examples must be a positive int; got {max_examples!r}")
    if (rtol is None) != (atol is None):
        raise ValueError(f"{where}: pass both rtol and atol, or neither (dtype defaults)")
    spec = _spec(op, negative_slope)
    convert = resolve_converter(where, array_library, to_theirs)
    report = run_differential(spec, _none_as_zero(double_backward, spec.outputs), None,
                              convert=convert, max_examples=max_examples, seed=seed, rtol=rtol,
                              atol=atol)
    if raise_exception and not report.ok:
        raise VerifyError(report)
    return report
