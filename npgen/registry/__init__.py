"""The op registry: every op of npgen listed once (``npgen gradcheck``, the twin tests,
the npgen.verify differential tests, the golden files and the layer benchmarks all
iterate it).

Each entry of :data:`OPS` is a functional forward/backward pair or loss
(:class:`FunctionOp`, checked with :func:`npgen.gradcheck.check_vjp`) or a module
(:class:`ModuleOp`, checked with :func:`npgen.gradcheck.check_module`), and holds:
its Hypothesis strategy of valid configurations, its forward and VJP, its slow twin
(:mod:`npgen.testing.reference` and beside it), its kinks, its per-dtype tolerances, its
docs page, its :mod:`npgen.verify` verifier and the space that verifier draws from (whose
reference is the entry's own forward and VJP), its golden-file op and cases (``npgen
export-reference``) and, for the modules, its benchmark shapes (``npgen bench``). The
optimizer steps, checked by steps rather than gradients, are :data:`STEPS`. Adding an op
is one math file, one entry here and one docs page.
"""

from __future__ import annotations

from hypothesis import strategies as st

from npgen import functional as F
from npgen import losses, nn
from npgen.registry import _bench as B
from npgen.registry import _golden as G
from npgen.registry import _spaces as S
from npgen.registry import _steps as steps
from npgen.registry._adapters import (
    batchnorm_pair,
    conv_settings,
    dropout_pair,
    loss,
    pair,
    reparameterize_vjp,
    second_order,
)
from npgen.registry._cases import (
    KINK,
    LOGVAR,
    MATRIX,
    POSTERIOR,
    RELU_KINKS,
    UNIT,
    WIDE,
    array_cases,
    batchnorm_cases,
    batchnorm_module_cases,
    build_batchnorm,
    build_conv,
    build_dense,
    conv2d_cases,
    conv_module_cases,
    conv_transpose2d_cases,
    dense_cases,
    dense_module_cases,
    dropout_cases,
    elbo_cases,
    fast_conv_cases,
    flatten_cases,
    unflatten_cases,
    with_upstream,
)
from npgen.registry._types import (
    TOLERANCES,
    BenchCase,
    Case,
    FunctionOp,
    GoldenCase,
    ModuleOp,
    StepOp,
)
from npgen.testing import reference as ref
from npgen.testing import reference_objectives as ro
from npgen.testing import reference_ops as ro_ops
from npgen.testing import strategies as nst

__all__ = ["OPS", "OPTIMIZER_VERIFIERS", "STEPS", "TOLERANCES", "BenchCase", "Case",
           "FunctionOp", "GoldenCase", "ModuleOp", "StepOp", "bench_cases", "golden_cases",
           "golden_shared_names"]

LAYERS, OBJECTIVES = "docs/layers/", "docs/objectives/"
CONV, ELBO, GAN = LAYERS + "convolution.md", OBJECTIVES + "elbo.md", OBJECTIVES + "gan.md"
ACTIVATIONS, PENALTY = LAYERS + "activations.md", OBJECTIVES + "gradient_penalty.md"
TABLE = "docs/gradcheck.md"  # ops without a page of their own: the gradcheck table lists them

_SLOPES = st.sampled_from([0.01, 0.2])
_REDUCTIONS = st.sampled_from(["mean", "sum"])


def _conv_twin(reference):
    return lambda c, *a: reference(*a, **conv_settings(c))


_SECOND_ORDER = S.second_order_spaces(F.dense_forward, F.conv2d_forward,
                                      F.conv_transpose2d_forward)


def _second_order_op(name, cases, forward, backward, double_backward, docs,
                     space=None) -> FunctionOp:
    """The row ``name_double_backward``: the op's backward, checked against its VJP, the
    double backward (a row of its own, so ``--ops name`` still selects the first order only).
    Its "forward" is the first-order backward, whose twin is the first-order check itself;
    verify_double_backward checks the rows with a ``space``."""
    return FunctionOp(f"{name}_double_backward", lambda: with_upstream(cases(), forward),
                      *second_order(forward, backward, double_backward), docs=docs,
                      verifier="verify_double_backward", space=space)


