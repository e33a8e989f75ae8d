"""Checking constructor arguments where they are given, so a mistake is reported by the class that got it.

Each check names the owner (a class, e.g. ``"Conv2d"``) and the argument, with torch's error types:
TypeError for a value of the wrong kind (a string learning rate), ValueError for one out of its range
(a kernel size of 0, a negative momentum). Each returns the value, normalized (pairs become tuples).
"""
from __future__ import annotations

import math
import numbers

__all__ = ["integer", "int_pair", "number", "probability"]


def _describe(value) -> str:
    return f"{type(value).__name__} {value!r}"


def integer(owner: str, name: str, value, minimum: int | None = None) -> int:
    """An int (numpy ints too, never a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {_describe(value)}")
    if minimum is not None and value < minimum:
        wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{owner}: {name} must be {wanted}, got {value}")
    return int(value)


def int_pair(owner: str, name: str, value, minimum: int | None = None, allow_none: bool = False) -> tuple:
    """An int or a pair of ints (each at least ``minimum``), as a pair; entries may be None if ``allow_none``."""
    parts = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(parts) != 2:
        raise ValueError(f"{owner}: {name} must be an int or a pair of ints, got {value!r}")
    return tuple(None if allow_none and part is None else integer(owner, name, part, minimum) for part in parts)


def number(owner: str, name: str, value, minimum: float | None = None, maximum: float | None = None,
           open_minimum: bool = False, open_maximum: bool = False) -> float:
    """A real number (not a bool, not NaN) within [minimum, maximum] (ends excluded when ``open_*``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {_describe(value)}")
    value = float(value) if not isinstance(value, numbers.Integral) else value
    too_low = minimum is not None and (value <= minimum if open_minimum else value < minimum)
    too_high = maximum is not None and (value >= maximum if open_maximum else value > maximum)
    if math.isnan(value) or too_low or too_high:
        low = "" if minimum is None else ("(" if open_minimum else "[") + f"{minimum}, "
        high = "" if maximum is None else f"{maximum}" + (")" if open_maximum else "]")
        if minimum is not None and maximum is None:
            wanted = f"> {minimum}" if open_minimum else f">= {minimum}"
        elif minimum is None and maximum is not None:
            wanted = f"< {maximum}" if open_maximum else f"<= {maximum}"
        else:
            wanted = f"in {low}{high}"
        raise ValueError(f"{owner}: invalid {name} {value!r}, it must be {wanted}")
    return value


def probability(owner: str, name: str, value) -> float:
    """A number in [0, 1]."""
    return number(owner, name, value, 0, 1)
