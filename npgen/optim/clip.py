"""Gradient clipping by the global L2 norm, as ``torch.nn.utils.clip_grad_norm_``."""

from __future__ import annotations

from npgen._checks.optim import check_clip_grad_norm
from npgen.backend import namespace_of

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
    arrays = check_clip_grad_norm("clip_grad_norm", grads, max_norm)
    xp = namespace_of(*arrays)
    norms = xp.stack([xp.linalg.vector_norm(g) for g in arrays])  # (number of arrays,)
    total_norm = xp.linalg.vector_norm(norms)
    coef = max_norm / (total_norm + CLIP_EPS)
    coef = xp.where(coef > 1.0, xp.ones_like(coef), coef)  # clamp(max=1); NaN passes through
    for g in arrays:
        g[...] = g * coef
    return xp.asarray(total_norm)  # a 0-d array (NumPy's reductions return scalars)