def _activation(name, forward, backward, twin, golden_cases, space, kinks=(), **choices):
    avoid = ({"avoid": kinks},) if kinks else ()
    return FunctionOp(name, lambda: array_cases(("x",), avoid, **choices),
                      *pair(forward, backward), twin=twin, kinks=kinks, docs=ACTIVATIONS,
                      verifier="verify_activation", golden=name, golden_cases=golden_cases,
                      space=space)


_RELU = _activation("relu", F.relu_forward, F.relu_backward,
                    lambda c, x: ro_ops.relu_reference(x), G.RELU, S.RELU, RELU_KINKS)
_LEAKY = _activation("leaky_relu", F.leaky_relu_forward, F.leaky_relu_backward,
                     lambda c, x: ro_ops.leaky_relu_reference(x, c["negative_slope"]),
                     G.LEAKY_RELU, S.LEAKY_RELU, RELU_KINKS, negative_slope=_SLOPES)
_SIGMOID = _activation("sigmoid", F.sigmoid_forward, F.sigmoid_backward,
                       lambda c, x: ro_ops.sigmoid_reference(x), G.SIGMOID, S.SMOOTH_ACTIVATION)
_TANH = _activation("tanh", F.tanh_forward, F.tanh_backward,
                    lambda c, x: ro_ops.tanh_reference(x), G.TANH, S.SMOOTH_ACTIVATION)
_ELBO_LOSS = loss(losses.negative_elbo, (None, 1, 2, 3))
_GENERATOR_LOSS = loss(losses.gan_generator_loss, (1,))

