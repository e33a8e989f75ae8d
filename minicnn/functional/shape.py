"""Shape operations: reshape, permute, indexing, concatenation, padding.

None of these change values, they only move them, so each gradient moves the output gradient back:
reshape reshapes it back, permute applies the inverse permutation, indexing scatters it into zeros,
cat slices it apart.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from .dims import normalize_dim


class Reshape(Function):
    output_may_be_view = True

    def forward(self, a, shape):
        self.input_shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.input_shape)


class Permute(Function):
    output_may_be_view = True

    def forward(self, a, axes):
        self.inverse = tuple(np.argsort(axes))
        return a.transpose(axes)

    def backward(self, grad):
        return grad.transpose(self.inverse)


class GetItem(Function):
    output_may_be_view = True

    def forward(self, a, index):
        self.input_shape, self.input_dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, grad):
        # out = a[index]: the gradient lands where the values came from; repeated (fancy) indices add up
        xp = backend.get_array_module(grad)
        full = xp.zeros(self.input_shape, dtype=self.input_dtype)
        if _is_basic_index(self.index):
            full[self.index] = grad
        else:
            backend.scatter_add(full, self.index, grad)
        return full


def _is_basic_index(index) -> bool:
    """Slices, ints, None and Ellipsis never repeat a position, so plain assignment is enough."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice, type(None), type(Ellipsis))) for p in parts)


class Cat(Function):
    def forward(self, *arrays, axis):
        xp = backend.get_array_module(arrays[0])
        self.axis = axis
        self.boundaries = np.cumsum([a.shape[axis] for a in arrays])[:-1].tolist()
        return xp.concatenate(arrays, axis=axis)

    def backward(self, grad):
        xp = backend.get_array_module(grad)
        return tuple(xp.split(grad, self.boundaries, axis=self.axis))


class Pad(Function):
    """Constant padding of the last dimensions, torch's ``F.pad`` order: (left, right, top, bottom, ...)."""

    def forward(self, a, pad, value):
        xp = backend.get_array_module(a)
        widths = [(0, 0)] * a.ndim
        for i in range(len(pad) // 2):
            widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        self.crop = tuple(slice(before, before + size) for (before, _), size in zip(widths, a.shape))
        return xp.pad(a, widths, mode="constant", constant_values=value)

    def backward(self, grad):
        return grad[self.crop]


def _unwrap_index(index):
    """Tensors inside an index become their arrays."""
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, tuple):
        return tuple(i.array if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _move_index_to(index, device):
    if device == "cpu":
        return index
    parts = index if isinstance(index, tuple) else (index,)
    moved = tuple(backend.to_device(p, device) if isinstance(p, np.ndarray) else p for p in parts)
    return moved if isinstance(index, tuple) else moved[0]


def reshape(a: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    known = [s for s in shape if s != -1]
    total = int(np.prod(known)) if known else 1
    if shape.count(-1) > 1 or (-1 not in shape and total != a.numel()) or (
        -1 in shape and (total == 0 or a.numel() % total)
    ):
        raise RuntimeError(f"reshape: cannot reshape a tensor of shape {a.shape} ({a.numel()} elements) to {shape}")
    return Reshape.apply(a, shape=tuple(shape))


view = reshape


def permute(a: Tensor, *axes) -> Tensor:
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if len(axes) != a.ndim:
        raise RuntimeError(f"permute: number of dims in {axes} does not match the {a.ndim} dims of shape {a.shape}")
    normalized = tuple(normalize_dim(ax, a.ndim, "permute") for ax in axes) if a.ndim else ()
    if sorted(normalized) != list(range(a.ndim)):
        raise RuntimeError(f"permute: duplicate dims are not allowed in {axes} (shape {a.shape})")
    return Permute.apply(a, axes=normalized)


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    dim0, dim1 = normalize_dim(dim0, a.ndim, "transpose"), normalize_dim(dim1, a.ndim, "transpose")
    if a.ndim == 0:
        return reshape(a, ())
    axes = list(range(a.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return Permute.apply(a, axes=tuple(axes))


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    start, end = normalize_dim(start_dim, a.ndim, "flatten"), normalize_dim(end_dim, a.ndim, "flatten")
    if a.ndim == 0:
        return reshape(a, (1,))
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} cannot come after end_dim {end_dim} (shape {a.shape})")
    merged = int(np.prod(a.shape[start : end + 1]))
    return reshape(a, a.shape[:start] + (merged,) + a.shape[end + 1 :])


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    dim = normalize_dim(dim, a.ndim + 1, "unsqueeze")
    return reshape(a, a.shape[:dim] + (1,) + a.shape[dim:])


def squeeze(a: Tensor, dim=None) -> Tensor:
    if dim is None:
        return reshape(a, tuple(s for s in a.shape if s != 1))
    dim = normalize_dim(dim, a.ndim, "squeeze")
    if a.ndim == 0 or a.shape[dim] != 1:
        return a
    return reshape(a, a.shape[:dim] + a.shape[dim + 1 :])


def getitem(a: Tensor, index) -> Tensor:
    index = _move_index_to(_unwrap_index(index), a.device)
    return GetItem.apply(a, index=index)


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"cat: expected a sequence of Tensors, but element {i} is {type(t).__name__}")
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated")
    axis = normalize_dim(dim, first.ndim, "cat")
    for i, t in enumerate(tensors[1:], start=1):
        if t.ndim != first.ndim or any(
            s != f for k, (s, f) in enumerate(zip(t.shape, first.shape)) if k != axis
        ):
            raise RuntimeError(
                f"cat: tensor {i} has shape {t.shape}, which does not match tensor 0's shape {first.shape} "
                f"outside dimension {dim}"
            )
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack tensors of equal shape along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"stack: expected a sequence of Tensors, but element {i} is {type(t).__name__}")
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got {tensors[0].shape} at entry 0 "
                               f"and {t.shape} at entry {i}")
    dim = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, dim) for t in tensors], dim=dim)


def pad(a: Tensor, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > a.ndim:
        raise ValueError(f"pad: padding {pad} must have an even length of at most 2*{a.ndim}")
    return Pad.apply(a, pad=tuple(int(p) for p in pad), value=value)
