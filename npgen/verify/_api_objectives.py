"""The ``verify_*`` functions of the objectives and optimizers (options: see :mod:`.api`).

A loss's backward is a vector-Jacobian product, ``backward(dloss, *inputs)``,
returning ``dloss`` times the gradient of the loss; the verifier passes a random
non-unit scalar ``dloss``, so a backward that ignores it is caught. A grad-form
backward ``backward(*inputs)`` (e.g. ``jax.grad(loss)``) is still accepted: the
form is read from the signature (or ``backward_form="vjp"``/``"grad"``), and the
report notes that an ignored upstream cannot be detected in that form.
"""

from __future__ import annotations

from npgen.verify import _objectives, _optim
from npgen.verify._entry import verify_spec
from npgen.verify.report import VerifyReport

__all__ = [
    "verify_adam_step",
    "verify_adamw_step",
    "verify_bce_with_logits",
    "verify_clip_grad_norm",
    "verify_gan_discriminator_loss",
    "verify_gan_generator_loss",
    "verify_gaussian_kl",
    "verify_gradient_penalty",
    "verify_mse",
    "verify_negative_elbo",
    "verify_optimizer_steps",
    "verify_r1_penalty",
    "verify_reparameterize",
    "verify_sgd_step",
    "verify_wasserstein_critic_loss",
    "verify_wasserstein_generator_loss",
]


def verify_mse(forward, backward=None, *, reduction: str = "mean", **options) -> VerifyReport:
    """Verify the squared error, ``torch.nn.functional.mse_loss``'s convention.

    ``forward(pred, target) -> loss`` with ``reduction`` ("mean" over all
    elements, or "sum") built into their function; ``backward(dloss, pred, target)
    -> dpred``.
    """
    return verify_spec(_objectives.mse_spec(reduction), forward, backward, **options)


def verify_bce_with_logits(forward, backward=None, *, reduction: str = "mean",
                           **options) -> VerifyReport:
    """Verify binary cross-entropy on logits (``reduction`` "mean" or "sum", built into theirs).

    ``forward(logits, target) -> loss`` (a scalar) and ``backward(dloss, logits, target)
    -> dlogits``. Logits reach +-200, where ``log(sigmoid(l))`` computed naively is -inf.

    Example::

        bce = F.binary_cross_entropy_with_logits
        npgen.verify.verify_bce_with_logits(bce, torch_vjp(bce, 1, loss=True),
                                            array_library="torch")
    """
    return verify_spec(_objectives.bce_spec(reduction), forward, backward, **options)


def verify_gaussian_kl(forward, backward=None, **options) -> VerifyReport:
    """Verify KL(N(mu, exp(logvar)) || N(0, I)), summed over latents, averaged over the batch.

    ``forward(mu, logvar) -> kl`` with mu, logvar (N, K); ``backward(dloss, mu, logvar) ->
    (dmu, dlogvar)``.
    """
    return verify_spec(_objectives.GAUSSIAN_KL, forward, backward, **options)


def verify_reparameterize(forward, backward=None, **options) -> VerifyReport:
    """Verify the reparameterization ``z = mu + exp(logvar / 2) * eps``.

    ``forward(mu, logvar, eps) -> z`` with (N, K) arrays; ``backward(dz, mu, logvar, eps)
    -> (dmu, dlogvar)``. The forward is compared with npgen's, so a std of
    ``exp(logvar)`` is caught even when the backward differentiates it consistently.
    """
    return verify_spec(_objectives.REPARAMETERIZE, forward, backward, **options)


def verify_negative_elbo(forward, backward=None, **options) -> VerifyReport:
    """Verify the negative ELBO (batch mean, nats) as :func:`npgen.losses.negative_elbo`.

    ``forward(x, decoder_out, mu, logvar, likelihood, beta, sigma) -> loss`` with
    x, decoder_out (N, ...), mu, logvar (N, K), likelihood "bernoulli" (decoder_out
    are logits) or "gaussian" (decoder_out is the mean, fixed sigma).
    ``backward(dloss, x, decoder_out, mu, logvar, likelihood, beta, sigma) ->
    (d_decoder_out, dmu, dlogvar)`` (the direct gradients; the path through z
    is the decoder's business).
    """
    return verify_spec(_objectives.NEGATIVE_ELBO, forward, backward, **options)


def verify_gan_discriminator_loss(forward, backward=None, *, real_label: float = 1.0,
                                  **options) -> VerifyReport:
    """Verify the discriminator loss mean softplus(-r) + mean softplus(f).

    ``forward(real_logits, fake_logits) -> loss`` with logits (N_real, 1) or
    (N_real,) and (N_fake, ...); ``backward(dloss, real_logits, fake_logits) ->
    (d_real_logits, d_fake_logits)``. ``real_label`` < 1 (e.g. 0.9) verifies
    one-sided label smoothing built into their function: the real term is
    BCE(r, real_label).
    """
    spec = _objectives.gan_discriminator_spec(real_label)
    return verify_spec(spec, forward, backward, **options)


def verify_gan_generator_loss(forward, backward=None, *, saturating: bool = False,
                              **options) -> VerifyReport:
    """Verify the generator loss: non-saturating mean softplus(-f) or saturating -mean softplus(f).

    ``forward(fake_logits) -> loss`` and ``backward(dloss, fake_logits) -> d_fake_logits``.
    """
    spec = _objectives.gan_generator_spec(saturating)
    return verify_spec(spec, forward, backward, **options)


