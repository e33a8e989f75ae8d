"""Operators and methods on Tensor, registered in one place.

``autograd.Tensor`` knows nothing about the operations (it sits below them); this module gives it
``+ - * / ** @``, indexing, reductions and shape methods by pointing them at the functional spellings.
"""
from __future__ import annotations


import numpy as np

from .. import backend
from ..autograd import Tensor
from . import elementwise, inplace, pointwise, reduce, reductions, shape, tensor_protocol, views


def _comparison(ufunc_name):
    def compare(self, other):
        if not isinstance(other, (Tensor, bool, int, float, complex, np.generic, np.ndarray)) \
                and not hasattr(other, "__array_namespace__") and not hasattr(other, "get"):
            return NotImplemented  # lets pytest.approx and other objects answer the comparison
        other_data = other.array if isinstance(other, Tensor) else other
        if isinstance(other, Tensor) and other.device != self.device:
            raise RuntimeError(
                f"{ufunc_name}: expected all tensors on one device, found {self.device} and {other.device}"
            )
        xp = backend.get_array_module(self.array)
        return Tensor(getattr(xp, ufunc_name)(self.array, other_data))

    compare.__name__ = ufunc_name
    return compare


def _reflected(function):
    return lambda self, other: function(other, self)


def _shape_args(args):
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _type(self, dtype) -> Tensor:
    """Cast to ``dtype``; the gradient is cast back to the original dtype."""
    from .cast import cast

    return cast(self, dtype)


def _activation(name):
    def method(self, *args, **kwargs):
        from .. import functional

        return getattr(functional, name)(self, *args, **kwargs)

    method.__name__ = name
    return method


def install() -> None:
    methods = {
        "__add__": elementwise.add,
        "__radd__": _reflected(elementwise.add),
        "__sub__": elementwise.sub,
        "__rsub__": _reflected(elementwise.sub),
        "__mul__": elementwise.mul,
        "__rmul__": _reflected(elementwise.mul),
        "__truediv__": elementwise.div,
        "__rtruediv__": _reflected(elementwise.div),
        "__pow__": elementwise.pow,
        "__rpow__": _reflected(elementwise.pow),
        "__matmul__": elementwise.matmul,
        "__rmatmul__": _reflected(elementwise.matmul),
        "__neg__": elementwise.neg,
        "__getitem__": shape.getitem,
        "__eq__": _comparison("equal"),
        "__ne__": _comparison("not_equal"),
        "__lt__": _comparison("less"),
        "__le__": _comparison("less_equal"),
        "__gt__": _comparison("greater"),
        "__ge__": _comparison("greater_equal"),
        "add": elementwise.add,
        "sub": elementwise.sub,
        "mul": elementwise.mul,
        "div": elementwise.div,
        "pow": elementwise.pow,
        "matmul": elementwise.matmul,
        "exp": elementwise.exp,
        "log": elementwise.log,
        "sqrt": elementwise.sqrt,
        "abs": elementwise.abs,
        "clip": elementwise.clip,
        "clamp": elementwise.clip,
        "sum": reduce.sum,
        "mean": reduce.mean,
        "max": reductions.max,
        "min": reductions.min,
        "maximum": reductions.maximum,
        "minimum": reductions.minimum,
        "sort": reductions.sort,
        "argsort": reductions.argsort,
        "topk": reductions.topk,
        "median": reductions.median,
        "mode": reductions.mode,
        "std": reductions.std,
        "var": reductions.var,
        "norm": reductions.norm,
        "prod": reductions.prod,
        "cumsum": reductions.cumsum,
        "all": reductions.all,
        "any": reductions.any,
        "sign": pointwise.sign,
        "sin": pointwise.sin,
        "cos": pointwise.cos,
        "eq": pointwise.eq,
        "ne": pointwise.ne,
        "lt": pointwise.lt,
        "le": pointwise.le,
        "gt": pointwise.gt,
        "ge": pointwise.ge,
        "isnan": pointwise.isnan,
        "isfinite": pointwise.isfinite,
        "isinf": pointwise.isinf,
        "equal": pointwise.equal,
        "allclose": pointwise.allclose,
        "logical_not": pointwise.logical_not,
        "logical_and": pointwise.logical_and,
        "logical_or": pointwise.logical_or,
        "__and__": pointwise.bitwise_and,
        "__or__": pointwise.bitwise_or,
        "__xor__": pointwise.bitwise_xor,
        "__invert__": pointwise.bitwise_not,
        "__floordiv__": pointwise.floor_divide,
        "__mod__": pointwise.remainder,
        "__abs__": elementwise.abs,
        "__pos__": lambda self: self,
        "neg": elementwise.neg,
        "mm": elementwise.matmul,
        "view_as": views.view_as,
        "expand": views.expand,
        "expand_as": views.expand_as,
        "repeat": views.repeat,
        "t": views.t,
        "unflatten": views.unflatten,
        "chunk": views.chunk,
        "split": views.split,
        "narrow": views.narrow,
        "contiguous": views.contiguous,
        "is_contiguous": views.is_contiguous,
        "clone": views.clone,
        "amax": reduce.amax,
        "amin": reduce.amin,
        "argmax": reductions.argmax,
        "argmin": reductions.argmin,
        "reshape": lambda self, *s: shape.reshape(self, *_shape_args(s)),
        "view": lambda self, *s: shape.reshape(self, *_shape_args(s)),
        "permute": lambda self, *axes: shape.permute(self, *_shape_args(axes)),
        "transpose": shape.transpose,
        "flatten": shape.flatten,
        "unsqueeze": views.unsqueeze,
        "squeeze": views.squeeze,
        "type": _type,
        "relu": _activation("relu"),
        "sigmoid": _activation("sigmoid"),
        "tanh": _activation("tanh"),
        "softmax": _activation("softmax"),
        "log_softmax": _activation("log_softmax"),
    }
    methods.update(tensor_protocol.METHODS)
    methods.update(inplace.METHODS)
    for name, function in methods.items():
        setattr(Tensor, name, function)
    Tensor.T = property(lambda self: shape.permute(self, *reversed(range(self.ndim))))
