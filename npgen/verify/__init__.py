"""Verify other implementations against npgen: differential tests, golden files, schemas.

* ``verify_*`` (:mod:`npgen.verify.api`): run a user's forward/backward and
  npgen's on Hypothesis-generated configurations; a mismatch is reported on the
  minimal failing configuration shrinking finds (:class:`VerifyReport`,
  :class:`VerifyError`).
* :mod:`npgen.verify.golden`: language-agnostic reference files (``.npz`` plus
  ``manifest.json``) and their comparison (``npgen export-reference``,
  ``npgen compare``).
* :func:`as_numpy`: the boundary for arrays of any library.

Families covered: dense, conv2d, conv_transpose2d, batch norm (training),
relu/leaky_relu/sigmoid/tanh, bce_with_logits, gaussian_kl, negative_elbo,
the GAN discriminator and generator losses, one Adam step. See docs/verify.md.
"""

from npgen.verify._convert import as_numpy
from npgen.verify._second_order import verify_double_backward
from npgen.verify.api import (
    verify_activation,
    verify_adam_step,
    verify_adamw_step,
    verify_batchnorm_train,
    verify_bce_with_logits,
    verify_conv2d,
    verify_conv_transpose2d,
    verify_dense,
    verify_gan_discriminator_loss,
    verify_gan_generator_loss,
    verify_gaussian_kl,
    verify_negative_elbo,
)
from npgen.verify.report import TOLERANCES, ArrayComparison, VerifyError, VerifyReport

__all__ = [
    "TOLERANCES",
    "ArrayComparison",
    "VerifyError",
    "VerifyReport",
    "as_numpy",
    "verify_activation",
    "verify_adam_step",
    "verify_adamw_step",
    "verify_batchnorm_train",
    "verify_bce_with_logits",
    "verify_conv2d",
    "verify_conv_transpose2d",
    "verify_dense",
    "verify_double_backward",
    "verify_gan_discriminator_loss",
    "verify_gan_generator_loss",
    "verify_gaussian_kl",
    "verify_negative_elbo",
]
