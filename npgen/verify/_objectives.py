"""Op specs for the objectives and the optimizer step.

Losses are the roots of the graph: their backward takes the same arguments as
their forward and returns the gradient of the loss itself (upstream 1). The
Adam step has no backward: its three outputs are compared.
"""

from __future__ import annotations

from hypothesis import strategies as st

from npgen.losses import bce_with_logits, gan_discriminator_loss, gan_generator_loss, gaussian_kl
from npgen.losses import negative_elbo as npgen_negative_elbo
from npgen.optim import AdamState, adam_update
from npgen.testing import strategies as nst
from npgen.verify._runner import OpSpec

__all__ = ["ADAM", "BCE_WITH_LOGITS", "GAN_DISCRIMINATOR", "GAUSSIAN_KL", "NEGATIVE_ELBO",
           "gan_generator_spec"]


def _named(names, values) -> dict:
    return dict(zip(names, values))


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


def _bce_reference(inputs, config, upstream):
    del config, upstream
    return _named(("loss", "dlogits"), bce_with_logits(inputs["logits"], inputs["target"]))


BCE_WITH_LOGITS = OpSpec("bce_with_logits", ("logits", "target"), (), ("loss",), ("dlogits",),
                         None, _bce_configs, _bce_inputs, _bce_reference)


# gaussian_kl and negative_elbo -------------------------------------------------------------


def _posterior(config, rng) -> dict:
    shape = (config["batch"], config["latent"])  # (N, K)
    return {"mu": rng.normal(0.0, 1.0, size=shape), "logvar": rng.uniform(-4.0, 3.0, size=shape)}


def _kl_configs():
    return st.fixed_dictionaries({"batch": st.integers(1, 4), "latent": st.integers(1, 5)})


def _kl_reference(inputs, config, upstream):
    del config, upstream
    return _named(("kl", "dmu", "dlogvar"), gaussian_kl(inputs["mu"], inputs["logvar"]))


GAUSSIAN_KL = OpSpec("gaussian_kl", ("mu", "logvar"), (), ("kl",), ("dmu", "dlogvar"), None,
                     _kl_configs, _posterior, _kl_reference)


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
    value, d_out, dmu, dlogvar = npgen_negative_elbo(
        inputs["x"], inputs["decoder_out"], inputs["mu"], inputs["logvar"],
        config["likelihood"], config["beta"], config["sigma"])
    return {"loss": value, "d_decoder_out": d_out, "dmu": dmu, "dlogvar": dlogvar}


NEGATIVE_ELBO = OpSpec(
    "negative_elbo", ("x", "decoder_out", "mu", "logvar"), ("likelihood", "beta", "sigma"),
    ("loss",), ("d_decoder_out", "dmu", "dlogvar"), None, _elbo_configs, _elbo_inputs,
    _elbo_reference)


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


def _gan_discriminator_reference(inputs, config, upstream):
    del config, upstream
    values = gan_discriminator_loss(inputs["real_logits"], inputs["fake_logits"])
    return _named(("loss", "d_real_logits", "d_fake_logits"), values)


GAN_DISCRIMINATOR = OpSpec(
    "gan_discriminator_loss", ("real_logits", "fake_logits"), (), ("loss",),
    ("d_real_logits", "d_fake_logits"), None, _gan_configs, _gan_discriminator_inputs,
    _gan_discriminator_reference)


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
                      gan_generator_loss(arrays["fake_logits"], saturating=saturating))

    name = "gan_generator_loss" + ("(saturating)" if saturating else "")
    return OpSpec(name, ("fake_logits",), (), ("loss",), ("d_fake_logits",), None, _gan_configs,
                  inputs, reference)


# One Adam step -----------------------------------------------------------------------------


def _adam_configs():
    """``step`` is t, the 1-based index of the update being taken (torch's state['step'] after)."""
    return st.fixed_dictionaries({
        "shape": nst.shapes(1, 2, 1, 4), "step": st.integers(1, 10),
        "lr": st.sampled_from([1e-3, 0.1]), "betas": st.sampled_from([(0.9, 0.999), (0.5, 0.9)]),
        "eps": st.sampled_from([1e-8, 1e-3]), "weight_decay": st.sampled_from([0.0, 0.1]),
    })


def _adam_inputs(config, rng):
    shape = config["shape"]
    return {"param": rng.uniform(-1.0, 1.0, size=shape), "grad": rng.normal(0.0, 1.0, size=shape),
            "exp_avg": rng.normal(0.0, 0.3, size=shape),
            "exp_avg_sq": rng.uniform(0.0, 0.5, size=shape)}


def _adam_reference(inputs, config, upstream, decoupled_weight_decay=False):
    del upstream
    state = AdamState(config["step"] - 1, inputs["exp_avg"], inputs["exp_avg_sq"])
    new_param, new_state = adam_update(
        inputs["param"], inputs["grad"], state, lr=config["lr"], betas=config["betas"],
        eps=config["eps"], weight_decay=config["weight_decay"],
        decoupled_weight_decay=decoupled_weight_decay)
    return {"new_param": new_param, "new_exp_avg": new_state.exp_avg,
            "new_exp_avg_sq": new_state.exp_avg_sq}


def _adam_spec(name: str, decoupled_weight_decay: bool) -> OpSpec:
    """Adam (L2 weight decay in the gradient) or AdamW (decoupled decay of the parameter)."""

    def reference(inputs, config, upstream):
        return _adam_reference(inputs, config, upstream, decoupled_weight_decay)

    return OpSpec(name, ("param", "grad", "exp_avg", "exp_avg_sq"),
                  ("step", "lr", "betas", "eps", "weight_decay"),
                  ("new_param", "new_exp_avg", "new_exp_avg_sq"), (), None, _adam_configs,
                  _adam_inputs, reference)


ADAM = _adam_spec("adam_step", decoupled_weight_decay=False)
ADAMW = _adam_spec("adamw_step", decoupled_weight_decay=True)
