"""Gradient clipping by the global L2 norm, as ``torch.nn.utils.clip_grad_norm_``."""

from __future__ import annotations

import math
from collections.abc import Mapping

import array_api_compat

from npgen._validation import check_float, check_like

CLIP_EPS = 1e-6  # PyTorch's guard in max_norm / (total_norm + 1e-6)


def clip_grad_norm(grads, max_norm):
    """Scale all gradients IN PLACE so that their joint L2 norm is at most ``max_norm``.

    Parameters
    ----------
    grads : dict name -> array, or a sequence of arrays
        Gradients of any shapes, all on one library, device and dtype
        (e.g. ``model.gradients()``); each is multiplied in place (``g[...] = ...``).
    max_norm : float
        Largest allowed total norm (>= 0).

    Returns
    -------
    total_norm : 0-d array
        The norm BEFORE clipping, on the gradients' namespace, device and
        dtype (``float(total_norm)`` gives a Python number), as PyTorch returns
        a 0-d tensor.

    Notes
    -----
    ::

        n    = sqrt(sum_i |g_i|^2)                  (the norm of the per-array norms)
        c    = min(1, max_norm / (n + 1e-6))
        g_i  = c * g_i                              (for every i, also when c = 1)

    Exactly ``torch.nn.utils.clip_grad_norm_(..., norm_type=2)``; a non-finite
    norm is not an error (PyTorch's ``error_if_nonfinite=False``).
    """
    where = "clip_grad_norm"
    arrays = list(grads.values()) if isinstance(grads, Mapping) else list(grads)
    if not arrays:
        raise ValueError(f"{where}: got no gradients")
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)):
        raise TypeError(f"{where}: max_norm must be a real number; got {max_norm!r}")
    if math.isnan(max_norm) or max_norm < 0:
        raise ValueError(f"{where}: max_norm must be >= 0; got {max_norm!r}")
    for i, g in enumerate(arrays):
        check_float(where, g, name=f"gradient {i}")
        check_like(where, g, arrays[0], name=f"gradient {i}", reference_name="gradient 0")
    xp = array_api_compat.array_namespace(*arrays)
    norms = xp.stack([xp.linalg.vector_norm(g) for g in arrays])  # (number of arrays,)
    total_norm = xp.linalg.vector_norm(norms)
    coef = max_norm / (total_norm + CLIP_EPS)
    coef = xp.where(coef > 1.0, xp.ones_like(coef), coef)  # clamp(max=1); NaN passes through
    for g in arrays:
        g[...] = g * coef
    return xp.asarray(total_norm)  # a 0-d array (NumPy's reductions return scalars)