_ENTRIES = [
    FunctionOp("dense", dense_cases, *pair(F.dense_forward, F.dense_backward),
               twin=lambda c, *a: ro_ops.dense_reference(*a), docs=LAYERS + "dense.md",
               verifier="verify_dense", golden="dense", golden_cases=G.DENSE, space=S.DENSE),
    FunctionOp("conv2d", conv2d_cases, *pair(F.conv2d_forward, F.conv2d_backward),
               twin=_conv_twin(ref.conv2d_reference), docs=CONV, verifier="verify_conv2d",
               golden="conv2d", golden_cases=G.CONV2D, space=S.CONV2D),
    FunctionOp("conv_transpose2d", conv_transpose2d_cases,
               *pair(F.conv_transpose2d_forward, F.conv_transpose2d_backward),
               twin=_conv_twin(ref.conv_transpose2d_reference), docs=CONV,
               verifier="verify_conv_transpose2d", golden="conv_transpose2d",
               golden_cases=G.CONV_TRANSPOSE2D, space=S.CONV_TRANSPOSE2D),
    # the rows above draw thin layers (channels <= 3): the im2col reference; these two the
    # Winograd fast path (npgen.functional.conv.conv_path says which geometry takes which)
    FunctionOp("conv2d_winograd", lambda: fast_conv_cases(False),
               *pair(F.conv2d_forward, F.conv2d_backward),
               twin=_conv_twin(ref.conv2d_reference), docs=LAYERS + "winograd.md",
               verifier="verify_conv2d"),
    FunctionOp("conv_transpose2d_winograd", lambda: fast_conv_cases(True),
               *pair(F.conv_transpose2d_forward, F.conv_transpose2d_backward),
               twin=_conv_twin(ref.conv_transpose2d_reference), docs=LAYERS + "winograd.md",
               verifier="verify_conv_transpose2d"),
    FunctionOp("batchnorm[train]", lambda: batchnorm_cases(True), *batchnorm_pair(True),
               twin=lambda c, x, w, b: ref.batchnorm_reference(x, w, b)[0],
               docs=LAYERS + "batchnorm.md", verifier="verify_batchnorm_train",
               golden="batchnorm_train", golden_cases=G.BATCHNORM_TRAIN, space=S.BATCHNORM_TRAIN),
    FunctionOp("batchnorm[eval]", lambda: batchnorm_cases(False), *batchnorm_pair(False),
               twin=lambda c, *a: ro_ops.batchnorm_eval_reference(*a),
               docs=LAYERS + "batchnorm.md", verifier="verify_batchnorm_eval",
               golden="batchnorm_eval", golden_cases=G.BATCHNORM_EVAL, space=S.BATCHNORM_EVAL),
    _RELU, _LEAKY, _SIGMOID, _TANH,
    FunctionOp("dropout", dropout_cases, *dropout_pair(),
               twin=lambda c, x, keep: ro_ops.dropout_reference(x, c["p"], keep), docs=TABLE,
               verifier="verify_dropout", golden="dropout", golden_cases=G.DROPOUT,
               space=S.DROPOUT),
    FunctionOp("flatten", flatten_cases, *pair(F.flatten_forward, F.flatten_backward),
               twin=lambda c, x: ro_ops.flatten_reference(x, c["start_dim"], c["end_dim"]),
               docs=TABLE, verifier="verify_flatten", golden="flatten", golden_cases=G.FLATTEN,
               space=S.FLATTEN),
    FunctionOp("unflatten", unflatten_cases, *pair(F.unflatten_forward, F.unflatten_backward),
               twin=lambda c, x: ro_ops.unflatten_reference(x, c["dim"], c["sizes"]),
               docs=TABLE, verifier="verify_unflatten", golden="unflatten",
               golden_cases=G.UNFLATTEN, space=S.UNFLATTEN),
    FunctionOp("mse", lambda: array_cases(("pred", "target"), reduction=_REDUCTIONS),
               *loss(losses.mse, (1, None)), twin=lambda c, *a: ro.mse_reference(*a, **c),
               docs=TABLE, verifier="verify_mse", golden="mse", golden_cases=G.MSE, space=S.MSE),
    FunctionOp("bce_with_logits",
               lambda: array_cases(("logits", "target"), (WIDE, UNIT), reduction=_REDUCTIONS),
               *loss(losses.bce_with_logits, (1, None)),
               twin=lambda c, *a: ro.bce_with_logits_reference(*a, **c), docs=ELBO,
               verifier="verify_bce_with_logits", golden="bce_with_logits",
               golden_cases=G.BCE_WITH_LOGITS, space=S.BCE_WITH_LOGITS),
    FunctionOp("gaussian_kl", lambda: array_cases(("mu", "logvar"), ({}, LOGVAR), POSTERIOR),
               *loss(losses.gaussian_kl, (1, 2)),
               twin=lambda c, *a: ro.gaussian_kl_reference(*a), docs=ELBO,
               verifier="verify_gaussian_kl", golden="gaussian_kl", golden_cases=G.GAUSSIAN_KL,
               space=S.GAUSSIAN_KL),
    FunctionOp("reparameterize",
               lambda: array_cases(("mu", "logvar", "eps"), ({}, LOGVAR), MATRIX),
               lambda config, *a: losses.reparameterize(*a), reparameterize_vjp,
               twin=lambda c, *a: ro.reparameterize_reference(*a), docs=ELBO,
               verifier="verify_reparameterize", golden="reparameterize",
               golden_cases=G.REPARAMETERIZE, space=S.REPARAMETERIZE),
    *(FunctionOp(f"negative_elbo[{likelihood}]", lambda lk=likelihood: elbo_cases(lk),
                 *_ELBO_LOSS, twin=lambda c, *a: ro.negative_elbo_reference(*a, **c),
                 docs=ELBO, verifier="verify_negative_elbo", golden="negative_elbo",
                 golden_cases=G.NEGATIVE_ELBO[likelihood], space=S.NEGATIVE_ELBO)
      for likelihood in ("bernoulli", "gaussian")),
    FunctionOp("gan_discriminator_loss",
               lambda: array_cases(("real_logits", "fake_logits"), (WIDE, WIDE),
                                   same_shape=False, real_label=st.sampled_from([1.0, 0.9])),
               *loss(losses.gan_discriminator_loss, (1, 2)),
               twin=lambda c, *a: ro.gan_discriminator_loss_reference(*a, **c), docs=GAN,
               verifier="verify_gan_discriminator_loss", golden="gan_discriminator_loss",
               golden_cases=G.GAN_DISCRIMINATOR_LOSS, space=S.GAN_DISCRIMINATOR_LOSS),
    *(FunctionOp(f"gan_generator_loss[{variant}]",
                 lambda s=saturating: array_cases(("fake_logits",), (WIDE,),
                                                  saturating=st.just(s)),
                 *_GENERATOR_LOSS, twin=lambda c, *a: ro.gan_generator_loss_reference(*a, **c),
                 docs=GAN, verifier="verify_gan_generator_loss", golden="gan_generator_loss",
                 golden_cases=G.GAN_GENERATOR_LOSS[saturating],
                 space=S.GAN_GENERATOR_LOSS)
      for variant, saturating in (("non-saturating", False), ("saturating", True))),
    FunctionOp("wasserstein_critic_loss",
               lambda: array_cases(("real_scores", "fake_scores"), same_shape=False),
               *loss(losses.wasserstein_critic_loss, (1, 2)),
               twin=lambda c, *a: ro.wasserstein_critic_loss_reference(*a), docs=GAN,
               verifier="verify_wasserstein_critic_loss", golden="wasserstein_critic_loss",
               golden_cases=G.WASSERSTEIN_CRITIC_LOSS, space=S.WASSERSTEIN_CRITIC_LOSS),
    FunctionOp("wasserstein_generator_loss", lambda: array_cases(("fake_scores",)),
               *loss(losses.wasserstein_generator_loss, (1,)),
               twin=lambda c, *a: ro.wasserstein_generator_loss_reference(*a), docs=GAN,
               verifier="verify_wasserstein_generator_loss",
               golden="wasserstein_generator_loss",
               golden_cases=G.WASSERSTEIN_GENERATOR_LOSS, space=S.WASSERSTEIN_GENERATOR_LOSS),
    _second_order_op("dense", dense_cases, F.dense_forward, F.dense_backward,
                     F.dense_double_backward, LAYERS + "dense.md", _SECOND_ORDER["dense"]),
    _second_order_op("conv2d", conv2d_cases, F.conv2d_forward, F.conv2d_backward,
                     F.conv2d_double_backward, CONV, _SECOND_ORDER["conv2d"]),
    _second_order_op("conv_transpose2d", conv_transpose2d_cases, F.conv_transpose2d_forward,
                     F.conv_transpose2d_backward, F.conv_transpose2d_double_backward, CONV,
                     _SECOND_ORDER["conv_transpose2d"]),
    *(_second_order_op(op.name, op.cases, forward, backward, double_backward, PENALTY,
                       _SECOND_ORDER["activation"]._replace(options=op.space.options))
      ._replace(kinks=op.kinks) for op, forward, backward, double_backward in (
          (_RELU, F.relu_forward, F.relu_backward, F.relu_double_backward),
          (_LEAKY, F.leaky_relu_forward, F.leaky_relu_backward, F.leaky_relu_double_backward),
          (_SIGMOID, F.sigmoid_forward, F.sigmoid_backward, F.sigmoid_double_backward),
          (_TANH, F.tanh_forward, F.tanh_backward, F.tanh_double_backward))),
    _second_order_op("flatten", flatten_cases, F.flatten_forward, F.flatten_backward,
                     F.flatten_double_backward, PENALTY),
    _second_order_op("unflatten", unflatten_cases, F.unflatten_forward, F.unflatten_backward,
                     F.unflatten_double_backward, PENALTY),
    FunctionOp("gradient_penalty",  # entries off 0: every row's norm stays off the cone's tip
               lambda: array_cases(("grads",), (KINK,), target=st.sampled_from([1.0, 0.5]),
                                   weight=st.sampled_from([10.0, 1.0])),
               *loss(losses.gradient_penalty, (1,)),
               twin=lambda c, *a: ro.gradient_penalty_reference(*a, **c), kinks=RELU_KINKS,
               docs=PENALTY, verifier="verify_gradient_penalty",
               space=S.GRADIENT_PENALTY),
    FunctionOp("r1_penalty",
               lambda: array_cases(("grads",), gamma=st.sampled_from([10.0, 0.5])),
               *loss(losses.r1_penalty, (1,)),
               twin=lambda c, *a: ro.r1_penalty_reference(*a, **c), docs=PENALTY,
               verifier="verify_r1_penalty", space=S.R1_PENALTY),
    # the modules' rows check the layer around the op (parameters, accumulation, the geometry
    # keywords): two channels suffice there, the op rows above draw three
    ModuleOp("nn.Conv2d", lambda: conv_module_cases(nst.conv2d_geometries(
        max_batch=2, max_channels=2, max_size=5)),
             build_conv(nn.Conv2d), docs=CONV, verifier="verify_conv2d", bench=B.CONV2D),
    ModuleOp("nn.ConvTranspose2d", lambda: conv_module_cases(nst.conv_transpose2d_geometries(
        max_batch=2, max_channels=2, max_size=4)),
             build_conv(nn.ConvTranspose2d), docs=CONV, verifier="verify_conv_transpose2d",
             bench=B.CONV_TRANSPOSE2D),
    *(ModuleOp(f"nn.{layer.__name__}", lambda r=ranks: batchnorm_module_cases(r),
               build_batchnorm(layer), docs=LAYERS + "batchnorm.md",
               verifier="verify_batchnorm_train", bench=bench)
      for layer, ranks, bench in ((nn.BatchNorm1d, (2, 3), ()),
                                  (nn.BatchNorm2d, (4,), B.BATCHNORM2D))),
    ModuleOp("nn.Dense", dense_module_cases, build_dense, docs=LAYERS + "dense.md",
             verifier="verify_dense", bench=B.DENSE),
]

