"""``pad`` with every mode of torch's ``F.pad``: constant, reflect, replicate and circular.

The non-constant modes read each output position from one input position per padded axis, so each
is a gather along that axis: ``out[..., o] = x[..., src[o]]`` with

    reflect:   src = reflection of o about the first and last element (the edge itself not repeated)
    replicate: src = clamp(o, 0, n - 1)
    circular:  src = o mod n

Backward scatters the gradient back: ``dx[..., i] = sum over o with src[o] = i of g[..., o]``, done as
a product with the (out, in) 0/1 matrix of the gather, which works the same on every backend.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from .shape import Pad

__all__ = ["pad"]


def _source_indices(size: int, before: int, after: int, mode: str) -> np.ndarray:
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    period = 2 * (size - 1)  # reflect
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded >= size, period - folded, folded)


class IndexPad(Function):
    def forward(self, a, pad, mode):
        xp = backend.get_array_module(a)
        self.gathers = []  # (axis, source indices) per padded axis
        out = a
        for i in range(len(pad) // 2):
            axis = a.ndim - 1 - i
            source = _source_indices(a.shape[axis], pad[2 * i], pad[2 * i + 1], mode)
            self.gathers.append((axis, source, a.shape[axis]))
            out = xp.take(out, backend.to_device(source, backend.device_of(a)), axis=axis)
        return out

    def backward(self, grad):
        xp = backend.get_array_module(grad)
        for axis, source, size in reversed(self.gathers):
            scatter = np.zeros((len(source), size), dtype=grad.dtype)
            scatter[np.arange(len(source)), source] = 1
            scatter = backend.to_device(scatter, backend.device_of(grad))
            grad = xp.moveaxis(xp.tensordot(grad, scatter, axes=([axis], [0])), -1, axis)
        return xp.ascontiguousarray(grad)


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions, torch's order: (left, right, top, bottom, front, back).

    ``mode``: "constant" (fill with ``value``, default 0), "reflect", "replicate" or "circular".
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: expected a Tensor, got {type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be divisible by 2 and at most 2 * {input.ndim}, got {pad}")
    if mode == "constant":
        return Pad.apply(input, pad=pad, value=0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}; use constant, reflect, replicate or "
                                  "circular")
    if value is not None and value != 0:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    if len(pad) // 2 > input.ndim - 1:
        raise NotImplementedError(f"pad: {mode} padding of {len(pad) // 2} dimensions needs a batch or channel "
                                  f"dimension in front, got shape {input.shape}")
    for i in range(len(pad) // 2):
        size = input.shape[input.ndim - 1 - i]
        before, after = pad[2 * i], pad[2 * i + 1]
        if min(before, after) < 0:
            raise ValueError(f"pad: negative padding {pad} is only supported with mode='constant'")
        if mode == "reflect" and max(before, after) >= size:
            raise RuntimeError(f"pad: padding size should be less than the corresponding input dimension, "
                               f"but got padding ({before}, {after}) at dimension {input.ndim - 1 - i} of input "
                               f"{input.shape}")
        if mode == "circular" and max(before, after) > size:
            raise ValueError(f"pad: padding value causes wrapping around more than once: ({before}, {after}) "
                             f"for size {size}")
    return IndexPad.apply(input, pad=pad, mode=mode)
