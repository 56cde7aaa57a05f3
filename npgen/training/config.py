"""A run's configuration and what it builds: the data set, the model, the optimizers.

The config is stored in every checkpoint (JSON values only), so a checkpoint
alone rebuilds its model (``npgen sample``) and resumes its run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from npgen.data import Dataset, load_dataset
from npgen.models.gan import GAN, dcgan, mlp_gan
from npgen.models.vae import VAE, conv_vae, mlp_vae
from npgen.models.wgan import penalized_gan
from npgen.optim import Adam, cosine_lr

__all__ = ["TrainConfig", "build_model", "build_optimizers", "epoch_lr", "load_data"]

MODELS = ("vae", "gan")
ARCHS = ("mlp", "conv")
GAN_LOSSES = ("minimax", "wgan-gp", "r1")  # penalized ones: npgen.models.wgan


@dataclass
class TrainConfig:
    """Everything that defines a run (defaults: the MLP VAE quality-bar recipe on digits)."""

    model: str = "vae"  # "vae" or "gan"
    data: str = "digits"  # a npgen.data spec: digits, ring, grid, mnist:PATH, ...
    arch: str = "mlp"  # VAE: "mlp" or "conv"; GAN: "conv" (DCGAN) on images, "mlp" on points
    epochs: int = 10  # passes over the training set
    batch_size: int = 64
    lr: float = 1e-3  # Adam learning rate (both networks of a GAN)
    lr_schedule: str = "constant"  # "constant" or "cosine" (annealed per epoch towards 0)
    betas: list[float] | None = None  # Adam betas; None: (0.9, 0.999) VAE, (0.5, 0.999) GAN
    beta: float = 1.0  # VAE: weight of the KL term
    likelihood: str = "bernoulli"  # VAE: "bernoulli" or "gaussian"
    sigma: float = 1.0  # VAE: the Gaussian likelihood's fixed standard deviation
    latent_dim: int = 8  # size of z
    hidden: int = 256  # MLP width (MLP VAE, toy GAN)
    depth: int = 3  # toy GAN: hidden layers of G and D
    channels: int = 16  # conv VAE / DCGAN width at full resolution
    seed: int = 0  # model initialization, data order, noise
    data_seed: int = 0  # the data set's split (digits) or draw (ring, grid)
    dtype: str = "float32"
    test_draws: int = 1  # VAE: draws of z per test example for the epoch's test -ELBO
    iw_samples: int = 0  # VAE: k of the final importance-weighted bound (0: skip)
    eval_samples: int = 1000  # GAN: samples per evaluation (modes, scores)
    loss: str = "minimax"  # GAN: "minimax", "wgan-gp" (Wasserstein + gradient penalty), "r1"
    critic_steps: int | None = None  # GAN: D steps per G step; None: 5 for wgan-gp, else 1
    penalty_weight: float = 10.0  # GAN: lambda of wgan-gp, gamma of r1
    extra: dict = field(default_factory=dict)  # free-form notes kept with the run

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"TrainConfig: model must be one of {MODELS}; got {self.model!r}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError("TrainConfig: lr_schedule must be 'constant' or 'cosine'; got "
                             f"{self.lr_schedule!r}")
        if self.arch not in ARCHS:
            raise ValueError(f"TrainConfig: arch must be one of {ARCHS}; got {self.arch!r}")
        if self.critic_steps is None:
            self.critic_steps = 5 if self.loss == "wgan-gp" else 1
        for name in ("epochs", "batch_size", "latent_dim", "hidden", "depth", "channels",
                     "critic_steps"):
            value, least = getattr(self, name), 0 if name == "epochs" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"TrainConfig: {name} must be an int >= {least}; got {value!r}")
        if self.loss not in GAN_LOSSES:
            raise ValueError(f"TrainConfig: loss must be one of {GAN_LOSSES}; got {self.loss!r}")
        if not float(self.penalty_weight) >= 0.0:
            raise ValueError("TrainConfig: penalty_weight must be >= 0; got "
                             f"{self.penalty_weight!r}")
        if self.betas is None:  # VAE; GAN (the DCGAN paper); penalized GAN (the WGAN-GP paper)
            self.betas = ([0.9, 0.999] if self.model == "vae" else
                          [0.5, 0.999] if self.loss == "minimax" else [0.0, 0.9])
        self.betas = [float(b) for b in self.betas]

    @property
    def title(self) -> str:
        """The model's name in picture titles: VAE, DCGAN (conv) or GAN (MLP), WGAN-GP, GAN + R1."""
        if self.model == "vae":
            return "VAE"
        penalized = {"wgan-gp": "WGAN-GP", "r1": "GAN + R1"}
        return penalized.get(self.loss, "DCGAN" if self.arch == "conv" else "GAN")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"TrainConfig: unknown fields {unknown}")
        return cls(**values)


def load_data(config: TrainConfig) -> Dataset:
    """The data set of ``config.data``, split/drawn with ``config.data_seed``."""
    return load_dataset(config.data, seed=config.data_seed)


def build_model(config: TrainConfig, feature_shape, seed: int | None = None) -> VAE | GAN:
    """The model named by ``config`` for examples of ``feature_shape``, initialized from seed."""
    seed = config.seed if seed is None else seed
    common = dict(dtype=config.dtype, seed=seed)
    if config.model == "vae":
        vae_options = dict(latent_dim=config.latent_dim, likelihood=config.likelihood,
                           beta=config.beta, sigma=config.sigma, **common)
        if config.arch == "conv":
            return conv_vae(feature_shape, config.channels, **vae_options)
        return mlp_vae(feature_shape, config.hidden, **vae_options)
    if len(feature_shape) == 3 and config.loss != "minimax":  # no batch norm in the critic
        return penalized_gan(feature_shape, config.latent_dim, config.channels, **common)
    if len(feature_shape) == 3:  # images: the DCGAN
        return dcgan(feature_shape, config.latent_dim, config.channels, **common)
    return mlp_gan(int(np.prod(feature_shape)), config.latent_dim, config.hidden, config.depth,
                   **common)


def build_optimizers(config: TrainConfig, model: VAE | GAN) -> dict[str, Adam]:
    """Adam per network: ``{"model": ...}`` for a VAE, ``{"generator", "discriminator"}``."""
    betas = tuple(config.betas)
    if isinstance(model, VAE):
        return {"model": Adam(model.parameters(), lr=config.lr, betas=betas)}
    return {name: Adam(getattr(model, name).parameters(), lr=config.lr, betas=betas)
            for name in ("generator", "discriminator")}


def epoch_lr(config: TrainConfig, epoch: int) -> float:
    """The learning rate of 0-based ``epoch`` (a function of the epoch, so resume is exact)."""
    if config.lr_schedule == "cosine":
        return cosine_lr(epoch, config.lr, config.epochs)
    return config.lr
