"""Reductions that pick elements (max/min/sort/topk/median/mode along a dim, with their indices) and
the statistics torch offers as Tensor methods: std, var, norm, prod, cumsum, all, any.

The picking reductions share one differentiable step, ``TakeAlong``: values = a gathered at
``indices`` along an axis. Its gradient puts the output gradient back at those indices (each index
appears once per slice), zeros elsewhere.
"""
from __future__ import annotations

import numpy as np

from .. import backend, return_types
from ..autograd import Function, Tensor
from . import elementwise, reduce
from .dims import normalize_dim, normalize_dims


class TakeAlong(Function):
    def forward(self, a, indices, axis):
        xp = backend.get_array_module(a)
        self.input_shape, self.indices, self.axis = a.shape, indices, axis
        return xp.take_along_axis(a, indices, axis=axis)

    def backward(self, grad):
        # out[..., j, ...] = a[..., indices[j], ...]: the gradient lands back where each value came from
        xp = backend.get_array_module(grad)
        full = xp.zeros(self.input_shape, dtype=grad.dtype)
        xp.put_along_axis(full, self.indices, grad, axis=self.axis)
        return full, None


def _along(axis: int, index: slice) -> tuple:
    """An index selecting ``index`` along ``axis`` and everything along the other axes."""
    return (slice(None),) * axis + (index,)


def _xp(a: Tensor):
    return backend.get_array_module(a.array)


def _take(a: Tensor, indices, axis: int, keepdim: bool, kind):
    """The (values, indices) pair for ``indices`` (keepdims form) along ``axis``."""
    xp = _xp(a)
    indices = indices.astype(np.int64)
    values = TakeAlong.apply(a, Tensor._wrap(indices), axis=axis)
    if not keepdim:
        values = values.squeeze(axis)
        indices = xp.squeeze(indices, axis=axis)
    return kind(values, Tensor._wrap(indices))


def _needs_elements(a: Tensor, name: str, axis=None) -> None:
    if a.numel() == 0 or (axis is not None and a.ndim and a.shape[axis] == 0):
        raise IndexError(f"{name}(): Expected reduction dim to have non-zero size, got a tensor of shape {tuple(a.shape)}")


class Maximum(Function):
    def forward(self, a, b, largest):
        xp = backend.get_array_module(a)
        self.shapes = (a.shape, b.shape)
        # ties split the gradient in half, as torch's maximum/minimum
        self.a_share = xp.where(a == b, 0.5, xp.where((a > b) if largest else (a < b), 1.0, 0.0))
        return xp.maximum(a, b) if largest else xp.minimum(a, b)

    def backward(self, grad):
        share = self.a_share.astype(grad.dtype)
        return (elementwise.unbroadcast(grad * share, self.shapes[0]),
                elementwise.unbroadcast(grad * (1 - share), self.shapes[1]))


def _extreme(a: Tensor, dim, keepdim: bool, largest: bool):
    name = "max" if largest else "min"
    if isinstance(dim, Tensor):  # max(input, other): elementwise
        return Maximum.apply(*elementwise._binary_operands(a, dim), largest=largest)
    if dim is None:
        return reduce.amax(a) if largest else reduce.amin(a)
    axis = normalize_dim(dim, a.ndim, name)
    _needs_elements(a, name, axis)
    if a.ndim == 0:
        return getattr(return_types, name)(a.clone(), Tensor._wrap(_xp(a).zeros((), dtype=np.int64)))
    arg = _xp(a).argmax if largest else _xp(a).argmin
    return _take(a, arg(a.array, axis=axis, keepdims=True), axis, keepdim, getattr(return_types, name))


def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001 - torch's name
    """``max(x)`` the largest element (0-d); ``max(x, dim)`` the pair (values, indices) along dim;
    ``max(x, other)`` the elementwise maximum."""
    return _extreme(input, dim, keepdim, largest=True)


def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001 - torch's name
    return _extreme(input, dim, keepdim, largest=False)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return Maximum.apply(*elementwise._binary_operands(input, other), largest=True)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return Maximum.apply(*elementwise._binary_operands(input, other), largest=False)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element: of the flattened tensor (0-d int64) when ``dim`` is None."""
    return _arg(input, dim, keepdim, "argmax")


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg(input, dim, keepdim, "argmin")


def _arg(a: Tensor, dim, keepdim: bool, name: str) -> Tensor:
    xp = _xp(a)
    if dim is None:
        _needs_elements(a, name)
        flat = getattr(xp, name)(a.array.reshape(-1))
        out = xp.asarray(flat, dtype=np.int64)
        return Tensor._wrap(out.reshape((1,) * a.ndim) if keepdim else out.reshape(()))
    axis = normalize_dim(dim, a.ndim, name)
    _needs_elements(a, name, axis)
    if a.ndim == 0:
        return Tensor._wrap(xp.zeros((), dtype=np.int64))
    return Tensor._wrap(getattr(xp, name)(a.array, axis=axis, keepdims=keepdim).astype(np.int64))


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) sorted along ``dim``; equal values keep their order."""
    a = input
    if a.ndim == 0:
        return return_types.sort(a.clone(), Tensor._wrap(_xp(a).zeros((), dtype=np.int64)))
    axis = normalize_dim(dim, a.ndim, "sort")
    order = _argsort(a, axis, descending)
    return _take(a, order, axis, True, return_types.sort)


