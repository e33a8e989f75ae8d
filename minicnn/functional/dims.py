"""Checking the ``dim`` arguments of operations, with torch's errors.

A dim indexes the axes of a tensor of ``ndim`` dimensions: ``-ndim <= dim < ndim``, negative dims
counting from the end. A 0-d tensor accepts -1 and 0 (torch treats it as having one axis for this
check). Anything else raises torch's IndexError,
``"<op>: Dimension out of range (expected to be in range of [-2, 1], but got 5)"``; a dim that is not
an integer raises TypeError. Ops that insert an axis (unsqueeze, stack) check against ``ndim + 1``.
"""
from __future__ import annotations

import numbers

__all__ = ["normalize_dim", "normalize_dims"]


def normalize_dim(dim, ndim: int, op: str) -> int:
    """``dim`` as a non-negative axis of a tensor with ``ndim`` dimensions; raises IndexError naming ``op``."""
    if not isinstance(dim, (bool, numbers.Integral)) and hasattr(dim, "__index__"):
        dim = dim.__index__()  # a one-element integer tensor, as torch accepts
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    size = max(int(ndim), 1)
    dim = int(dim)
    if not -size <= dim < size:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-size}, {size - 1}], "
                         f"but got {dim})")
    return dim % size


def normalize_dims(dims, ndim: int, op: str) -> tuple:
    """A dim or a sequence of dims as a sorted tuple of distinct non-negative axes (None: all of them).

    A dim given twice raises RuntimeError, as torch ("dim 0 appears multiple times in the list of dims").
    """
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, (list, tuple)):
        axes = [normalize_dim(dim, ndim, op) for dim in dims]
    else:
        axes = [normalize_dim(dims, ndim, op)]
    if len(set(axes)) != len(axes):
        repeated = next(axis for axis in axes if axes.count(axis) > 1)
        raise RuntimeError(f"{op}: dim {repeated} appears multiple times in the list of dims {tuple(dims)}")
    if ndim == 0:
        return ()
    return tuple(sorted(axes))
