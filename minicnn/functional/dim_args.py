"""Dimension arguments as torch reads them: negative dims count from the end, out of range is an IndexError."""
from __future__ import annotations


def wrap_dim(dim, ndim: int, name: str) -> int:
    """``dim`` as a non-negative axis of a tensor with ``ndim`` dimensions (a 0-d tensor accepts 0 and -1)."""
    span = max(ndim, 1)
    if not isinstance(dim, int) or isinstance(dim, bool):
        if hasattr(dim, "__index__"):
            dim = dim.__index__()
        else:
            raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
    if not -span <= dim < span:
        raise IndexError(
            f"{name}: Dimension out of range (expected to be in range of [{-span}, {span - 1}], but got {dim})")
    return dim % span


def wrap_dims(dims, ndim: int, name: str) -> tuple:
    """None (every axis), an int or a sequence of ints as a sorted tuple of distinct non-negative axes."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int):
        dims = (dims,)
    axes = [wrap_dim(d, ndim, name) for d in dims]
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{name}: dim {tuple(dims)} appears multiple times in the list of dims")
    return tuple(sorted(axes)) if ndim else ()