def verify_wasserstein_critic_loss(forward, backward=None, **options) -> VerifyReport:
    """Verify the WGAN critic loss mean(f) - mean(r).

    ``forward(real_scores, fake_scores) -> loss``; ``backward(dloss, real_scores,
    fake_scores) -> (d_real_scores, d_fake_scores)``.
    """
    return verify_spec(_objectives.WASSERSTEIN_CRITIC, forward, backward, **options)


def verify_wasserstein_generator_loss(forward, backward=None, **options) -> VerifyReport:
    """Verify the WGAN generator loss -mean(f): ``forward(fake_scores) -> loss``;
    ``backward(dloss, fake_scores) -> d_fake_scores``."""
    return verify_spec(_objectives.WASSERSTEIN_GENERATOR, forward, backward, **options)


def verify_gradient_penalty(forward, backward=None, *, target: float = 1.0, weight: float = 10.0,
                            **options) -> VerifyReport:
    """Verify WGAN-GP's penalty ``weight * mean_n (||grads_n|| - target)^2``.

    ``forward(grads) -> loss`` with grads (N, ...), the norm over each example's
    non-batch axes, ``target`` and ``weight`` built into their function;
    ``backward(dloss, grads) -> dgrads``. Some configurations hold an all-zero
    example, where the gradient is 0 (as torch's norm gives), not NaN.
    """
    spec = _objectives.gradient_penalty_spec(target, weight)
    return verify_spec(spec, forward, backward, **options)


def verify_r1_penalty(forward, backward=None, *, gamma: float = 10.0, **options) -> VerifyReport:
    """Verify R1's penalty ``gamma / 2 * mean_n ||grads_n||^2``: ``forward(grads) -> loss``,
    ``backward(dloss, grads) -> dgrads`` (``gamma`` built into their function)."""
    return verify_spec(_objectives.r1_penalty_spec(gamma), forward, backward, **options)


# Optimizers --------------------------------------------------------------------------------


def verify_adam_step(step_function, *, amsgrad: bool = False, **options) -> VerifyReport:
    """Verify one Adam update (``torch.optim.Adam``'s rule, L2 weight decay).

    ``step_function(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay)
    -> (new_param, new_exp_avg, new_exp_avg_sq)``, where ``step`` is t >= 1, the
    index of the update being taken (bias corrections 1 - beta^t), and the moments
    are the state before it. With ``amsgrad=True`` the running maximum follows the
    moments: ``(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, ...) ->
    (new_param, new_exp_avg, new_exp_avg_sq, new_max_exp_avg_sq)``. Inputs are
    fresh copies. For an optimizer that keeps its state inside, see
    :func:`verify_optimizer_steps`.
    """
    return verify_spec(_optim.adam_spec(False, _flag(amsgrad)), step_function, None, **options)


def verify_adamw_step(step_function, *, amsgrad: bool = False, **options) -> VerifyReport:
    """Verify one AdamW update (``torch.optim.AdamW``'s rule: decoupled weight decay).

    Same calling convention as :func:`verify_adam_step`; here ``weight_decay``
    shrinks the parameter, ``param * (1 - lr * weight_decay)``, before the Adam
    step instead of entering the gradient (Loshchilov & Hutter 2019, Alg. 2).
    """
    return verify_spec(_optim.adam_spec(True, _flag(amsgrad)), step_function, None, **options)


def verify_sgd_step(step_function, **options) -> VerifyReport:
    """Verify one SGD update (``torch.optim.SGD``: momentum, dampening, Nesterov, weight decay).

    ``step_function(param, grad, momentum_buffer, lr, momentum, dampening, nesterov,
    weight_decay) -> (new_param, new_momentum_buffer)``. ``momentum_buffer`` is
    None before the first step with momentum (which then sets the buffer to the
    gradient, without dampening) and when momentum is 0 (their buffer is not compared).
    """
    return verify_spec(_optim.SGD, step_function, None, **options)


def verify_optimizer_steps(optimizer: str, make_step, *, max_steps: int = 4,
                           **options) -> VerifyReport:
    """Verify k consecutive updates of an optimizer that keeps its own state.

    ``optimizer`` is ``"sgd"``, ``"adam"`` or ``"adamw"``. ``make_step(param, **hyper)
    -> step`` starts their optimizer on ``param`` (a fresh copy) with the
    hyper-parameters (sgd: lr, momentum, dampening, nesterov, weight_decay; adam and
    adamw: lr, betas, eps, weight_decay, amsgrad); ``step(grad) -> new_param`` takes
    one update. It is called k times (1 <= k <= ``max_steps``) with fresh gradients
    and every parameter along the way is compared: output ``params`` (k, ...),
    where index (t - 1, ...) is step t. Adapters: :func:`npgen.verify.adapters.
    optimizer_class` (an npgen-like class) and :func:`npgen.interop.torch.torch_optimizer`.
    """
    spec = _optim.trajectory_spec(optimizer, max_steps)
    return verify_spec(spec, make_step, None, **options)


def verify_clip_grad_norm(clip_function, **options) -> VerifyReport:
    """Verify clipping by the total L2 norm (``torch.nn.utils.clip_grad_norm_``).

    ``clip_function(grads, max_norm) -> (total_norm, clipped)`` with ``grads`` a
    list of 1 to 3 arrays (fresh copies, may be scaled in place), ``total_norm``
    the norm before clipping and ``clipped`` the scaled arrays (list or tuple).
    """
    return verify_spec(_optim.CLIP_GRAD_NORM, clip_function, None, **options)


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"npgen.verify: amsgrad must be True or False; got {value!r}")
    return value
