"""Shared pieces of the losses: the elementwise BCE terms and 0-d results.

Every helper takes the namespace ``xp`` as its first argument; only the
public loss functions look it up (from their inputs, in their checks:
:mod:`npgen._checks.losses`). The stable sigmoid and softplus are the
activations' (:mod:`npgen.functional.activations`), written once.
"""

from __future__ import annotations

from npgen.functional.activations import sigmoid_pair, softplus


def bce_terms(xp, logits, target):
    """Elementwise BCE with logits l and target t, and its derivative in l.

    loss = softplus(l) - l t   (= max(l, 0) - l t + log1p(e^-|l|), see :func:`softplus`)
    dl   = (1 - t) sigmoid(l) - t sigmoid(-l) (= sigmoid(l) - t)

    The derivative is written so that hard targets (t = 0 or 1) keep full
    relative accuracy: for l = 80, t = 1 it gives -sigmoid(-80) ~ -1.8e-35,
    where sigmoid(80) - 1 would round to 0. ``target`` may be an array or a float.
    """
    loss = softplus(xp, logits, target)
    positive, negative = sigmoid_pair(xp, logits)
    dlogits = (1.0 - target) * positive - target * negative
    return loss, dlogits


def as_0d(xp, value):
    """A 0-d array of the namespace (NumPy reductions return NumPy scalars otherwise)."""
    return xp.asarray(value)