def _argsort(a: Tensor, axis: int, descending: bool):
    xp = _xp(a)
    keys = a.array
    if descending:
        # flipping, sorting stably and mapping back keeps equal values in their original order
        flipped = xp.flip(keys, axis=axis)
        order = xp.argsort(flipped, axis=axis, kind="stable")
        order = (keys.shape[axis] - 1) - xp.flip(order, axis=axis)
        return order
    return xp.argsort(keys, axis=axis, kind="stable")


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(input, dim, descending).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, largest first."""
    a = input
    axis = normalize_dim(dim, a.ndim, "topk")
    size = a.shape[axis] if a.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk(): selected index k={k} out of range for a dimension of size {size}")
    if a.ndim == 0:
        return return_types.topk(a.clone(), Tensor._wrap(_xp(a).zeros((), dtype=np.int64)))
    order = _argsort(a, axis, descending=largest)
    picked = order[_along(axis, slice(0, k))]
    return _take(a, picked, axis, True, return_types.topk)


def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median (torch's: the smaller middle element for an even count). Without ``dim``, a
    0-d tensor over all elements; with ``dim``, (values, indices)."""
    a = input
    if dim is None:
        _needs_elements(a, "median")
        flat = a.reshape(-1)
        order = _argsort(flat, 0, False)
        middle = order[(flat.numel() - 1) // 2: (flat.numel() - 1) // 2 + 1]
        return _take(flat, middle, 0, False, return_types.median).values
    axis = normalize_dim(dim, a.ndim, "median")
    _needs_elements(a, "median", axis)
    if a.ndim == 0:
        return return_types.median(a.clone(), Tensor._wrap(_xp(a).zeros((), dtype=np.int64)))
    order = _argsort(a, axis, False)
    middle = (a.shape[axis] - 1) // 2
    picked = order[_along(axis, slice(middle, middle + 1))]
    return _take(a, picked, axis, keepdim, return_types.median)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest on a tie) and the index of its last occurrence."""
    a = input
    if a.ndim == 0:
        return return_types.mode(a.clone(), Tensor._wrap(_xp(a).zeros((), dtype=np.int64)))
    axis = normalize_dim(dim, a.ndim, "mode")
    _needs_elements(a, "mode", axis)
    rows = np.moveaxis(backend.to_host(a.array), axis, -1)
    flat = rows.reshape(-1, rows.shape[-1])
    picked = np.empty(len(flat), dtype=np.int64)
    for r, row in enumerate(flat):
        values, counts = np.unique(row, return_counts=True)
        winner = values[np.argmax(counts)]  # np.unique sorts, argmax takes the first: the smallest
        picked[r] = len(row) - 1 - int(np.argmax(row[::-1] == winner))
    picked = np.moveaxis(picked.reshape(rows.shape[:-1] + (1,)), -1, axis)
    return _take(a, backend.to_device(picked, backend.device_of(a.array)), axis, keepdim, return_types.mode)


# ----------------------------------------------------------------------------------------------
# statistics
# ----------------------------------------------------------------------------------------------

class Var(Function):
    def forward(self, a, axes, correction, keepdims):
        xp = backend.get_array_module(a)
        count = int(np.prod([a.shape[ax] for ax in axes])) if axes else 1
        self.centered = a - a.mean(axis=axes, keepdims=True)
        self.divisor = count - correction
        self.axes, self.keepdims = axes, keepdims
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.asarray((self.centered ** 2).sum(axis=axes, keepdims=keepdims) / self.divisor, dtype=a.dtype)

    def backward(self, grad):
        # var = sum((a - mean)^2) / (N - correction):  d var / d a_i = 2 (a_i - mean) / (N - correction)
        # (the mean's own dependence on a_i drops out because the centred values sum to zero)
        if not self.keepdims:
            for ax in self.axes:
                grad = backend.get_array_module(grad).expand_dims(grad, ax)
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad * (2 / self.divisor) * self.centered


def _correction(unbiased, correction, name: str):
    if correction is not None and unbiased is not None:
        raise RuntimeError(f"{name}(): pass only one of unbiased and correction")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _variance_args(dim, unbiased, keepdim, correction, name):
    if isinstance(dim, bool):  # var(unbiased)
        dim, unbiased = None, dim
    return dim, _correction(unbiased, correction, name), keepdim


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim`` (all elements when None), dividing by N - correction (1: unbiased)."""
    dim, correction, keepdim = _variance_args(dim, unbiased, keepdim, correction, "var")
    if input.dtype.kind != "f":
        raise RuntimeError(f"var(): expected a floating point tensor, got dtype {input.dtype}")
    return Var.apply(input, axes=normalize_dims(dim, input.ndim, "var"), correction=correction, keepdims=keepdim)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation: the square root of ``var`` with the same arguments."""
    return elementwise.sqrt(var(input, dim, unbiased, keepdim, correction=correction))


class Norm(Function):
    def forward(self, a, p, axes, keepdims):
        xp = backend.get_array_module(a)
        self.axes, self.keepdims, self.p = axes, keepdims, p
        magnitude = xp.abs(a)
        if p == np.inf:
            out = magnitude.max(axis=axes, keepdims=True)
            self.mask = magnitude == out
        else:
            out = (magnitude ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        self.save_for_backward(a, out)
        return out if keepdims else xp.squeeze(out, axis=axes)

    def backward(self, grad):
        # ||a||_p = (sum |a_i|^p)^(1/p):  d/da_i = sign(a_i) |a_i|^(p-1) / ||a||_p^(p-1)   (0 where the norm is 0)
        # inf-norm: the gradient goes to the elements of largest magnitude, shared between ties
        a, out = self.saved
        xp = backend.get_array_module(a)
        if not self.keepdims:
            for ax in self.axes:
                grad = xp.expand_dims(grad, ax)
        if self.p == np.inf:
            return grad * xp.sign(a) * self.mask / self.mask.sum(axis=self.axes, keepdims=True)
        safe = xp.where(out == 0, 1, out)
        if self.p == 2:
            local = a / safe
        else:
            local = xp.sign(a) * xp.abs(a) ** (self.p - 1) / safe ** (self.p - 1)
        return grad * xp.where(out == 0, 0, local)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The p-norm over ``dim`` (all elements when None): p a positive number, ``inf`` or 'fro' (= 2)."""
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind != "f":
        raise RuntimeError(f"norm(): expected a floating point tensor, got dtype {input.dtype}")
    p = 2.0 if p in ("fro", None) else p
    if isinstance(p, str) or not p > 0:
        raise NotImplementedError(f"norm(): p={p!r} is not supported (a positive number, inf or 'fro')")
    return Norm.apply(input, p=float(p), axes=normalize_dims(dim, input.ndim, "norm"), keepdims=keepdim)


