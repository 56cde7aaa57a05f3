"""Verify other implementations against npgen: differential tests, golden files, schemas.

* ``verify_*`` (:mod:`npgen.verify.api`): run a user's forward/backward and
  npgen's on Hypothesis-generated configurations; a mismatch is reported on the
  minimal failing configuration shrinking finds (:class:`VerifyReport`,
  :class:`VerifyError`).
* :mod:`npgen.verify.golden`: language-agnostic reference files (``.npz`` plus
  ``manifest.json``) and their comparison (``npgen export-reference``,
  ``npgen compare``).
* :func:`as_numpy`: the boundary for arrays of any library.

Families covered: every op of npgen: dense, conv2d, conv_transpose2d, batch
norm (training and eval), relu/leaky_relu/sigmoid/tanh, dropout (given the
mask), flatten/unflatten, mse, bce_with_logits, gaussian_kl, reparameterize,
negative_elbo, the GAN and Wasserstein losses, SGD/Adam/AdamW steps (one step,
or k steps with the state carried), clip_grad_norm. Adapters for common calling
conventions (CS231n's ``(out, cache)`` pairs, dense weights stored (in, out)) are
in :mod:`npgen.verify.adapters`. See docs/verify.md.
"""

from npgen.verify import api
from npgen.verify._convert import as_numpy
from npgen.verify._second_order import verify_double_backward
from npgen.verify._support import same_per_axis
from npgen.verify.api import *  # noqa: F403 (every verify_* but the second order, listed there)
from npgen.verify.report import TOLERANCES, ArrayComparison, Case, VerifyError, VerifyReport

__all__ = [
    "TOLERANCES",
    "ArrayComparison",
    "Case",
    "VerifyError",
    "VerifyReport",
    "as_numpy",
    "same_per_axis",
    "verify_double_backward",
]
__all__ += api.__all__
