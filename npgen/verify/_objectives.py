"""Op specs for the objectives: losses and the reparameterization.

A loss's backward is a vector-Jacobian product like a layer's:
``backward(dloss, *inputs)`` returns ``dloss`` times the gradient of the loss,
and the verifier passes a random non-unit scalar ``dloss`` (a different one per
configuration), so a backward that ignores its upstream is caught. npgen's
reference functions return the loss's own gradients; the runner scales them.
"""

from __future__ import annotations

from hypothesis import strategies as st

from npgen import losses
from npgen.testing import strategies as nst
from npgen.verify._runner import OpSpec

__all__ = ["GAUSSIAN_KL", "NEGATIVE_ELBO", "REPARAMETERIZE", "WASSERSTEIN_CRITIC",
           "WASSERSTEIN_GENERATOR", "bce_spec", "gan_discriminator_spec", "gan_generator_spec",
           "gradient_penalty_spec", "mse_spec", "r1_penalty_spec"]

REDUCTIONS = ("mean", "sum")


def _named(names, values) -> dict:
    return dict(zip(names, values))


def _loss_spec(name, inputs, config_args, output, gradients, configs, make_inputs, reference,
               op="", **options) -> OpSpec:
    return OpSpec(name, inputs, config_args, (output,), gradients, "dloss", configs, make_inputs,
                  reference, kind="loss", op=op, options=options)


def check_reduction(where: str, reduction) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be 'mean' or 'sum'; got {reduction!r}")


# bce_with_logits ---------------------------------------------------------------------------


def _bce_configs():
    """Logits up to +-200: log(sigmoid(l)) computed naively is -inf there."""
    return st.fixed_dictionaries({"shape": nst.shapes(1, 3, 1, 4),
                                  "scale": st.sampled_from([3.0, 30.0, 200.0]),
                                  "target": st.sampled_from(["binary", "soft"])})


def _bce_inputs(config, rng):
    shape, scale = config["shape"], config["scale"]
    target = rng.uniform(0.0, 1.0, size=shape)
    if config["target"] == "binary":
        target = (target > 0.5) * 1.0
    return {"logits": rng.uniform(-scale, scale, size=shape), "target": target}


def bce_spec(reduction: str = "mean") -> OpSpec:
    """bce_with_logits with ``reduction`` built into their function (as torch's keyword)."""
    check_reduction("npgen.verify.verify_bce_with_logits", reduction)

    def reference(inputs, config, upstream):
        values = losses.bce_with_logits(inputs["logits"], inputs["target"], reduction)
        return {**_named(("loss", "dlogits"), values), "dtarget": None}

    name = "bce_with_logits" + ("" if reduction == "mean" else f"(reduction={reduction})")
    return _loss_spec(name, ("logits", "target"), (), "loss", ("dlogits",), _bce_configs,
                      _bce_inputs, reference, op="bce_with_logits", reduction=reduction)


BCE_WITH_LOGITS = bce_spec()


# mse ---------------------------------------------------------------------------------------


def _mse_configs():
    return st.fixed_dictionaries({"shape": nst.shapes(1, 3, 1, 4)})


def _mse_inputs(config, rng):
    shape = config["shape"]
    return {"pred": rng.uniform(-2.0, 2.0, size=shape), "target": rng.uniform(-2.0, 2.0,
                                                                              size=shape)}


def mse_spec(reduction: str = "mean") -> OpSpec:
    """Mean (or summed) squared error, ``torch.nn.functional.mse_loss``'s convention."""
    check_reduction("npgen.verify.verify_mse", reduction)

    def reference(inputs, config, upstream):
        values = losses.mse(inputs["pred"], inputs["target"], reduction)
        return {**_named(("loss", "dpred"), values), "dtarget": None}

    name = "mse" + ("" if reduction == "mean" else f"(reduction={reduction})")
    return _loss_spec(name, ("pred", "target"), (), "loss", ("dpred",), _mse_configs,
                      _mse_inputs, reference, op="mse", reduction=reduction)


# gaussian_kl and negative_elbo -------------------------------------------------------------


def _posterior(config, rng) -> dict:
    shape = (config["batch"], config["latent"])  # (N, K)
    return {"mu": rng.normal(0.0, 1.0, size=shape), "logvar": rng.uniform(-4.0, 3.0, size=shape)}


