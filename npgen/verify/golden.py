"""Golden reference files: inputs, outputs and every gradient of each op, for any language.

``export_reference(directory)`` writes one ``<op>__<case>.npz`` per entry of
:data:`GOLDEN_CASES` and a ``manifest.json`` describing them (see
docs/verify.md for the format). The cases are fixed and include the edge cases
implementations get wrong: strides that do not divide the padded input,
dilation, output_padding, a kernel as large as the input, extreme logits, batch
norm with two values per channel, Adam's first step.

Values are computed by npgen on the numpy backend in float64. With
``dtype="float32"`` the inputs are first rounded to float32 and the reference is
computed in float64 from those rounded values, then rounded once: the file holds
the correctly rounded answer for exactly the inputs it stores.
"""

from __future__ import annotations

import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import npgen
from npgen.checkpoint import atomic_write
from npgen.verify import _layers, _objectives, _optim
from npgen.verify._runner import OpSpec, call_convention
from npgen.verify.report import TOLERANCES

__all__ = ["FORMAT", "FORMAT_VERSION", "GOLDEN_CASES", "GoldenCase", "OPS", "case_arrays",
           "export_reference", "spec_for", "write_case"]

FORMAT = "npgen-golden-reference"
FORMAT_VERSION = 1
PARAMETERS = ("weight", "bias")  # array inputs that are a layer's parameters


@dataclass(frozen=True)
class GoldenCase:
    """One file: an op, a case name, why it is there, and the configuration."""

    op: str
    case: str
    description: str
    config: dict

    @property
    def file(self) -> str:
        return f"{self.op}__{self.case}.npz"


def _conv(batch, cin, cout, size, kernel, stride=1, padding=0, dilation=1, bias=True, **extra):
    pairs = {k: v if isinstance(v, tuple) else (v, v) for k, v in dict(
        size=size, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
        **extra).items()}
    return {"batch": batch, "in_channels": cin, "out_channels": cout, **pairs, "bias": bias}


def _adam(shape, step, lr, betas, eps, weight_decay):
    return {"shape": shape, "step": step, "lr": lr, "betas": betas, "eps": eps,
            "weight_decay": weight_decay}