OPS: dict = {op.name: op for op in _ENTRIES}
"""name -> FunctionOp or ModuleOp, in table order (tests may replace an entry)."""

STEPS: dict = {step.name: step for step in (
    StepOp("adam_step", "verify_adam_step", "docs/optim.md", "adam_step", G.ADAM_STEP,
           steps.adam_space, steps.adam_step(decoupled=False)),
    StepOp("adamw_step", "verify_adam_step", "docs/optim.md", "adamw_step", G.ADAMW_STEP,
           steps.adam_space, steps.adam_step(decoupled=True)),
    StepOp("sgd_step", "verify_sgd_step", "docs/optim.md", "sgd_step", G.SGD_STEP,
           steps.sgd_space, steps.sgd_step),
    StepOp("clip_grad_norm", "verify_clip_grad_norm", "docs/optim.md", "clip_grad_norm",
           G.CLIP_GRAD_NORM, steps.clip_space, steps.clip_step))}
"""The optimizer steps: checked by steps (npgen.verify, golden files), not by gradients."""

OPTIMIZER_VERIFIERS = {  # the optimizers are checked by steps, not by gradients
    "SGD": "verify_optimizer_steps", "Adam": "verify_optimizer_steps",
    "AdamW": "verify_optimizer_steps", "sgd_update": "verify_sgd_step",
    "adam_update": "verify_adam_step", "clip_grad_norm": "verify_clip_grad_norm"}


def golden_shared_names() -> dict:
    """Golden-file op -> its registry name, where the two differ (``batchnorm_train`` ->
    ``batchnorm[train]``); variants sharing one golden op (``negative_elbo``) keep it."""
    return {op.golden: op.name for op in OPS.values()
            if op.golden is not None and op.golden != op.name.split("[")[0]}


def golden_cases() -> tuple:
    """Every golden-file case (npgen export-reference), entry by entry: the ops in table
    order, then the optimizer steps."""
    return tuple(case for entry in (*OPS.values(), *STEPS.values())
                 for case in entry.golden_cases)


def bench_cases() -> tuple:
    """Every module entry's benchmark shapes (``npgen bench``), in table order: (entry, case)."""
    return tuple((op, case) for op in OPS.values() if isinstance(op, ModuleOp)
                 for case in op.bench)