def _kl_configs():
    return st.fixed_dictionaries({"batch": st.integers(1, 4), "latent": st.integers(1, 5)})


def _kl_reference(inputs, config, upstream):
    del config, upstream
    return _named(("kl", "dmu", "dlogvar"), losses.gaussian_kl(inputs["mu"], inputs["logvar"]))


GAUSSIAN_KL = _loss_spec("gaussian_kl", ("mu", "logvar"), (), "kl", ("dmu", "dlogvar"),
                         _kl_configs, _posterior, _kl_reference)


def _reparameterize_inputs(config, rng):
    shape = (config["batch"], config["latent"])  # (N, K)
    return {**_posterior(config, rng), "eps": rng.standard_normal(shape)}


def _reparameterize_reference(inputs, config, upstream):
    del config
    mu, logvar, eps = inputs["mu"], inputs["logvar"], inputs["eps"]
    out = {"z": losses.reparameterize(mu, logvar, eps), "dmu": None, "dlogvar": None,
           "deps": None}
    if upstream is not None:
        out["dmu"], out["dlogvar"] = losses.reparameterize_backward(upstream, mu, logvar, eps)
    return out


REPARAMETERIZE = OpSpec("reparameterize", ("mu", "logvar", "eps"), (), ("z",),
                        ("dmu", "dlogvar"), "dz", _kl_configs, _reparameterize_inputs,
                        _reparameterize_reference)


def _elbo_configs():
    return st.fixed_dictionaries({
        "batch": st.integers(1, 3), "data_shape": nst.shapes(1, 2, 1, 4),
        "latent": st.integers(1, 4), "likelihood": st.sampled_from(["bernoulli", "gaussian"]),
        "beta": st.sampled_from([1.0, 0.5, 4.0]), "sigma": st.sampled_from([1.0, 0.3, 2.0]),
    })


def _elbo_inputs(config, rng):
    shape = (config["batch"], *config["data_shape"])  # (N, ...)
    low = 0.0 if config["likelihood"] == "bernoulli" else -1.0
    return {"x": rng.uniform(low, 1.0, size=shape),
            "decoder_out": rng.uniform(-3.0, 3.0, size=shape), **_posterior(config, rng)}


def _elbo_reference(inputs, config, upstream):
    del upstream
    value, d_out, dmu, dlogvar = losses.negative_elbo(
        inputs["x"], inputs["decoder_out"], inputs["mu"], inputs["logvar"],
        config["likelihood"], config["beta"], config["sigma"])
    return {"loss": value, "d_decoder_out": d_out, "dmu": dmu, "dlogvar": dlogvar}


NEGATIVE_ELBO = _loss_spec(
    "negative_elbo", ("x", "decoder_out", "mu", "logvar"), ("likelihood", "beta", "sigma"),
    "loss", ("d_decoder_out", "dmu", "dlogvar"), _elbo_configs, _elbo_inputs, _elbo_reference)


# GAN losses --------------------------------------------------------------------------------


def _gan_configs():
    """Logits (N, 1) or (N,); scale 30 reaches D's saturated regime."""
    return st.fixed_dictionaries({"real_batch": st.integers(1, 4), "fake_batch": st.integers(1, 4),
                                  "tail": st.sampled_from([(1,), ()]),
                                  "scale": st.sampled_from([3.0, 30.0])})


def _logits(rng, batch, config):
    scale = config["scale"]
    return rng.uniform(-scale, scale, size=(batch, *config["tail"]))


def _gan_discriminator_inputs(config, rng):
    return {"real_logits": _logits(rng, config["real_batch"], config),
            "fake_logits": _logits(rng, config["fake_batch"], config)}


def gan_discriminator_spec(real_label: float = 1.0) -> OpSpec:
    """The discriminator loss; real_label < 1 is one-sided label smoothing, built into theirs."""
    if isinstance(real_label, bool) or not isinstance(real_label, (int, float)) or not (
            0.0 <= real_label <= 1.0):
        raise ValueError("npgen.verify.verify_gan_discriminator_loss: real_label must be a "
                         f"number in [0, 1]; got {real_label!r}")

    def reference(inputs, config, upstream):
        values = losses.gan_discriminator_loss(inputs["real_logits"], inputs["fake_logits"],
                                               real_label=float(real_label))
        return _named(("loss", "d_real_logits", "d_fake_logits"), values)

    name = "gan_discriminator_loss" + ("" if real_label == 1.0 else f"(real_label={real_label})")
    return _loss_spec(name, ("real_logits", "fake_logits"), (), "loss",
                      ("d_real_logits", "d_fake_logits"), _gan_configs,
                      _gan_discriminator_inputs, reference, op="gan_discriminator_loss",
                      real_label=float(real_label))


