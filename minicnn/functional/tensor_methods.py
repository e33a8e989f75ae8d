"""Operators and methods on Tensor, registered in one place.

``autograd.Tensor`` knows nothing about the operations (it sits below them); this module gives it
``+ - * / ** @``, indexing, reductions and shape methods by pointing them at the functional spellings.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Tensor
from . import elementwise, reduce, shape


def _comparison(ufunc_name):
    def compare(self, other):
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


def _max(self, dim=None, keepdim=False):
    return reduce.amax(self, dim, keepdim)


def _min(self, dim=None, keepdim=False):
    return reduce.amin(self, dim, keepdim)


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


def _copy_(self, source) -> Tensor:
    """In-place copy of values (no graph): used by initializers and load_state_dict."""
    source_data = source.array if isinstance(source, Tensor) else source
    xp = backend.get_array_module(self.array)
    if backend.device_of(source_data) != self.device:
        source_data = backend.to_device(source_data, self.device)
    self.array[...] = xp.asarray(source_data, dtype=self.dtype).reshape(self.shape)
    return self


def _fill_(self, value) -> Tensor:
    self.array[...] = value
    return self


def _zero_(self) -> Tensor:
    self.array[...] = 0
    return self


def _clone(self) -> Tensor:
    return elementwise.mul(self, 1)


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
        "max": _max,
        "min": _min,
        "amax": reduce.amax,
        "amin": reduce.amin,
        "argmax": reduce.argmax,
        "argmin": reduce.argmin,
        "reshape": lambda self, *s: shape.reshape(self, *_shape_args(s)),
        "view": lambda self, *s: shape.reshape(self, *_shape_args(s)),
        "permute": lambda self, *axes: shape.permute(self, *_shape_args(axes)),
        "transpose": shape.transpose,
        "flatten": shape.flatten,
        "unsqueeze": shape.unsqueeze,
        "squeeze": shape.squeeze,
        "type": _type,
        "float": lambda self: _type(self, np.float32),
        "double": lambda self: _type(self, np.float64),
        "long": lambda self: _type(self, np.int64),
        "relu": _activation("relu"),
        "sigmoid": _activation("sigmoid"),
        "tanh": _activation("tanh"),
        "softmax": _activation("softmax"),
        "log_softmax": _activation("log_softmax"),
        "copy_": _copy_,
        "fill_": _fill_,
        "zero_": _zero_,
        "clone": _clone,
    }
    for name, function in methods.items():
        setattr(Tensor, name, function)
    Tensor.T = property(lambda self: shape.permute(self, *reversed(range(self.ndim))))
