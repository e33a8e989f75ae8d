"""More shape operations, as torch's Tensor methods: expand, repeat, t, unflatten, chunk, split,
view_as, contiguous, clone, and squeeze over several dims.

expand broadcasts without copying (its gradient sums over the broadcast axes); repeat tiles (its
gradient sums the tiles); chunk and split are slices, so their gradients come through indexing.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from . import shape
from .dims import normalize_dim, normalize_dims
from .elementwise import unbroadcast


def _sizes(args) -> tuple:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


class Expand(Function):
    output_may_be_view = True

    def forward(self, a, shape):
        self.input_shape = a.shape
        return backend.get_array_module(a).broadcast_to(a, shape)

    def backward(self, grad):
        # each input element is read by every position it was broadcast to: sum them
        return unbroadcast(grad, self.input_shape).reshape(self.input_shape)


def expand(input: Tensor, *sizes) -> Tensor:
    """A broadcast view of ``input`` at ``sizes`` (-1 keeps a dimension); new dims go in front."""
    sizes = _sizes(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({input.ndim})")
    lead = len(sizes) - input.ndim
    target = []
    for i, size in enumerate(sizes):
        own = input.shape[i - lead] if i >= lead else None
        if size == -1:
            if own is None:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension {i}")
            size = own
        if own is not None and own != size and own != 1:
            raise RuntimeError(f"expand: the expanded size of the tensor ({size}) must match the existing size "
                               f"({own}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. "
                               f"Tensor sizes: {list(input.shape)}")
        target.append(size)
    return Expand.apply(input, shape=tuple(target))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, tuple(other.shape))


class Repeat(Function):
    def forward(self, a, repeats):
        self.input_shape = (1,) * (len(repeats) - a.ndim) + tuple(a.shape)
        self.original_shape, self.repeats = a.shape, repeats
        return backend.get_array_module(a).tile(a.reshape(self.input_shape), repeats)

    def backward(self, grad):
        # out is ``repeats`` copies of a side by side: split each axis into (copies, size) and sum the copies
        split = []
        for copies, size in zip(self.repeats, self.input_shape):
            split += [copies, size]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(self.original_shape)


def repeat(input: Tensor, *repeats) -> Tensor:
    """Tile ``input``: ``repeats[i]`` copies along dim i (torch's repeat, numpy's tile)."""
    repeats = _sizes(repeats)
    if len(repeats) < input.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(repeats)}) can not be smaller than the "
                           f"number of dimensions of the tensor ({input.ndim})")
    return Repeat.apply(input, repeats=repeats)


def t(input: Tensor) -> Tensor:
    """Transpose a 2-D tensor; 0-d and 1-d tensors come back as they are."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return input if input.ndim < 2 else shape.transpose(input, 0, 1)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return shape.reshape(input, tuple(other.shape))


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one of them may be -1)."""
    axis = normalize_dim(dim, input.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1 or (-1 not in sizes and known != input.shape[axis]) or (
            -1 in sizes and (known == 0 or input.shape[axis] % known)):
        raise RuntimeError(f"unflatten: provided sizes {list(sizes)} don't multiply up to the size of dim "
                           f"{dim} ({input.shape[axis]}) in the input tensor")
    if -1 in sizes:
        sizes = tuple(input.shape[axis] // known if s == -1 else s for s in sizes)
    return shape.reshape(input, tuple(input.shape[:axis]) + sizes + tuple(input.shape[axis + 1:]))


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1: all of them, one ``dim``, or a tuple of dims (others stay)."""
    if dim is None:
        return shape.reshape(input, tuple(s for s in input.shape if s != 1))
    axes = normalize_dims(dim, input.ndim, "squeeze")
    if input.ndim == 0:
        return input.view(())
    kept = tuple(s for i, s in enumerate(input.shape) if not (i in axes and s == 1))
    return shape.reshape(input, kept)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (-1 appends)."""
    axis = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    return shape.reshape(input, tuple(input.shape[:axis]) + (1,) + tuple(input.shape[axis:]))


def _slices_along(input: Tensor, axis: int, boundaries) -> tuple:
    pieces = []
    for start, stop in zip(boundaries[:-1], boundaries[1:]):
        index = (slice(None),) * axis + (slice(start, stop),)
        pieces.append(shape.getitem(input, index))
    return tuple(pieces)


def split(input: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes."""
    axis = normalize_dim(dim, input.ndim, "split")
    length = input.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and not (step == 0 and length == 0):
            raise RuntimeError(f"split: split_size can only be 0 if dimension size is 0, but got {step}")
        boundaries = list(range(0, length, step)) + [length] if length else [0, 0]
    else:
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != length:
            raise RuntimeError(f"split: split_with_sizes expects split_sizes to sum exactly to {length} "
                               f"(input tensor's size at dimension {dim}), but got split_sizes={sections}")
        boundaries = [0] + np.cumsum(sections).tolist()
    return _slices_along(input, axis, boundaries)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most ``chunks`` pieces of equal size ceil(n / chunks) along ``dim`` (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    axis = normalize_dim(dim, input.ndim, "chunk")
    step = max(1, math.ceil(input.shape[axis] / chunks))
    return split(input, step, axis)


class Clone(Function):
    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return grad


def clone(input: Tensor, memory_format=None) -> Tensor:
    """A copy of the values in new memory, still in the graph (the gradient passes through)."""
    return Clone.apply(input)


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """``input`` itself when its memory is C-ordered, else a C-ordered copy (in the graph)."""
    if input.array.flags.c_contiguous:
        return input
    return Clone.apply(input)


def is_contiguous(input: Tensor, memory_format=None) -> bool:
    return bool(input.array.flags.c_contiguous)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    axis = normalize_dim(dim, input.ndim, "narrow")
    return shape.getitem(input, (slice(None),) * axis + (slice(start, start + length),))
