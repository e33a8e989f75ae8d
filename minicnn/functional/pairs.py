"""The (rows, columns) arguments of the 2-d ops (kernel_size, stride, padding, dilation): an int or a
pair of ints, checked where the op is called so the error names the op."""
from __future__ import annotations

import numbers


def int_pair(op: str, name: str, value, minimum: int | None = None) -> tuple:
    """``value`` (an int, or a sequence of one or two ints, as torch takes) as a pair of ints, each at
    least ``minimum`` when given: TypeError for anything else, ValueError for an int below ``minimum``."""
    # Every layer call passes its arguments through here: the common cases (an int, a pair of ints)
    # return before the general checks below.
    if type(value) is int:
        if minimum is None or value >= minimum:
            return value, value
    elif type(value) is tuple and len(value) == 2 and type(value[0]) is int and type(value[1]) is int:
        if minimum is None or (value[0] >= minimum and value[1] >= minimum):
            return value
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) == 1:
        pair = pair * 2
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if minimum is not None and any(v < minimum for v in pair):
        kind = "positive" if minimum == 1 else "non-negative" if minimum == 0 else f"at least {minimum}"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return int(pair[0]), int(pair[1])
