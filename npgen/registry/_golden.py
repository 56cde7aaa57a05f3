"""The registry's golden-file cases: fixed configurations, one tuple per entry (its
``golden_cases``), in the configuration form of the entry's :mod:`npgen.verify` spec.

They include the edge cases implementations get wrong: strides that do not divide the
padded input, dilation, output_padding, a kernel as large as the input, extreme logits,
batch norm with two values per channel, Adam's first step.
"""

from __future__ import annotations

from npgen.registry._types import GoldenCase as _G


def _conv(batch, cin, cout, size, kernel, stride=1, padding=0, dilation=1, bias=True, **extra):
    pairs = {k: v if isinstance(v, tuple) else (v, v) for k, v in dict(
        size=size, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
        **extra).items()}
    return {"batch": batch, "in_channels": cin, "out_channels": cout, **pairs, "bias": bias}


def _adam(shape, step, lr, betas, eps, weight_decay):
    return {"shape": shape, "step": step, "lr": lr, "betas": betas, "eps": eps,
            "weight_decay": weight_decay}


DENSE = (
    _G("dense", "basic", "N=3, 4 -> 2 features", {
        "batch": 3, "in_features": 4, "out_features": 2, "bias": True}),
    _G("dense", "no_bias", "bias=None: dbias is absent", {
        "batch": 1, "in_features": 3, "out_features": 5, "bias": False}),
)
CONV2D = (
    _G("conv2d", "basic", "3x3 kernel, padding 1 ('same')", _conv(2, 2, 3, 5, 3, padding=1)),
    _G("conv2d", "stride_remainder", "stride 2 divides neither H - k = 3 nor W - k = 5: the "
       "last row and column are never read", _conv(1, 1, 2, (6, 8), 3, stride=2)),
    _G("conv2d", "dilation", "dilation 2 with padding 1",
       _conv(1, 2, 1, (7, 6), 3, padding=1, dilation=2)),
    _G("conv2d", "kernel_equals_input", "4x4 kernel on a 4x4 input: a 1x1 output",
       _conv(2, 2, 2, 4, 4)),
    _G("conv2d", "asymmetric", "different kernel, stride, padding, dilation per axis",
       _conv(1, 2, 2, (5, 6), (2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
)
CONV_TRANSPOSE2D = (
    _G("conv_transpose2d", "basic", "3x3 kernel, stride 1, padding 1",
       _conv(2, 2, 3, 3, 3, padding=1, output_padding=0)),
    _G("conv_transpose2d", "output_padding", "stride 2, padding 1, output_padding 1 "
       "(the usual x2 upsampling)", _conv(1, 2, 2, (3, 4), 3, stride=2, padding=1,
                                          output_padding=1)),
    _G("conv_transpose2d", "dilation_output_padding", "output_padding allowed by dilation 2 "
       "with stride 1", _conv(1, 1, 2, 3, 2, dilation=2, output_padding=1)),
    _G("conv_transpose2d", "kernel_4_from_1x1", "a 1x1 input to a 4x4 output (DCGAN's "
       "first layer)", _conv(2, 3, 2, 1, 4, output_padding=0)),
    _G("conv_transpose2d", "asymmetric", "different settings per axis",
       _conv(1, 2, 1, (2, 3), (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2))),
)
BATCHNORM_TRAIN = (
    _G("batchnorm_train", "batch2_features", "(N, C) with N = 2: two values per channel",
       {"batch": 2, "channels": 3, "spatial": (), "eps": 1e-5}),
    _G("batchnorm_train", "batch2_images", "(N, C, H, W) with N = 2",
       {"batch": 2, "channels": 2, "spatial": (3, 3), "eps": 1e-5}),
    _G("batchnorm_train", "sequence", "(N, C, L)",
       {"batch": 3, "channels": 2, "spatial": (4,), "eps": 1e-3}),
)
BATCHNORM_EVAL = (_G("batchnorm_eval", "images", "(N, C, H, W) with running statistics",
                     {"batch": 2, "channels": 2, "spatial": (2, 3), "eps": 1e-5}),)
RELU = (_G("relu", "basic", "inputs in [-5, 5]", {"shape": (3, 4), "scale": 5.0}),)
LEAKY_RELU = (_G("leaky_relu", "slope_0.2", "negative_slope 0.2",
                 {"shape": (3, 4), "scale": 5.0, "negative_slope": 0.2}),)
SIGMOID = (_G("sigmoid", "wide", "inputs in [-40, 40]: exp overflows in naive forms",
              {"shape": (4, 5), "scale": 40.0}),)
TANH = (_G("tanh", "wide", "inputs in [-40, 40]", {"shape": (4, 5), "scale": 40.0}),)
DROPOUT = (_G("dropout", "p_0.5", "inverted dropout with a given 0/1 mask",
              {"shape": (3, 4), "p": 0.5}),)
FLATTEN = (_G("flatten", "middle_axes", "axes 1..2 of a 4-d array merged",
              {"shape": (2, 3, 2, 2), "start_dim": 1, "end_dim": 2}),)
UNFLATTEN = (_G("unflatten", "split", "axis 1 of size 6 split into (2, 3)",
                {"shape": (2, 6), "dim": 1, "sizes": (2, 3)}),)
MSE = (_G("mse", "mean", "mean over all elements", {"shape": (3, 4)}),)
BCE_WITH_LOGITS = (
    _G("bce_with_logits", "soft_targets", "targets in [0, 1]",
       {"shape": (4, 3), "scale": 3.0, "target": "soft"}),
    _G("bce_with_logits", "extreme_logits", "logits up to +-1000 with 0/1 targets",
       {"shape": (2, 4), "scale": 1000.0, "target": "binary"}),
)
GAUSSIAN_KL = (_G("gaussian_kl", "basic", "mu ~ N(0, 1), logvar in [-4, 3]",
                  {"batch": 4, "latent": 3}),)
REPARAMETERIZE = (_G("reparameterize", "basic",
                     "z = mu + exp(logvar / 2) * eps, logvar in [-4, 3]",
                     {"batch": 3, "latent": 2}),)
NEGATIVE_ELBO = {
    "bernoulli": (_G("negative_elbo", "bernoulli", "Bernoulli likelihood on logits, beta 1", {
        "batch": 2, "data_shape": (2, 3), "latent": 2, "likelihood": "bernoulli",
        "beta": 1.0, "sigma": 1.0}),),
    "gaussian": (_G("negative_elbo", "gaussian_beta", "Gaussian likelihood, sigma 0.3, beta 0.5", {
        "batch": 3, "data_shape": (4,), "latent": 2, "likelihood": "gaussian",
        "beta": 0.5, "sigma": 0.3}),),
}
GAN_DISCRIMINATOR_LOSS = (
    _G("gan_discriminator_loss", "basic", "4 real and 3 fake logits (N, 1)", {
        "real_batch": 4, "fake_batch": 3, "tail": (1,), "scale": 3.0}),
    _G("gan_discriminator_loss", "saturated", "logits up to +-30", {
        "real_batch": 3, "fake_batch": 3, "tail": (), "scale": 30.0}),
    _G("gan_discriminator_loss", "label_smoothing", "one-sided label smoothing: real label 0.9",
       {"real_batch": 4, "fake_batch": 3, "tail": (1,), "scale": 3.0, "real_label": 0.9}),
)
GAN_GENERATOR_LOSS = {
    False: (_G("gan_generator_loss", "non_saturating", "-mean log D(G(z))", {
        "real_batch": 1, "fake_batch": 4, "tail": (1,), "scale": 30.0, "saturating": False}),),
    True: (_G("gan_generator_loss", "saturating", "mean log(1 - D(G(z)))", {
        "real_batch": 1, "fake_batch": 4, "tail": (1,), "scale": 30.0, "saturating": True}),),
}
WASSERSTEIN_CRITIC_LOSS = (_G("wasserstein_critic_loss", "basic", "mean(f) - mean(r)",
                              {"real_batch": 3, "fake_batch": 2, "tail": (1,), "scale": 3.0}),)
WASSERSTEIN_GENERATOR_LOSS = (_G("wasserstein_generator_loss", "basic", "-mean(f)", {
    "real_batch": 1, "fake_batch": 3, "tail": (1,), "scale": 3.0}),)

# The optimizer steps (registry.STEPS) ---------------------------------------------------

ADAM_STEP = (
    _G("adam_step", "first_step", "t = 1: bias corrections 1 - beta^1",
       _adam((3, 2), 1, 1e-3, (0.9, 0.999), 1e-8, 0.0)),
    _G("adam_step", "later_step_weight_decay", "t = 7 with L2 weight decay and a large eps",
       _adam((4,), 7, 0.1, (0.5, 0.9), 1e-3, 0.1)),
    _G("adam_step", "amsgrad", "t = 3 with AMSGrad: the running maximum of v",
       {**_adam((2, 2), 3, 0.1, (0.9, 0.999), 1e-8, 0.0), "amsgrad": True}),
)
ADAMW_STEP = (_G("adamw_step", "decoupled_weight_decay", "t = 4, weight decay 0.1 applied to "
                 "the parameter (not the gradient)", _adam((3,), 4, 0.1, (0.9, 0.999), 1e-8,
                                                           0.1)),)
SGD_STEP = (
    _G("sgd_step", "nesterov", "momentum 0.9 with Nesterov and weight decay, buffer carried",
       {"shape": (2, 3), "first_step": False, "lr": 0.1, "momentum": 0.9, "dampening": 0.0,
        "nesterov": True, "weight_decay": 0.1}),
    _G("sgd_step", "first_step_dampening", "the first momentum step copies g (no dampening)",
       {"shape": (4,), "first_step": True, "lr": 0.1, "momentum": 0.5, "dampening": 0.3,
        "nesterov": False, "weight_decay": 0.0}),
)
CLIP_GRAD_NORM = (_G("clip_grad_norm", "two_arrays", "two gradients clipped jointly to norm 0.5",
                     {"count": 2, "shape": (2, 3), "max_norm": 0.5}),)