class Prod(Function):
    def forward(self, a, axis, keepdims):
        xp = backend.get_array_module(a)
        self.axis, self.keepdims = axis, keepdims
        self.save_for_backward(a)
        return xp.prod(a, axis=axis, keepdims=keepdims)

    def backward(self, grad):
        # d prod / d a_i = product of every other element: (products before i) * (products after i),
        # computed with exclusive cumulative products, so zeros in a need no division
        (a,) = self.saved
        xp = backend.get_array_module(a)
        if not self.keepdims:
            grad = xp.expand_dims(grad, self.axis)
        all_but_last = _along(self.axis, slice(0, a.shape[self.axis] - 1))
        ones = xp.ones_like(a[_along(self.axis, slice(0, 1))])
        before = xp.cumprod(xp.concatenate([ones, a[all_but_last]], axis=self.axis), axis=self.axis)
        flipped = xp.flip(a, axis=self.axis)
        after = xp.cumprod(xp.concatenate([ones, flipped[all_but_last]], axis=self.axis), axis=self.axis)
        return grad * before * xp.flip(after, axis=self.axis)


def prod(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Product of all elements (0-d) or along one ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        flat = input.reshape(-1)
        return Prod.apply(flat, axis=0, keepdims=False)
    if input.ndim == 0:
        return input.clone()
    return Prod.apply(input, axis=normalize_dim(dim, input.ndim, "prod"), keepdims=keepdim)


class CumSum(Function):
    def forward(self, a, axis, dtype):
        xp = backend.get_array_module(a)
        self.axis = axis
        return xp.cumsum(a, axis=axis, dtype=dtype)

    def backward(self, grad):
        # out_j = sum_{i<=j} a_i:  d loss / d a_i = sum_{j>=i} grad_j, a cumulative sum from the end
        xp = backend.get_array_module(grad)
        return xp.flip(xp.cumsum(xp.flip(grad, axis=self.axis), axis=self.axis), axis=self.axis)


def cumsum(input: Tensor, dim: int, dtype=None) -> Tensor:
    """Running sums along ``dim``; integer and bool input sum as int64 (as torch)."""
    if dtype is None and input.dtype.kind in "biu":
        dtype = np.int64
    if input.ndim == 0:
        return input.clone() if dtype is None else input.to(dtype)
    return CumSum.apply(input, axis=normalize_dim(dim, input.ndim, "cumsum"), dtype=dtype)


def _logical(name: str):
    def reduction(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
        xp = _xp(input)
        axes = normalize_dims(dim, input.ndim, name)
        return Tensor._wrap(xp.asarray(getattr(xp, name)(input.array, axis=axes, keepdims=keepdim)))

    reduction.__name__ = name
    reduction.__doc__ = f"Whether {'every' if name == 'all' else 'any'} element (along ``dim``) is nonzero, as a bool tensor."
    return reduction


all = _logical("all")  # noqa: A001 - torch's names
any = _logical("any")  # noqa: A001
