"""Op specs for the objectives: losses and the reparameterization.

A loss's backward is a vector-Jacobian product like a layer's:
``backward(dloss, *inputs)`` returns ``dloss`` times the gradient of the loss,
and the verifier passes a random non-unit scalar ``dloss`` (a different one per
configuration), so a backward that ignores its upstream is caught. npgen's
reference functions return the loss's own gradients; the runner scales them.
Each spec is built from its op registry entry (:mod:`npgen.verify._from_registry`):
the entry's verification space draws the configurations and makes the inputs, and its
forward and VJP are the reference; the functions below fix the verifier's own settings.
"""

from __future__ import annotations

from npgen.verify._from_registry import registry_spec
from npgen.verify._runner import OpSpec

__all__ = ["GAUSSIAN_KL", "NEGATIVE_ELBO", "REPARAMETERIZE", "WASSERSTEIN_CRITIC",
           "WASSERSTEIN_GENERATOR", "bce_spec", "gan_discriminator_spec", "gan_generator_spec",
           "gradient_penalty_spec", "mse_spec", "r1_penalty_spec"]

REDUCTIONS = ("mean", "sum")


def check_reduction(where: str, reduction) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be 'mean' or 'sum'; got {reduction!r}")


def bce_spec(reduction: str = "mean") -> OpSpec:
    """bce_with_logits with ``reduction`` built into their function (as torch's keyword);
    logits reach +-200, where log(sigmoid(l)) computed naively is -inf."""
    check_reduction("npgen.verify.verify_bce_with_logits", reduction)
    name = "bce_with_logits" + ("" if reduction == "mean" else f"(reduction={reduction})")
    return registry_spec("bce_with_logits", name, {"reduction": reduction})


BCE_WITH_LOGITS = bce_spec()


def mse_spec(reduction: str = "mean") -> OpSpec:
    """Mean (or summed) squared error, ``torch.nn.functional.mse_loss``'s convention."""
    check_reduction("npgen.verify.verify_mse", reduction)
    name = "mse" + ("" if reduction == "mean" else f"(reduction={reduction})")
    return registry_spec("mse", name, {"reduction": reduction})


GAUSSIAN_KL = registry_spec("gaussian_kl")
REPARAMETERIZE = registry_spec("reparameterize")
NEGATIVE_ELBO = registry_spec("negative_elbo")


def gan_discriminator_spec(real_label: float = 1.0) -> OpSpec:
    """The discriminator loss; real_label < 1 is one-sided label smoothing, built into theirs."""
    if isinstance(real_label, bool) or not isinstance(real_label, (int, float)) or not (
            0.0 <= real_label <= 1.0):
        raise ValueError("npgen.verify.verify_gan_discriminator_loss: real_label must be a "
                         f"number in [0, 1]; got {real_label!r}")
    name = "gan_discriminator_loss" + ("" if real_label == 1.0 else f"(real_label={real_label})")
    return registry_spec("gan_discriminator_loss", name, {"real_label": float(real_label)})


GAN_DISCRIMINATOR = gan_discriminator_spec()


def gan_generator_spec(saturating: bool) -> OpSpec:
    """The generator loss, non-saturating (default) or the original saturating minimax form."""
    if not isinstance(saturating, bool):
        raise TypeError("npgen.verify.verify_gan_generator_loss: saturating must be True or "
                        f"False; got {saturating!r}")
    name = "gan_generator_loss" + ("(saturating)" if saturating else "")
    return registry_spec("gan_generator_loss", name, {"saturating": saturating})


WASSERSTEIN_CRITIC = registry_spec("wasserstein_critic_loss")
WASSERSTEIN_GENERATOR = registry_spec("wasserstein_generator_loss")


def gradient_penalty_spec(target: float = 1.0, weight: float = 10.0) -> OpSpec:
    """WGAN-GP's weight * mean_n (||g_n|| - target)^2, with target and weight built into theirs."""
    return registry_spec("gradient_penalty", f"gradient_penalty(target={target}, weight={weight})",
                         {"target": target, "weight": weight})


def r1_penalty_spec(gamma: float) -> OpSpec:
    """R1's gamma / 2 * mean_n ||g_n||^2, with gamma built into theirs."""
    return registry_spec("r1_penalty", f"r1_penalty(gamma={gamma})", {"gamma": gamma})
