"""The functions of torch's top-level namespace that mirror Tensor methods: ``minicnn.max(x, 1)``,
``minicnn.sum``, ``minicnn.eq``, ``minicnn.add(a, b, out=c)``, ... plus ``is_tensor`` and ``numel``.

Each takes the tensor first and forwards to the functional implementation the method uses. Those
that torch gives an ``out=`` argument accept it here too: the result is written into ``out`` (which is
resized when its shape differs), outside the graph, as torch refuses ``out=`` under autograd.
"""
from __future__ import annotations

import functools

from .autograd import Tensor, is_grad_enabled
from .functional import cast, elementwise, loss, pointwise, reduce, reductions, shape, views


def _with_out(function):
    @functools.wraps(function)
    def wrapper(*args, out=None, **kwargs):
        result = function(*args, **kwargs)
        if out is None:
            return result
        if is_grad_enabled() and (result.requires_grad or out.requires_grad):
            raise RuntimeError(f"{function.__name__}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires grad.")
        if tuple(out.shape) != tuple(result.shape):
            out.array = result.array.astype(out.dtype)  # torch resizes out to the result's shape
        else:
            out.array[...] = result.array
        out._version_counter.value += 1
        return out

    return wrapper


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def add(input, other, *, alpha=1):
    return elementwise.add(input, other if alpha == 1 else elementwise.mul(other, alpha) if isinstance(other, Tensor)
                           else other * alpha)


def sub(input, other, *, alpha=1):
    return elementwise.sub(input, other if alpha == 1 else elementwise.mul(other, alpha) if isinstance(other, Tensor)
                           else other * alpha)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A001 - torch's name
    if dtype is not None:
        input = cast.cast(input, dtype)
    return reduce.sum(input, dim, keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None):
    if dtype is not None:
        input = cast.cast(input, dtype)
    return reduce.mean(input, dim, keepdim)


def softmax(input: Tensor, dim: int, dtype=None):
    return loss.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, dtype=None):
    return loss.log_softmax(input, dim, dtype=dtype)


def transpose(input: Tensor, dim0: int, dim1: int):
    return shape.transpose(input, dim0, dim1)


def permute(input: Tensor, dims):
    return shape.permute(input, *dims)


def reshape(input: Tensor, shape_):
    return shape.reshape(input, shape_)


def clamp(input: Tensor, min=None, max=None):  # noqa: A002 - torch's names
    return elementwise.clip(input, min, max)


_OUT_FUNCTIONS = {
    "add": add, "sub": sub, "mul": elementwise.mul, "div": elementwise.div, "matmul": elementwise.matmul,
    "mm": elementwise.matmul, "pow": elementwise.pow, "exp": elementwise.exp, "log": elementwise.log,
    "sqrt": elementwise.sqrt, "abs": elementwise.abs, "neg": elementwise.neg, "sign": pointwise.sign,
    "sin": pointwise.sin, "cos": pointwise.cos, "clamp": clamp, "clip": clamp, "sum": sum, "mean": mean,
    "prod": reductions.prod, "cumsum": reductions.cumsum, "eq": pointwise.eq, "ne": pointwise.ne,
    "lt": pointwise.lt, "le": pointwise.le, "gt": pointwise.gt, "ge": pointwise.ge,
    "maximum": reductions.maximum, "minimum": reductions.minimum, "argmax": reductions.argmax,
    "argmin": reductions.argmin, "std": reductions.std, "var": reductions.var, "norm": reductions.norm,
    "all": reductions.all, "any": reductions.any,
}
FUNCTIONS = {name: _with_out(function) for name, function in _OUT_FUNCTIONS.items()}
FUNCTIONS.update({
    "max": reductions.max, "min": reductions.min, "sort": reductions.sort, "argsort": reductions.argsort,
    "topk": reductions.topk, "median": reductions.median, "mode": reductions.mode,
    "isnan": pointwise.isnan, "isfinite": pointwise.isfinite, "isinf": pointwise.isinf,
    "equal": pointwise.equal, "allclose": pointwise.allclose, "isclose": pointwise.isclose,
    "logical_and": pointwise.logical_and, "logical_or": pointwise.logical_or, "logical_not": pointwise.logical_not,
    "softmax": softmax, "log_softmax": log_softmax, "squeeze": views.squeeze, "unsqueeze": views.unsqueeze,
    "flatten": shape.flatten, "reshape": reshape, "transpose": transpose, "permute": permute, "t": views.t,
    "chunk": views.chunk, "split": views.split, "narrow": views.narrow, "clone": views.clone,
    "is_tensor": is_tensor, "numel": numel,
})
