"""Elementwise functions beyond arithmetic: sign, sin, cos, comparisons, tests for nan/inf, logic.

Comparisons and tests return bool tensors outside the graph (they have no gradient); sign's gradient
is zero, sin's is cos and cos's is -sin.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor


def _xp(a: Tensor):
    return backend.get_array_module(a.array)


class Sign(Function):
    def forward(self, a):
        self.shape_and_dtype = (a.shape, a.dtype)
        return backend.get_array_module(a).sign(a)

    def backward(self, grad):
        # sign is piecewise constant: its derivative is 0 (torch's choice at 0 as well)
        return backend.get_array_module(grad).zeros_like(grad)


class Sin(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return backend.get_array_module(a).sin(a)

    def backward(self, grad):
        # d sin a / da = cos a
        (a,) = self.saved
        return grad * backend.get_array_module(a).cos(a)


class Cos(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return backend.get_array_module(a).cos(a)

    def backward(self, grad):
        # d cos a / da = -sin a
        (a,) = self.saved
        return -grad * backend.get_array_module(a).sin(a)


def sign(input: Tensor) -> Tensor:
    return Sign.apply(input)


def sin(input: Tensor) -> Tensor:
    return Sin.apply(input)


def cos(input: Tensor) -> Tensor:
    return Cos.apply(input)


def _operand_array(value, like: Tensor, name: str):
    if isinstance(value, Tensor):
        if backend.device_of(value.array) != backend.device_of(like.array):
            raise RuntimeError(f"{name}: expected all tensors on one device, found "
                               f"{backend.device_of(like.array)} and {backend.device_of(value.array)}")
        return value.array
    return value


def _ufunc_on_tensors(ufunc_name: str, name: str):
    """A non-differentiable binary ufunc on a Tensor and a Tensor or number (either side)."""
    def function(input, other) -> Tensor:
        if not isinstance(input, Tensor):
            return Tensor._wrap(getattr(_xp(other), ufunc_name)(input, other.array))
        return Tensor._wrap(getattr(_xp(input), ufunc_name)(input.array, _operand_array(other, input, name)))

    function.__name__ = name
    return function


eq = _ufunc_on_tensors("equal", "eq")
ne = _ufunc_on_tensors("not_equal", "ne")
lt = _ufunc_on_tensors("less", "lt")
le = _ufunc_on_tensors("less_equal", "le")
gt = _ufunc_on_tensors("greater", "gt")
ge = _ufunc_on_tensors("greater_equal", "ge")
logical_and = _ufunc_on_tensors("logical_and", "logical_and")
logical_or = _ufunc_on_tensors("logical_or", "logical_or")
logical_xor = _ufunc_on_tensors("logical_xor", "logical_xor")
floor_divide = _ufunc_on_tensors("floor_divide", "floor_divide")
remainder = _ufunc_on_tensors("remainder", "remainder")


def _bitwise(ufunc_name: str, name: str):
    """``&``, ``|``, ``^`` on bool and integer tensors, as torch (float operands are a TypeError)."""
    apply = _ufunc_on_tensors(ufunc_name, name)

    def function(input, other) -> Tensor:
        for value in (input, other):
            if isinstance(value, Tensor) and value.dtype.kind == "f" or isinstance(value, float):
                raise TypeError(f"{name}: not implemented for floating point operands")
        return apply(input, other)

    function.__name__ = name
    return function


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")


def _test(ufunc_name: str):
    def function(input: Tensor) -> Tensor:
        return Tensor._wrap(getattr(_xp(input), ufunc_name)(input.array))

    function.__name__ = ufunc_name
    return function


isnan = _test("isnan")
isfinite = _test("isfinite")
isinf = _test("isinf")
logical_not = _test("logical_not")


def bitwise_not(input: Tensor) -> Tensor:
    """``~mask``: logical not of a bool tensor, bitwise not of an integer one."""
    if input.dtype.kind == "f":
        raise TypeError("bitwise_not: not implemented for floating point tensors")
    return Tensor._wrap(_xp(input).invert(input.array))


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and the same values."""
    return tuple(input.shape) == tuple(other.shape) and bool(_xp(input).all(input.array == other.array))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    return bool(_xp(input).allclose(input.array, _operand_array(other, input, "allclose"),
                                   rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input: Tensor, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    return Tensor._wrap(_xp(input).isclose(input.array, _operand_array(other, input, "isclose"),
                                          rtol=rtol, atol=atol, equal_nan=equal_nan))


__all__ = ["sign", "sin", "cos", "eq", "ne", "lt", "le", "gt", "ge", "isnan", "isfinite", "isinf", "equal",
           "allclose", "isclose", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
           "bitwise_or", "bitwise_xor", "bitwise_not", "floor_divide", "remainder"]
