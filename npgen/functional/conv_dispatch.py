"""Which computation a convolution takes: the im2col definition or the Winograd fast path.

:func:`conv_path` decides per geometry; :func:`set_conv_path` / ``NPGEN_CONV_PATH`` force the
im2col reference everywhere. All four names are re-exported by :mod:`npgen.functional.conv`.
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["CONV_PATHS", "conv_path", "get_conv_path", "set_conv_path", "use_conv_path"]

CONV_PATHS = ("auto", "reference")
_forced_path = {"path": None}  # None: NPGEN_CONV_PATH, else "auto"


def conv_path(in_channels, out_channels, kernel, stride, dilation):
    """("winograd" or "reference", why) for a conv2d, or a conv_transpose2d with its geometry.

    The im2col code of conv.py is the definition. The Winograd path (conv_winograd.py) takes
    exactly: kernel 4x4, stride 2, dilation 1, any padding (and output_padding), both channel
    counts > 3, and ``get_conv_path() == "auto"``.
    """
    if get_conv_path() == "reference":
        return "reference", "forced by set_conv_path('reference') or NPGEN_CONV_PATH=reference"
    if min(in_channels, out_channels) <= 3:
        return "reference", "thin layer (C_in or C_out <= 3): im2col is small, no gain"
    if (tuple(kernel), tuple(stride), tuple(dilation)) != ((4, 4), (2, 2), (1, 1)):
        return "reference", "the fast path covers only kernel 4, stride 2, dilation 1"
    return "winograd", "k4 s2 d1: space-to-depth + Winograd F(2x2, 2x2), 0.56x the products"


def get_conv_path() -> str:
    """"auto" (the default: :func:`conv_path` decides) or "reference" (im2col everywhere)."""
    path = _forced_path["path"] or os.environ.get("NPGEN_CONV_PATH", "").strip() or "auto"
    if path not in CONV_PATHS:
        raise ValueError(f"NPGEN_CONV_PATH must be one of {CONV_PATHS}; got {path!r}")
    return path


def set_conv_path(path: str | None) -> str | None:
    """Force the im2col reference ("reference") or let :func:`conv_path` choose ("auto").

    None goes back to the default, ``NPGEN_CONV_PATH`` (else "auto"). Returns the previous
    setting (None if it was the default), which can be passed back.
    """
    if path is not None and path not in CONV_PATHS:
        raise ValueError(f"set_conv_path: expected one of {CONV_PATHS} or None; got {path!r}")
    previous, _forced_path["path"] = _forced_path["path"], path
    return previous


@contextlib.contextmanager
def use_conv_path(path: str):
    """Context manager: :func:`set_conv_path` inside the block, the previous setting after."""
    previous = set_conv_path(path)
    try:
        yield
    finally:
        set_conv_path(previous)
