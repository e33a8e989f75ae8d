"""Reductions over axes: sum, mean, max, min.

The gradient of a reduction spreads the output gradient back over the axes that were reduced:
sum copies it, mean copies it divided by the count, max sends it to the positions that held the max.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor
from .dims import normalize_dim, normalize_dims


def normalize_axes(axis, ndim: int, name: str):
    """Axis argument (None, int, or tuple) as a sorted tuple of non-negative axes (torch's IndexError
    for one out of range)."""
    return normalize_dims(axis, ndim, name)


def _expand_to_input(grad, input_shape, axes, keepdims: bool):
    """Give ``grad`` back the reduced axes (size 1) so it broadcasts against the input."""
    if not keepdims:
        for a in axes:
            grad = backend.get_array_module(grad).expand_dims(grad, a)
    return grad


class Sum(Function):
    def forward(self, a, axes, keepdims):
        self.input_shape, self.axes, self.keepdims = a.shape, axes, keepdims
        return a.sum(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        # every input element contributes once to the sum: d sum / d a_i = 1
        xp = backend.get_array_module(grad)
        grad = _expand_to_input(grad, self.input_shape, self.axes, self.keepdims)
        return xp.broadcast_to(grad, self.input_shape)


class Mean(Function):
    def forward(self, a, axes, keepdims):
        self.input_shape, self.axes, self.keepdims = a.shape, axes, keepdims
        self.count = 1
        for ax in axes:
            self.count *= a.shape[ax]
        return a.mean(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        # d mean / d a_i = 1 / count
        xp = backend.get_array_module(grad)
        grad = _expand_to_input(grad, self.input_shape, self.axes, self.keepdims)
        return xp.broadcast_to(grad / self.count, self.input_shape)


class Extreme(Function):
    """max or min over axes. Ties share the gradient equally (as torch's amax/amin)."""

    def forward(self, a, axes, keepdims, largest):
        out = a.max(axis=axes, keepdims=True) if largest else a.min(axis=axes, keepdims=True)
        self.save_for_backward(a == out)
        self.axes, self.keepdims = axes, keepdims
        if not keepdims:
            xp = backend.get_array_module(a)
            return xp.squeeze(out, axis=axes)
        return out

    def backward(self, grad):
        (is_extreme,) = self.saved
        grad = _expand_to_input(grad, is_extreme.shape, self.axes, self.keepdims)
        ties = is_extreme.sum(axis=self.axes, keepdims=True)
        return grad * is_extreme / ties.astype(grad.dtype)


def sum(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch's name
    return Sum.apply(a, axes=normalize_axes(dim, a.ndim, "sum"), keepdims=keepdim)


def mean(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if a.dtype.kind != "f":
        raise TypeError(f"mean: expected a floating point tensor, got dtype {a.dtype}")
    return Mean.apply(a, axes=normalize_axes(dim, a.ndim, "mean"), keepdims=keepdim)


def amax(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if a.numel() == 0:
        raise ValueError("max: empty tensor has no maximum")
    return Extreme.apply(a, axes=normalize_axes(dim, a.ndim, "max"), keepdims=keepdim, largest=True)


def amin(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if a.numel() == 0:
        raise ValueError("min: empty tensor has no minimum")
    return Extreme.apply(a, axes=normalize_axes(dim, a.ndim, "min"), keepdims=keepdim, largest=False)


def argmax(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    dim = None if dim is None else normalize_dim(dim, a.ndim, "argmax")
    xp = backend.get_array_module(a.array)
    return Tensor(xp.argmax(a.array, axis=dim, keepdims=keepdim))


def argmin(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    dim = None if dim is None else normalize_dim(dim, a.ndim, "argmin")
    xp = backend.get_array_module(a.array)
    return Tensor(xp.argmin(a.array, axis=dim, keepdims=keepdim))
