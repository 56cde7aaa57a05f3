"""Sample quality on the 8x8 digits: a small classifier trained with npgen, and IS / FD with it.

Inception Score and FID need a trained classifier; for the 8x8 digits npgen
trains its own, with its own layers and optimizer, and caches the weights:

    x (N, 1, 8, 8) -> Conv2d(1, 16, 3, p=1) -> ReLU -> Conv2d(16, 32, 3, s=2, p=1) -> ReLU
      -> Flatten -> Dense(512, 64) -> ReLU    = phi(x), the 64-d features
      -> Dense(64, 10)                        = logits l(x); log p(y|x) = log_softmax(l)

Symbols
-------
N          number of images
J          number of classes (10); K is the latent size elsewhere
l          logits (N, J); t one-hot targets (N, J)
phi(x)     penultimate activations (N, 64), the Frechet-distance features

The scores (see docs/evaluation.md)::

    IS = exp(E_x KL(p(y|x) || p(y)))                        in [1, J]
    FD = ||mu_g - mu_r||^2 + Tr(S_g + S_r - 2 sqrtm(S_g S_r))  on phi(x)

The classifier is a host-side tool: it always runs on NumPy in float32,
whatever the global backend; inputs of any backend cross with ``to_numpy``.
Training is deterministic given the seed (weights, batch order). The weights
are cached in ``$NPGEN_CACHE`` (default ``~/.cache/npgen``) as an npgen
checkpoint ``digits_classifier_seed<seed>.npz``; a cache from another
version, or an unreadable one, is retrained over.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from pathlib import Path

import numpy as np

import npgen
from npgen import nn
from npgen._checks.primitives import namespace
from npgen.checkpoint import load_checkpoint, save_checkpoint
from npgen.data import load_dataset
from npgen.metrics import frechet_distance, inception_score
from npgen.optim import Adam, cosine_lr

__all__ = [
    "CLASSIFIER_VERSION",
    "DigitsClassifier",
    "classifier_cache_path",
    "digits_scores",
    "load_digits_classifier",
    "log_softmax",
    "softmax_cross_entropy",
    "train_digits_classifier",
]

CLASSIFIER_VERSION = "digits-cnn-v1"  # bump when the architecture or training changes
DIGITS_SPLIT_SEED = 0  # the classifier learns the standard split of load_dataset("digits")
NUM_CLASSES = 10
_EPOCHS, _BATCH_SIZE, _LEARNING_RATE = 20, 32, 2e-3
_IMAGE_SHAPE = (1, 8, 8)


# ----------------------------------------------------------------------------
# Softmax cross-entropy (any backend)
# ----------------------------------------------------------------------------


def log_softmax(logits):
    """log p = l - logsumexp(l) along the last axis, computed as l - m - log sum exp(l - m).

    Parameters
    ----------
    logits : array (N, J), any backend

    Returns
    -------
    array (N, J): log-probabilities; every row's exp sums to 1.
    """
    xp = namespace("log_softmax", logits)
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)  # (N, J), max entry 0
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def softmax_cross_entropy(logits, targets):
    """Mean cross-entropy -1/N sum_n sum_k t_nk log softmax(l_n)_k and its gradient.

    Parameters
    ----------
    logits : array (N, J)
    targets : array (N, J), same library/device/dtype
        One-hot labels (or any rows of class probabilities).

    Returns
    -------
    loss : 0-d array
    dlogits : array (N, J)
        ``(softmax(l) - t) / N`` (for rows of t that sum to 1).
    """
    where = "softmax_cross_entropy"
    xp = namespace(where, logits, targets)
    if logits.ndim != 2 or tuple(targets.shape) != tuple(logits.shape):
        raise ValueError(f"{where}: expected logits (N, K) and targets of the same shape; got "
                         f"{tuple(logits.shape)} and {tuple(targets.shape)}")
    if logits.dtype != targets.dtype:
        raise TypeError(f"{where}: logits are {logits.dtype} but targets are {targets.dtype}")
    n = float(logits.shape[0])
    log_p = log_softmax(logits)  # (N, J)
    loss = xp.asarray(-xp.sum(targets * log_p) / n)  # a 0-d array, as the losses return
    return loss, (xp.exp(log_p) - targets) / n


# ----------------------------------------------------------------------------
# The classifier
# ----------------------------------------------------------------------------


def _build_network(seed: int) -> nn.Sequential:
    """The CNN of the module docstring, float32 on NumPy, initialized from ``seed``."""
    with npgen.use_backend("numpy"):
        rng = npgen.RNG(seed, portable=True)
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, rng=rng), nn.ReLU(),  # (N, 16, 8, 8)
            nn.Conv2d(16, 32, 3, stride=2, padding=1, rng=rng), nn.ReLU(),  # (N, 32, 4, 4)
            nn.Flatten(),  # (N, 512)
            nn.Dense(32 * 4 * 4, 64, rng=rng), nn.ReLU(),  # (N, 64) features
            nn.Dense(64, NUM_CLASSES, rng=rng),  # (N, 10) logits
        ).eval()


def _host_images(where: str, x) -> np.ndarray:
    """``x`` as a float32 host array (N, 1, 8, 8) with pixels in [0, 1], or a clear error."""
    host = np.asarray(npgen.to_numpy(x))
    if host.ndim != 4 or tuple(host.shape[1:]) != _IMAGE_SHAPE or host.shape[0] == 0:
        raise ValueError(f"{where}: expected digit images (N, 1, 8, 8) with N >= 1; got shape "
                         f"{tuple(host.shape)}")
    if not np.issubdtype(host.dtype, np.floating):
        raise TypeError(f"{where}: expected float images in [0, 1]; got dtype {host.dtype}")
    low, high = float(host.min()), float(host.max())
    if not (np.isfinite(low) and np.isfinite(high)) or low < -1e-3 or high > 1.0 + 1e-3:
        raise ValueError(f"{where}: pixels must lie in [0, 1]; got values in [{low:.4g}, "
                         f"{high:.4g}] (map tanh outputs in [-1, 1] with (x + 1) / 2)")
    return np.clip(host, 0.0, 1.0).astype(np.float32)


class DigitsClassifier:
    """A trained digits classifier: ``log_probs(x)``, ``features(x)``, test ``accuracy``.

    Attributes
    ----------
    network : npgen.nn.Sequential
        The CNN (float32, NumPy, eval mode).
    accuracy : float
        Accuracy on the test split of ``load_dataset("digits")``.
    seed : int
    """

    def __init__(self, network: nn.Sequential, accuracy: float, seed: int):
        self.network, self.accuracy, self.seed = network, float(accuracy), int(seed)

    def __repr__(self) -> str:
        return f"DigitsClassifier(seed={self.seed}, accuracy={self.accuracy:.4f})"

    def _run(self, where: str, x, layers: int) -> np.ndarray:
        images = _host_images(where, x)
        out = []
        with _one_blas_thread():
            for start in range(0, images.shape[0], 512):
                h = images[start:start + 512]
                for layer in list(self.network)[:layers]:
                    h = layer(h)
                out.append(h)
        return np.concatenate(out, axis=0).astype(np.float64)

    def logits(self, x) -> np.ndarray:
        """Logits (N, 10), float64 host array, for images (N, 1, 8, 8) in [0, 1]."""
        return self._run("DigitsClassifier.logits", x, len(self.network))

    def log_probs(self, x) -> np.ndarray:
        """log p(y|x) (N, 10), float64 host array (log-softmax of the logits)."""
        return log_softmax(self.logits(x))

    def features(self, x) -> np.ndarray:
        """The penultimate activations phi(x) (N, 64), float64 host array."""
        return self._run("DigitsClassifier.features", x, len(self.network) - 1)

    def predict(self, x) -> np.ndarray:
        """The most likely class (N,), int64."""
        return np.argmax(self.logits(x), axis=1).astype(np.int64)


def _train_epoch(network, optimizer, images, onehot, order, step, total_steps) -> int:
    for start in range(0, len(order), _BATCH_SIZE):
        batch = order[start:start + _BATCH_SIZE]
        optimizer.lr = cosine_lr(step, _LEARNING_RATE, total_steps)
        network.zero_grad()
        _, dlogits = softmax_cross_entropy(network(images[batch]), onehot[batch])
        network.backward(dlogits)
        optimizer.step(network.gradients())
        step += 1
    return step


def _one_blas_thread():
    """Limit BLAS to one thread: the products of 32-image batches gain nothing from threads,
    and on a busy machine spinning BLAS threads slow training down many times over."""
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def train_digits_classifier(seed: int = 0) -> DigitsClassifier:
    """Train the CNN on the digits training split (Adam, cosine schedule, 20 epochs).

    Deterministic given ``seed``: it seeds the initial weights and the batch
    order. Takes a few seconds on one CPU core.
    """
    dataset = load_dataset("digits", seed=DIGITS_SPLIT_SEED)
    network = _build_network(seed).train()
    optimizer = Adam(network.parameters(), lr=_LEARNING_RATE)
    onehot = np.eye(NUM_CLASSES, dtype=np.float32)[dataset.train_labels]  # (N, 10)
    batch_order = np.random.default_rng(seed)
    total_steps = _EPOCHS * -(-dataset.train.shape[0] // _BATCH_SIZE)
    step = 0
    with _one_blas_thread():
        for _ in range(_EPOCHS):
            order = batch_order.permutation(dataset.train.shape[0])
            step = _train_epoch(network, optimizer, dataset.train, onehot, order, step,
                                total_steps)
    classifier = DigitsClassifier(network.eval(), 0.0, seed)
    classifier.accuracy = float(np.mean(classifier.predict(dataset.test) == dataset.test_labels))
    return classifier


# ----------------------------------------------------------------------------
# Caching
# ----------------------------------------------------------------------------


def classifier_cache_path(seed: int = 0, cache_dir=None) -> Path:
    """``<cache_dir>/digits_classifier_seed<seed>.npz``; the folder defaults to
    ``$NPGEN_CACHE`` or ``~/.cache/npgen``."""
    if cache_dir is None:
        cache_dir = os.environ.get("NPGEN_CACHE") or Path.home() / ".cache" / "npgen"
    return Path(cache_dir).expanduser() / f"digits_classifier_seed{int(seed)}.npz"


def _read_cache(path: Path, seed: int) -> DigitsClassifier | None:
    """The cached classifier, or None when the file is missing, stale or unreadable."""
    if not path.is_file():
        return None
    try:
        checkpoint = load_checkpoint(path)
        config = checkpoint.config
        if config.get("version") != CLASSIFIER_VERSION or config.get("seed") != seed:
            return None
        network = _build_network(seed)
        network.load_state_dict(checkpoint.model_state["classifier"])
        return DigitsClassifier(network, float(checkpoint.extra["accuracy"]), seed)
    except (ValueError, KeyError, TypeError) as exc:
        warnings.warn(f"npgen.evaluation: ignoring the unreadable classifier cache {path} "
                      f"({exc}); retraining", RuntimeWarning, stacklevel=3)
        return None


def load_digits_classifier(seed: int = 0, cache_dir=None) -> DigitsClassifier:
    """The digits classifier for ``seed``: read from the cache, or trained and cached.

    Parameters
    ----------
    seed : int
        Seed of the weights and the batch order.
    cache_dir : str or Path, optional
        Folder of the cache file (default ``$NPGEN_CACHE`` or ``~/.cache/npgen``).
        The file is written atomically; a corrupt or outdated one is replaced.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"load_digits_classifier: seed must be an int; got {seed!r}")
    seed = int(seed)
    path = classifier_cache_path(seed, cache_dir)
    classifier = _read_cache(path, seed)
    if classifier is None:
        classifier = train_digits_classifier(seed)
        try:
            save_checkpoint(path, model_state={"classifier": classifier.network.state_dict()},
                            optimizer_state={}, rng_state={}, epoch=_EPOCHS,
                            config={"version": CLASSIFIER_VERSION, "seed": seed},
                            extra={"accuracy": classifier.accuracy, "trained_at": time.time()})
        except OSError as exc:  # e.g. a read-only home: still usable, just not cached
            warnings.warn(f"npgen.evaluation: could not cache the classifier at {path}: {exc}",
                          RuntimeWarning, stacklevel=2)
    return classifier