GAN_DISCRIMINATOR = gan_discriminator_spec()


def gan_generator_spec(saturating: bool) -> OpSpec:
    """The generator loss, non-saturating (default) or the original saturating minimax form."""
    if not isinstance(saturating, bool):
        raise TypeError("npgen.verify.verify_gan_generator_loss: saturating must be True or "
                        f"False; got {saturating!r}")

    def inputs(config, rng):
        return {"fake_logits": _logits(rng, config["fake_batch"], config)}

    def reference(arrays, config, upstream):
        del config, upstream
        return _named(("loss", "d_fake_logits"),
                      losses.gan_generator_loss(arrays["fake_logits"], saturating=saturating))

    name = "gan_generator_loss" + ("(saturating)" if saturating else "")
    return _loss_spec(name, ("fake_logits",), (), "loss", ("d_fake_logits",), _gan_configs,
                      inputs, reference, op="gan_generator_loss", saturating=saturating)


# Wasserstein losses (unbounded critic scores) ----------------------------------------------


def _wasserstein_inputs(config, rng):
    return {"real_scores": _logits(rng, config["real_batch"], config),
            "fake_scores": _logits(rng, config["fake_batch"], config)}


def _critic_reference(inputs, config, upstream):
    values = losses.wasserstein_critic_loss(inputs["real_scores"], inputs["fake_scores"])
    return _named(("loss", "d_real_scores", "d_fake_scores"), values)


def _wasserstein_generator_reference(inputs, config, upstream):
    values = losses.wasserstein_generator_loss(inputs["fake_scores"])
    return _named(("loss", "d_fake_scores"), values)


WASSERSTEIN_CRITIC = _loss_spec(
    "wasserstein_critic_loss", ("real_scores", "fake_scores"), (), "loss",
    ("d_real_scores", "d_fake_scores"), _gan_configs, _wasserstein_inputs, _critic_reference)
WASSERSTEIN_GENERATOR = _loss_spec(
    "wasserstein_generator_loss", ("fake_scores",), (), "loss", ("d_fake_scores",),
    _gan_configs, lambda config, rng: {"fake_scores": _logits(rng, config["fake_batch"], config)},
    _wasserstein_generator_reference)


# Gradient penalties (on a critic's input gradient) -------------------------------------------


def _penalty_configs():
    """(N, ...) gradients; ``zero_row`` zeroes example 0, where ||g_0|| = 0 (no 0/0 allowed)."""
    return st.fixed_dictionaries({"shape": nst.shapes(2, 4, 1, 4), "zero_row": st.booleans()})


def _penalty_inputs(config, rng):
    grads = rng.normal(0.0, 1.0, size=config["shape"])
    if config["zero_row"]:
        grads[0] = 0.0
    return {"grads": grads}


def gradient_penalty_spec(target: float = 1.0, weight: float = 10.0) -> OpSpec:
    """WGAN-GP's weight * mean_n (||g_n|| - target)^2, with target and weight built into theirs."""

    def reference(inputs, config, upstream):
        return _named(("loss", "dgrads"), losses.gradient_penalty(inputs["grads"], target, weight))

    return _loss_spec(f"gradient_penalty(target={target}, weight={weight})", ("grads",), (),
                      "loss", ("dgrads",), _penalty_configs, _penalty_inputs, reference,
                      op="gradient_penalty", target=target, weight=weight)


def r1_penalty_spec(gamma: float) -> OpSpec:
    """R1's gamma / 2 * mean_n ||g_n||^2, with gamma built into theirs."""

    def reference(inputs, config, upstream):
        return _named(("loss", "dgrads"), losses.r1_penalty(inputs["grads"], gamma))

    return _loss_spec(f"r1_penalty(gamma={gamma})", ("grads",), (), "loss", ("dgrads",),
                      _penalty_configs, _penalty_inputs, reference, op="r1_penalty", gamma=gamma)
