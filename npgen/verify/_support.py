"""Declared support: ``supports={...}`` restricts the configurations a verifier draws.

An implementation that handles only part of the configuration space says so
(``verify_conv2d(f, b, supports={"dilation": 1, "bias": True})``) instead of
failing on the rest. Each key is a configuration key of the family (the names
in the failure reports); each value is one of

* a scalar: the setting equals it, on every axis for (height, width) pairs
  (``"dilation": 1`` means ``(1, 1)``);
* a tuple or list: the setting equals it exactly (``"stride": (1, 1)``);
* a set or frozenset: the setting is one of its members (each matched as above);
* a callable: ``predicate(setting) -> bool`` (e.g. :func:`same_per_axis`).
"""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["describe_supports", "matches", "restrict", "same_per_axis"]


def same_per_axis(setting) -> bool:
    """True when a (height, width) pair has equal entries: a square stride, padding, ..."""
    return len(set(setting)) == 1


def matches(value, wanted) -> bool:
    """Whether a configuration value satisfies one declared ``supports`` entry."""
    if callable(wanted):
        return bool(wanted(value))
    if isinstance(wanted, (set, frozenset)):
        return any(matches(value, w) for w in wanted)
    if isinstance(value, (tuple, list)) and not isinstance(wanted, (tuple, list)):
        return all(v == wanted for v in value)
    if isinstance(wanted, (tuple, list)) and isinstance(value, (tuple, list)):
        return tuple(value) == tuple(wanted)
    return value == wanted


def describe_supports(supports) -> str:
    def show(v):
        return getattr(v, "__name__", None) if callable(v) else repr(v)

    return "{" + ", ".join(f"{k!r}: {show(v)}" for k, v in supports.items()) + "}"


def restrict(spec, supports):
    """``spec.configs()`` keeping only the configurations ``supports`` declares."""
    configs = spec.configs()
    if not supports:
        return configs
    where = spec.where
    if not isinstance(supports, dict):
        raise TypeError(f"{where}: supports must be a dict of configuration key -> supported "
                        f"value(s); got {type(supports).__name__}")

    def supported(config: dict) -> bool:
        unknown = sorted(set(supports) - set(config))
        if unknown:
            raise ValueError(f"{where}: supports names unknown configuration keys {unknown}; "
                             f"the keys are {', '.join(config)}")
        return all(matches(config[k], wanted) for k, wanted in supports.items())

    return configs.filter(supported) if isinstance(configs, st.SearchStrategy) else configs