_G = GoldenCase
GOLDEN_CASES = (
    _G("dense", "basic", "N=3, 4 -> 2 features", {
        "batch": 3, "in_features": 4, "out_features": 2, "bias": True}),
    _G("dense", "no_bias", "bias=None: dbias is absent", {
        "batch": 1, "in_features": 3, "out_features": 5, "bias": False}),
    _G("conv2d", "basic", "3x3 kernel, padding 1 ('same')", _conv(2, 2, 3, 5, 3, padding=1)),
    _G("conv2d", "stride_remainder", "stride 2 divides neither H - k = 3 nor W - k = 5: the "
       "last row and column are never read", _conv(1, 1, 2, (6, 8), 3, stride=2)),
    _G("conv2d", "dilation", "dilation 2 with padding 1",
       _conv(1, 2, 1, (7, 6), 3, padding=1, dilation=2)),
    _G("conv2d", "kernel_equals_input", "4x4 kernel on a 4x4 input: a 1x1 output",
       _conv(2, 2, 2, 4, 4)),
    _G("conv2d", "asymmetric", "different kernel, stride, padding, dilation per axis",
       _conv(1, 2, 2, (5, 6), (2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
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
    _G("batchnorm_train", "batch2_features", "(N, C) with N = 2: two values per channel",
       {"batch": 2, "channels": 3, "spatial": (), "eps": 1e-5}),
    _G("batchnorm_train", "batch2_images", "(N, C, H, W) with N = 2",
       {"batch": 2, "channels": 2, "spatial": (3, 3), "eps": 1e-5}),
    _G("batchnorm_train", "sequence", "(N, C, L)",
       {"batch": 3, "channels": 2, "spatial": (4,), "eps": 1e-3}),
    _G("relu", "basic", "inputs in [-5, 5]", {"shape": (3, 4), "scale": 5.0}),
    _G("leaky_relu", "slope_0.2", "negative_slope 0.2",
       {"shape": (3, 4), "scale": 5.0, "negative_slope": 0.2}),
    _G("sigmoid", "wide", "inputs in [-40, 40]: exp overflows in naive forms",
       {"shape": (4, 5), "scale": 40.0}),
    _G("tanh", "wide", "inputs in [-40, 40]", {"shape": (4, 5), "scale": 40.0}),
    _G("bce_with_logits", "soft_targets", "targets in [0, 1]",
       {"shape": (4, 3), "scale": 3.0, "target": "soft"}),
    _G("bce_with_logits", "extreme_logits", "logits up to +-1000 with 0/1 targets",
       {"shape": (2, 4), "scale": 1000.0, "target": "binary"}),
    _G("gaussian_kl", "basic", "mu ~ N(0, 1), logvar in [-4, 3]", {"batch": 4, "latent": 3}),
    _G("negative_elbo", "bernoulli", "Bernoulli likelihood on logits, beta 1", {
        "batch": 2, "data_shape": (2, 3), "latent": 2, "likelihood": "bernoulli",
        "beta": 1.0, "sigma": 1.0}),
    _G("negative_elbo", "gaussian_beta", "Gaussian likelihood, sigma 0.3, beta 0.5", {
        "batch": 3, "data_shape": (4,), "latent": 2, "likelihood": "gaussian",
        "beta": 0.5, "sigma": 0.3}),
    _G("gan_discriminator_loss", "basic", "4 real and 3 fake logits (N, 1)", {
        "real_batch": 4, "fake_batch": 3, "tail": (1,), "scale": 3.0}),
    _G("gan_discriminator_loss", "saturated", "logits up to +-30", {
        "real_batch": 3, "fake_batch": 3, "tail": (), "scale": 30.0}),
    _G("gan_generator_loss", "non_saturating", "-mean log D(G(z))", {
        "real_batch": 1, "fake_batch": 4, "tail": (1,), "scale": 30.0, "saturating": False}),
    _G("gan_generator_loss", "saturating", "mean log(1 - D(G(z)))", {
        "real_batch": 1, "fake_batch": 4, "tail": (1,), "scale": 30.0, "saturating": True}),
    _G("adam_step", "first_step", "t = 1: bias corrections 1 - beta^1",
       _adam((3, 2), 1, 1e-3, (0.9, 0.999), 1e-8, 0.0)),
    _G("adam_step", "later_step_weight_decay", "t = 7 with L2 weight decay and a large eps",
       _adam((4,), 7, 0.1, (0.5, 0.9), 1e-3, 0.1)),
    _G("adam_step", "amsgrad", "t = 3 with AMSGrad: the running maximum of v",
       {**_adam((2, 2), 3, 0.1, (0.9, 0.999), 1e-8, 0.0), "amsgrad": True}),
    _G("adamw_step", "decoupled_weight_decay", "t = 4, weight decay 0.1 applied to the "
       "parameter (not the gradient)", _adam((3,), 4, 0.1, (0.9, 0.999), 1e-8, 0.1)),
    _G("sgd_step", "nesterov", "momentum 0.9 with Nesterov and weight decay, buffer carried",
       {"shape": (2, 3), "first_step": False, "lr": 0.1, "momentum": 0.9, "dampening": 0.0,
        "nesterov": True, "weight_decay": 0.1}),
    _G("sgd_step", "first_step_dampening", "the first momentum step copies g (no dampening)",
       {"shape": (4,), "first_step": True, "lr": 0.1, "momentum": 0.5, "dampening": 0.3,
        "nesterov": False, "weight_decay": 0.0}),
    _G("clip_grad_norm", "two_arrays", "two gradients clipped jointly to norm 0.5",
       {"count": 2, "shape": (2, 3), "max_norm": 0.5}),
    _G("mse", "mean", "mean over all elements", {"shape": (3, 4)}),
    _G("reparameterize", "basic", "z = mu + exp(logvar / 2) * eps, logvar in [-4, 3]",
       {"batch": 3, "latent": 2}),
    _G("batchnorm_eval", "images", "(N, C, H, W) with running statistics",
       {"batch": 2, "channels": 2, "spatial": (2, 3), "eps": 1e-5}),
    _G("dropout", "p_0.5", "inverted dropout with a given 0/1 mask", {"shape": (3, 4), "p": 0.5}),
    _G("flatten", "middle_axes", "axes 1..2 of a 4-d array merged",
       {"shape": (2, 3, 2, 2), "start_dim": 1, "end_dim": 2}),
    _G("unflatten", "split", "axis 1 of size 6 split into (2, 3)",
       {"shape": (2, 6), "dim": 1, "sizes": (2, 3)}),
    _G("gan_discriminator_loss", "label_smoothing", "one-sided label smoothing: real label 0.9",
       {"real_batch": 4, "fake_batch": 3, "tail": (1,), "scale": 3.0, "real_label": 0.9}),
    _G("wasserstein_critic_loss", "basic", "mean(f) - mean(r)",
       {"real_batch": 3, "fake_batch": 2, "tail": (1,), "scale": 3.0}),
    _G("wasserstein_generator_loss", "basic", "-mean(f)",
       {"real_batch": 1, "fake_batch": 3, "tail": (1,), "scale": 3.0}),
)

OPS = tuple(dict.fromkeys(case.op for case in GOLDEN_CASES))


def spec_of(case: GoldenCase) -> OpSpec:
    """The OpSpec computing ``case`` (activations and the generator loss take options)."""
    return spec_for(case.op, case.config)


def spec_for(op: str, config: dict) -> OpSpec:
    """The OpSpec of golden op ``op``; options (saturating, reduction, ...) come from ``config``."""
    fixed = {"dense": _layers.DENSE, "conv2d": _layers.CONV2D,
             "conv_transpose2d": _layers.CONV_TRANSPOSE2D, "batchnorm_train": _layers.BATCHNORM,
             "batchnorm_eval": _layers.BATCHNORM_EVAL, "dropout": _layers.DROPOUT,
             "flatten": _layers.FLATTEN, "unflatten": _layers.UNFLATTEN,
             "gaussian_kl": _objectives.GAUSSIAN_KL, "negative_elbo": _objectives.NEGATIVE_ELBO,
             "reparameterize": _objectives.REPARAMETERIZE,
             "wasserstein_critic_loss": _objectives.WASSERSTEIN_CRITIC,
             "wasserstein_generator_loss": _objectives.WASSERSTEIN_GENERATOR,
             "sgd_step": _optim.SGD, "clip_grad_norm": _optim.CLIP_GRAD_NORM}
    built = {
        "gan_generator_loss": lambda: _objectives.gan_generator_spec(config["saturating"]),
        "gan_discriminator_loss": lambda: _objectives.gan_discriminator_spec(
            config.get("real_label", 1.0)),
        "bce_with_logits": lambda: _objectives.bce_spec(config.get("reduction", "mean")),
        "mse": lambda: _objectives.mse_spec(config.get("reduction", "mean")),
        "adam_step": lambda: _optim.adam_spec(False, config.get("amsgrad", False)),
        "adamw_step": lambda: _optim.adam_spec(True, config.get("amsgrad", False)),
    }
    if op in fixed:
        return fixed[op]
    if op in built:
        return built[op]()
    return _layers.activation_spec(op, config.get("negative_slope", 0.01))


def _role(spec: OpSpec, name: str) -> dict:
    if name in spec.inputs:
        return {"role": "parameter" if name in PARAMETERS else "input"}
    if name == spec.upstream:
        return {"role": "upstream"}
    if name in spec.outputs:
        return {"role": "output"}
    return {"role": "gradient", "of": name[1:].lstrip("_")}  # dx -> x, d_decoder_out -> ...


def case_arrays(case: GoldenCase, dtype: str = "float64", seed: int = 0) -> dict:
    """name -> NumPy array of ``dtype`` for one case: inputs, upstream, outputs, gradients.

    The data depend only on ``seed`` and the file name, so exporting a subset of
    the ops gives the same files as exporting all of them.
    """
    spec = spec_of(case)
    rng = np.random.default_rng([seed, zlib.crc32(case.file.encode())])
    inputs = {k: v for k, v in spec.make_inputs(case.config, rng).items() if v is not None}
    inputs = {k: v.astype(dtype).astype(np.float64) for k, v in inputs.items()}  # stored values
    full_inputs = {**dict.fromkeys(spec.inputs), **inputs}  # an absent bias is None
    arrays, upstream = dict(inputs), None
    if spec.kind == "layer":  # losses store their own gradients (dloss = 1)
        y = spec.reference(full_inputs, case.config, None)[spec.outputs[0]]
        upstream = rng.standard_normal(y.shape).astype(dtype).astype(np.float64)
        arrays[spec.upstream] = upstream
    results = spec.reference(full_inputs, case.config, upstream)
    arrays.update({k: np.asarray(v) for k, v in results.items() if v is not None})
    return {k: np.asarray(v, dtype=dtype) for k, v in arrays.items()}


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


def _manifest_entry(spec: OpSpec, op: str, case: str, description: str, config: dict,
                    arrays: dict) -> dict:
    described = {name: {**_role(spec, name), "shape": list(a.shape), "dtype": a.dtype.name}
                 for name, a in arrays.items()}
    return {"file": f"{op}__{case}.npz", "op": op, "case": case, "description": description,
            "config": _jsonable(config), "calling_convention": call_convention(spec),
            "arrays": described}


def _write_npz(path, arrays: dict) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with atomic_write(path) as handle:
        handle.write(buffer.getvalue())


def _manifest(dtype: str, seed: int, entries: list) -> dict:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "npgen_version": npgen.__version__,
        "dtype": dtype, "seed": seed,
        "tolerances": {k: {"rtol": r, "atol": a} for k, (r, a) in TOLERANCES.items()},
        "cases": entries,
    }


def _write_manifest(directory: Path, manifest: dict) -> None:
    with atomic_write(directory / "manifest.json") as handle:
        handle.write((json.dumps(manifest, indent=2) + "\n").encode())


def export_reference(directory, ops=None, dtype: str = "float64", seed: int = 0) -> dict:
    """Write the golden files for ``ops`` (default all of :data:`OPS`) and ``manifest.json``.

    Returns the manifest (a dict). Unknown op names are a ValueError listing the known ones.
    """
    if dtype not in ("float64", "float32"):
        raise ValueError(f"export_reference: dtype must be 'float64' or 'float32'; got {dtype!r}")
    ops = OPS if ops is None else tuple(ops)
    unknown = sorted(set(ops) - set(OPS))
    if unknown:
        raise ValueError(f"export_reference: unknown ops {unknown}; expected some of "
                         f"{', '.join(OPS)}")
    directory = Path(directory)
    entries = []
    for case in (c for c in GOLDEN_CASES if c.op in ops):
        arrays = case_arrays(case, dtype, seed)
        _write_npz(directory / case.file, arrays)
        entries.append(_manifest_entry(spec_of(case), case.op, case.case, case.description,
                                       case.config, arrays))
    manifest = _manifest(dtype, seed, entries)
    _write_manifest(directory, manifest)
    return manifest


def write_case(directory: Path, spec: OpSpec, case: str, description: str, config: dict,
               arrays: dict) -> Path:
    """Write one float64 case (e.g. a failing case of ``npgen.verify``) and list it in the
    folder's ``manifest.json`` (created if absent, the entry replaced if the file exists)."""
    from npgen.verify.reference_files import load_manifest

    directory.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    entry = _manifest_entry(spec, spec.golden_op, case, description, config, arrays)
    path = directory / entry["file"]
    _write_npz(path, arrays)
    existing = directory / "manifest.json"
    manifest = load_manifest(existing) if existing.exists() else _manifest("float64", 0, [])
    manifest["cases"] = [c for c in manifest["cases"] if c["file"] != entry["file"]] + [entry]
    _write_manifest(directory, manifest)
    return path
