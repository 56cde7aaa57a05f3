"""The primitives of the checks (npgen._checks): clear errors instead of broadcasts or IndexErrors.

Every message names the layer or function, what it expected and what it got
(shape, dtype, backend, device).
"""

from __future__ import annotations

import json
import math
import numbers

from npgen.backend import backend_of, dtype_name, namespace_of


def describe(x) -> str:
    """'float32 array of shape (2, 3) on numpy/cpu' for messages."""
    try:
        where = backend_of(x)
        place = f"{where.name}/{where.device}"
    except TypeError:
        return f"{type(x).__name__} (not an array of a supported library)"
    return f"{dtype_name(x.dtype)} array of shape {tuple(x.shape)} on {place}"


def namespace(where: str, *arrays):
    """``array_namespace(*arrays)`` with an error naming ``where`` when libraries mix."""
    try:
        return namespace_of(*arrays)
    except TypeError as exc:
        got = "; ".join(describe(a) for a in arrays)
        raise TypeError(f"{where}: arrays must come from one array library; got {got}") from exc


def check_float(where: str, x, name: str = "input"):
    """Reject non-arrays and non-float arrays."""
    try:
        xp = namespace_of(x)
    except TypeError:
        raise TypeError(f"{where}: expected {name} to be an array; got {describe(x)}") from None
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"{where}: expected a floating-point {name}; got {describe(x)}")
    return xp


def check_rank(where: str, x, ndim: int, layout: str, name: str = "input"):
    """Require ``x.ndim == ndim``; ``layout`` names the axes, e.g. '(N, C, H, W)'."""
    if x.ndim != ndim:
        raise ValueError(
            f"{where}: expected a {ndim}-D {name} {layout}; got shape {tuple(x.shape)}"
        )


def check_axis(where: str, x, axis: int, expected: int, what: str, name: str = "input"):
    """Require ``x.shape[axis] == expected`` (e.g. the channel count)."""
    if x.shape[axis] != expected:
        raise ValueError(
            f"{where}: expected {name} with {expected} {what} (axis {axis}); "
            f"got shape {tuple(x.shape)}"
        )


def check_like(where: str, x, reference, name: str = "input", reference_name: str = "weight"):
    """Require ``x`` to share ``reference``'s library, device and dtype (no silent casts)."""
    check_float(where, x, name)
    same_place = type(x) is type(reference) and \
        getattr(x, "device", None) == getattr(reference, "device", None)
    if same_place and x.dtype == reference.dtype:  # the common case: nothing to describe
        return
    x_at, ref_at = backend_of(x), backend_of(reference)
    if x_at.name != ref_at.name or str(x_at.device) != str(ref_at.device):
        raise TypeError(
            f"{where}: {name} is on {x_at.name}/{x_at.device} but its {reference_name} is on "
            f"{ref_at.name}/{ref_at.device}; move it with npgen.asarray"
        )
    if dtype_name(x.dtype) != dtype_name(reference.dtype):
        raise TypeError(
            f"{where}: {name} is {dtype_name(x.dtype)} but the {reference_name} is "
            f"{dtype_name(reference.dtype)}; cast one of them explicitly"
        )


def check_same_shape(where: str, a, b, a_name: str, b_name: str):
    """Require equal shapes (losses never broadcast a target)."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{where}: {a_name} and {b_name} must have the same shape; got "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )


def pair(where: str, value, name: str, minimum: int) -> tuple:
    """An int or a pair of ints -> (height, width), each >= ``minimum``."""
    try:
        values = (value, value) if isinstance(value, int) else tuple(value)
    except TypeError:  # not iterable, e.g. a float: reported below
        values = ()
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{where}: {name} must be an int or a pair of ints; got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{where}: {name} must be >= {minimum}; got {value!r}")
    return values


def check_positive_int(where: str, value, name: str) -> int:
    """Require a Python int >= 1 (bools refused), e.g. ``in_features``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive int; got {value!r}")
    return value


def check_real(where: str, value, name: str, *, minimum: float | None = None) -> float:
    """A finite real number (bools, strings and None refused), ``>= minimum`` if given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a real number; got {value!r}")
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum:g}"
        raise ValueError(f"{where}: {name} must be a finite number{bound}; got {value!r}")
    return float(value)


def check_flag(where: str, name: str, value) -> bool:
    """True or False (no other truthy value), e.g. ``amsgrad`` or ``saturating``."""
    if not isinstance(value, bool):
        raise TypeError(f"{where}: {name} must be True or False; got {value!r}")
    return value


def check_seed(where: str, seed) -> None:
    """A seed is None or a Python int >= 0 (what numpy's SeedSequence accepts)."""
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{where}: seed must be an int >= 0 or None; got {seed!r}")
    if seed < 0:
        raise ValueError(f"{where}: seed must be an int >= 0 or None; got {seed!r}")


def check_forward_operands(where: str, x, *others, names: tuple):
    """Every operand on ``x``'s library and device with ``x``'s dtype (no silent promotion).

    ``names`` labels ``others`` in the messages, e.g. ``("weight", "bias")``; None operands
    (an absent bias) are skipped. Returns the namespace.
    """
    present = [(a, n) for a, n in zip(others, names) if a is not None]
    xp = namespace(where, x, *(a for a, _ in present))
    check_float(where, x)
    for a, name in present:
        check_like(where, a, x, name=name, reference_name="input")
    return xp


JSON_MAX_DEPTH = 100  # nesting of arrays/objects; npgen's own documents stay under 10
JSON_MAX_CHARS = 64 * 2**20  # 64 Mi characters


def load_json(where: str, text: str, *, max_depth: int = JSON_MAX_DEPTH,
              max_chars: int = JSON_MAX_CHARS):
    """``json.loads`` with bounded size and nesting: a ValueError naming ``where`` otherwise.

    A document nested thousands of levels deep would exhaust the interpreter's
    recursion limit (RecursionError) or any code that walks it afterwards.
    """
    if len(text) > max_chars:
        raise ValueError(f"{where}: the JSON document has {len(text)} characters; at most "
                         f"{max_chars} are read")
    try:
        document = json.loads(text)
    except RecursionError:
        raise ValueError(f"{where}: the JSON document is nested too deeply "
                         f"(more than {max_depth} levels are refused)") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: invalid JSON: {exc}") from exc
    pending, deepest = [(document, 1)], 0
    while pending:  # iterative: no recursion however deep the document
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > max_depth:
                raise ValueError(f"{where}: the JSON document is nested more than "
                                 f"{max_depth} levels deep")
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return document
