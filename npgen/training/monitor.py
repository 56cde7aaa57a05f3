"""Watching a run: the non-finite guard, the progress bar, and the metrics files.

Plumbing only; nothing here touches the math of a step.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

from npgen.checkpoint import atomic_write

__all__ = ["History", "NonFiniteLossError", "check_finite", "progress_bar", "write_json"]


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite; the run stopped before updating with it.

    Attributes
    ----------
    epoch : int
        1-based epoch of the failing step.
    step : int
        1-based step within that epoch.
    term : str
        The first non-finite term, e.g. ``"KL"`` or ``"discriminator loss"``.
    value : float
    checkpoint : Path or None
        The last good checkpoint (left untouched), if one was written.
    """

    def __init__(self, epoch: int, step: int, term: str, value: float, checkpoint=None):
        self.epoch, self.step, self.term, self.value = epoch, step, term, value
        self.checkpoint = checkpoint
        where = (f"the last good checkpoint {checkpoint} is kept" if checkpoint is not None
                 else "no checkpoint had been written yet")
        super().__init__(f"non-finite loss at epoch {epoch}, step {step}: the {term} is "
                         f"{value}; stopping ({where}). Lower --lr or check the data.")


def check_finite(values: Mapping[str, object], epoch: int, step: int,
                 last_checkpoint=lambda: None) -> dict[str, float]:
    """``{term: float(value)}``, or :class:`NonFiniteLossError` naming the first bad term.

    ``last_checkpoint()`` gives the path the error reports; it is called only on failure,
    so the training step does not look at the disk.
    """
    floats = {}
    for term, value in values.items():
        number = float(value)
        if not math.isfinite(number):
            raise NonFiniteLossError(epoch, step, term, number, last_checkpoint())
        floats[term] = number
    return floats


def progress_bar(iterable: Iterable, total: int, description: str, enabled: bool):
    """A tqdm bar over one epoch's steps (a no-op wrapper when disabled or tqdm is missing)."""
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is in the examples extra
            enabled = False
    if not enabled:
        return _Silent(iterable)
    return tqdm(iterable, total=total, desc=description, leave=False, dynamic_ncols=True)


class _Silent:
    """The tqdm methods the loops use, doing nothing."""

    def __init__(self, iterable):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable)

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def json_safe(document, where: str = "", reasons: dict | None = None):
    """``document`` with every NaN or infinite float replaced by None (valid JSON).

    Each replacement is recorded in ``reasons`` as ``{"metrics.key": "was nan ..."}``.
    """
    if isinstance(document, Mapping):
        return {key: json_safe(value, f"{where}.{key}".lstrip("."), reasons)
                for key, value in document.items()}
    if isinstance(document, (list, tuple)):
        return [json_safe(value, f"{where}[{i}]", reasons) for i, value in enumerate(document)]
    if isinstance(document, float) and not math.isfinite(document):
        if reasons is not None:
            reasons[where] = (f"was {document} (not a finite number: the metric is undefined "
                              "for these samples, e.g. a singular covariance)")
        return None
    return document


def write_json(path: str | Path, document) -> Path:
    """Write ``document`` as indented JSON, atomically; never NaN (invalid JSON).

    A non-finite float becomes ``null``; in a dict document the reason is listed
    under ``"null_reasons"``.
    """
    reasons: dict[str, str] = {}
    safe = json_safe(document, reasons=reasons)
    if reasons and isinstance(safe, dict):
        safe["null_reasons"] = reasons
    with atomic_write(path) as handle:
        handle.write((json.dumps(safe, indent=2, allow_nan=False) + "\n").encode())
    return Path(path)


class History:
    """Per-epoch metric rows plus per-step loss series, written as CSV and JSON.

    ``rows`` is a list of dicts (one per finished epoch, ``epoch`` first);
    ``steps`` maps a series name to its per-step values (for loss curves).
    """

    def __init__(self, rows=None, steps=None):
        self.rows: list[dict] = [dict(row) for row in rows or []]
        self.steps: dict[str, list[float]] = {k: list(v) for k, v in (steps or {}).items()}

    def add_step(self, values: Mapping[str, float]) -> None:
        for name, value in values.items():
            self.steps.setdefault(name, []).append(float(value))

    def add_epoch(self, row: Mapping[str, float]) -> None:
        self.rows.append(dict(row))

    def state(self) -> dict:
        """JSON-ready form, stored in checkpoints (``extra["history"]``)."""
        return {"rows": self.rows, "steps": self.steps}

    @classmethod
    def from_state(cls, state: Mapping) -> History:
        return cls(state.get("rows"), state.get("steps"))

    def write(self, folder: str | Path) -> None:
        """``history.csv`` and ``history.json`` in ``folder`` (both atomic)."""
        folder = Path(folder)
        write_json(folder / "history.json", self.rows)
        columns = list(dict.fromkeys(key for row in self.rows for key in row))
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        with atomic_write(folder / "history.csv") as handle:
            handle.write(text.getvalue().encode())
