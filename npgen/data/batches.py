"""A seeded mini-batch iterator over host NumPy arrays.

The iterator stays on the host; the training loop moves each batch to the
compute backend with ``npgen.asarray(batch, dtype=...)``, the one crossing
point. Shuffling draws ONE permutation per call (per epoch), eagerly when
:func:`iterate_batches` is called, so the random state right after the call
is fixed no matter how many batches are consumed: a trainer that saves
``rng.bit_generator.state`` (or ``npgen.RNG.state_dict()``) at the start of
an epoch resumes with the same order.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["iterate_batches", "num_batches"]


def num_batches(num_examples: int, batch_size: int, *, drop_last: bool = False) -> int:
    """How many batches :func:`iterate_batches` yields for ``num_examples`` examples."""
    full, rest = divmod(num_examples, batch_size)
    return full + (1 if rest and not drop_last else 0)


def _as_generator(rng_or_seed):
    """An object with ``.permutation(n)``: a NumPy Generator, an ``npgen.RNG``, or a new one."""
    if rng_or_seed is None:
        raise ValueError(
            "iterate_batches: shuffling needs rng_or_seed (an int seed, a "
            "numpy.random.Generator or an npgen.RNG) so that the order is reproducible"
        )
    if isinstance(rng_or_seed, (int, np.integer)) and not isinstance(rng_or_seed, bool):
        return np.random.default_rng(int(rng_or_seed))
    if callable(getattr(rng_or_seed, "permutation", None)):
        return rng_or_seed  # np.random.Generator or npgen.RNG (both return host int64)
    raise TypeError(
        "iterate_batches: rng_or_seed must be an int seed, a numpy.random.Generator or an "
        f"npgen.RNG; got {type(rng_or_seed).__name__}"
    )


def _check_arrays(data) -> tuple[tuple[np.ndarray, ...], bool]:
    """Normalize ``data`` to a tuple of NumPy arrays with one shared leading length."""
    single = isinstance(data, np.ndarray)
    arrays = (data,) if single else tuple(data)
    if not arrays or not all(isinstance(a, np.ndarray) and a.ndim >= 1 for a in arrays):
        raise TypeError(
            "iterate_batches: data must be a NumPy array (N, ...) or a tuple of them; "
            f"got {type(data).__name__} (convert device arrays with npgen.to_numpy)"
        )
    lengths = {a.shape[0] for a in arrays}
    if len(lengths) != 1:
        raise ValueError(
            "iterate_batches: arrays must share their first axis; got shapes "
            f"{[a.shape for a in arrays]}"
        )
    return arrays, single


def iterate_batches(data, batch_size: int, *, rng_or_seed, shuffle: bool = True,
                    drop_last: bool = False) -> Iterator:
    """Yield mini-batches of ``data`` (one epoch), on the host.

    Parameters
    ----------
    data : ndarray (N, ...) or tuple of ndarrays with a shared N
        E.g. ``dataset.train`` or ``(dataset.train, dataset.train_labels)``.
    batch_size : int
        Examples per batch; the last batch is smaller unless ``drop_last``.
    rng_or_seed : numpy.random.Generator, npgen.RNG, int or None
        Source of the shuffling permutation. A generator is advanced by one
        ``permutation(N)`` draw per call; an int makes a fresh
        ``np.random.default_rng(seed)`` (the same order every call). None is
        accepted only with ``shuffle=False``.
    shuffle : bool
        Visit the examples in a random order (else in index order; then no
        random numbers are drawn).
    drop_last : bool
        Skip a final batch smaller than ``batch_size``.

    Yields
    ------
    ndarray (B, ...) or tuple of ndarrays
        Same structure as ``data``; B = ``batch_size`` except possibly the last.
    """
    arrays, single = _check_arrays(data)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"iterate_batches: batch_size must be a positive int; got {batch_size!r}")
    n = arrays[0].shape[0]
    order = np.asarray(_as_generator(rng_or_seed).permutation(n)) if shuffle else None
    return _batches(arrays, single, order, int(batch_size), num_batches(n, batch_size,
                                                                         drop_last=drop_last))


def _batches(arrays, single, order, batch_size, count) -> Iterator:
    for b in range(count):
        if order is None:
            part = tuple(a[b * batch_size:(b + 1) * batch_size] for a in arrays)
        else:
            rows = order[b * batch_size:(b + 1) * batch_size]  # (B,)
            part = tuple(a[rows] for a in arrays)
        yield part[0] if single else part
