"""The guards every module's forward and backward wear (installed by ``Module.__init_subclass__``).

* A forward remembers its output's (array type, dtype, device) and, if it raises, forgets
  the caches of the module and its children, so a stale cache is never differentiated.
* A backward refuses a ``dy`` of another dtype or device than that output: no silent
  promotion of gradients.

The checks live here, once, so that the layer classes hold only their math calls.
"""

from __future__ import annotations

import functools

from npgen._checks.layers import check_dtype

__all__ = ["guard_backward", "guard_forward"]


def _output_signature(y):
    """(array type, dtype, device) of a forward output; None when it is not one array."""
    if not (hasattr(y, "dtype") and hasattr(y, "shape")):
        return None
    return type(y), y.dtype, getattr(y, "device", None)


def guard_forward(method):
    """A forward that remembers its output's signature, and forgets its caches if it fails.

    A failed ``m(bad)`` after a good ``m(x)`` must not leave ``x``'s cache
    behind: the next ``backward`` then says "backward called before forward"
    instead of returning the gradient at the stale ``x``.
    """
    @functools.wraps(method)
    def forward(self, *args, **kwargs):
        try:
            y = method(self, *args, **kwargs)
        except BaseException:
            self._forget_forward()
            raise
        self._output = _output_signature(y)
        return y

    forward._npgen_guarded = True
    return forward


def guard_backward(method):
    """A backward that refuses a dy of another dtype or device than the forward output.

    No silent promotion: a float64 dy into a float32 layer is an error, never a
    float64 (or int64) gradient. Arrays of another library fall through to the
    layer's own checks, which name the mix of libraries.
    """
    @functools.wraps(method)
    def backward(self, *args, **kwargs):
        if self._output is not None and len(args) == 1 and not kwargs:
            _check_upstream(f"{self._name()}.backward", args[0], self._output)
        return method(self, *args, **kwargs)

    backward._npgen_guarded = True
    return backward


def _check_upstream(where: str, dy, signature) -> None:
    kind, dtype, device = signature
    if type(dy) is not kind:
        return
    if dy.dtype != dtype:  # the cheap comparison first: this runs on every backward
        check_dtype(where, dy, dtype)
    if getattr(dy, "device", None) != device:
        raise TypeError(f"{where}: dy is on {dy.device} but the forward output is on "
                        f"{device}; move it with npgen.asarray")