_LOADED: dict = {}  # (seed, cache path) -> DigitsClassifier, for repeated digits_scores calls


def digits_scores(samples, real, *, seed: int = 0,
                  classifier: DigitsClassifier | None = None) -> dict:
    """Inception Score and Frechet distance of digit samples, with the npgen classifier.

    Parameters
    ----------
    samples : array (N, 1, 8, 8), pixels in [0, 1], any backend
        Generated images.
    real : array (M, 1, 8, 8), pixels in [0, 1], any backend
        Held-out real images (e.g. ``load_dataset("digits").test``).
    seed : int
        Which cached classifier (see :func:`load_digits_classifier`).
    classifier : DigitsClassifier, optional
        Use this one instead of loading by seed.

    Returns
    -------
    dict
        ``inception_score`` (of samples), ``real_inception_score`` (of ``real``,
        the ceiling to compare with), ``frechet_distance`` (samples vs real, on
        the 64-d features), ``classifier_accuracy`` (its test accuracy).
        FD needs N, M >= 2 (and is noisy below a few hundred images).
    """
    if classifier is None:
        key = (int(seed), classifier_cache_path(seed))
        if key not in _LOADED:
            _LOADED[key] = load_digits_classifier(seed)
        classifier = _LOADED[key]
    sample_images = _host_images("digits_scores (samples)", samples)
    real_images = _host_images("digits_scores (real)", real)
    sample_features = classifier.features(sample_images)  # (N, 64)
    real_features = classifier.features(real_images)  # (M, 64)
    # Units that are zero on every image of both sets (dead ReLUs) add exactly 0 to FD but
    # make both covariances singular: leave them out.
    alive = np.any(sample_features != 0, axis=0) | np.any(real_features != 0, axis=0)  # (64,)
    return {
        "inception_score": inception_score(log_probs=classifier.log_probs(sample_images)).mean,
        "real_inception_score": inception_score(log_probs=classifier.log_probs(real_images)).mean,
        "frechet_distance": frechet_distance(sample_features[:, alive], real_features[:, alive]),
        "classifier_accuracy": classifier.accuracy,
    }
