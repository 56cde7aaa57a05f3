"""Optimizers: pure per-array updates plus thin stateful wrappers, exactly as ``torch.optim``.

* :func:`sgd_init` / :func:`sgd_update`, :func:`adam_init` / :func:`adam_update`:
  the math, on one array, returning new arrays and a small NamedTuple state.
* :class:`SGD`, :class:`Adam`, :class:`AdamW`: apply the update to a parameter
  dict in place; ``state_dict()`` / ``load_state_dict()`` resume bit-identically.
* :func:`clip_grad_norm` and the schedules :func:`step_lr`, :func:`cosine_lr`,
  :func:`linear_warmup`.

See ``docs/optim.md`` for the equations and the state-dict layout.
"""

from npgen.optim._base import Optimizer
from npgen.optim.adam import Adam, AdamState, AdamW, adam_init, adam_update
from npgen.optim.clip import clip_grad_norm
from npgen.optim.schedules import cosine_lr, linear_warmup, step_lr
from npgen.optim.sgd import SGD, SGDState, sgd_init, sgd_update

__all__ = [
    "SGD",
    "Adam",
    "AdamState",
    "AdamW",
    "Optimizer",
    "SGDState",
    "adam_init",
    "adam_update",
    "clip_grad_norm",
    "cosine_lr",
    "linear_warmup",
    "sgd_init",
    "sgd_update",
    "step_lr",
]
