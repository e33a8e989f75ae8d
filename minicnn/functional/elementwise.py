"""Elementwise arithmetic with numpy broadcasting, and matrix multiply.

Broadcasting copies an input along axes it did not have (or had with size 1), so its gradient is the
sum of the output gradient over those axes: ``unbroadcast`` does that sum.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from . import product_engines as products
from .elementwise_engines import ELEMENTWISE_ENGINES


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``, undoing numpy broadcasting."""
    if tuple(grad.shape) == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def as_tensor_like(value, like: Tensor) -> Tensor:
    """Wrap a python number or array as a constant Tensor on ``like``'s device, keeping float dtypes."""
    if isinstance(value, Tensor):
        return value
    xp = backend.get_array_module(like.array)
    if isinstance(value, (bool, int, float)):
        dtype = like.dtype if like.dtype.kind == "f" or isinstance(value, (bool, int)) else np.float32
        return Tensor(xp.asarray(value, dtype=dtype))
    return Tensor(value, device=like.device)


def broadcast_error(op: str, a_shape: tuple, b_shape: tuple):
    """torch's RuntimeError for shapes that do not broadcast, naming ``op`` and both shapes (None if they do)."""
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    for position in range(1, min(len(a_shape), len(b_shape)) + 1):
        a_size, b_size = a_shape[-position], b_shape[-position]
        if a_size != b_size and a_size != 1 and b_size != 1:
            dim = max(len(a_shape), len(b_shape)) - position
            return RuntimeError(f"{op}: The size of tensor a ({a_size}) must match the size of tensor b ({b_size}) "
                                f"at non-singleton dimension {dim}: shapes {a_shape} and {b_shape} do not broadcast")
    return None


def _apply_binary(function, op: str, a, b) -> Tensor:
    a, b = _binary_operands(a, b)
    try:
        return function.apply(a, b)
    except ValueError:  # numpy's broadcasting error names neither the op nor torch's terms
        error = broadcast_error(op, a.shape, b.shape)
        if error is None:
            raise
        raise error from None


def _binary_operands(a, b):
    if not isinstance(a, Tensor):
        a = as_tensor_like(a, b)
    if not isinstance(b, Tensor):
        b = as_tensor_like(b, a)
    return a, b


class Add(Function):
    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        engine = ELEMENTWISE_ENGINES.choose(None, a)
        if engine is None or type(b) is not np.ndarray or a.shape != b.shape or a.dtype != b.dtype:
            return a + b
        # same-shape host arrays (a residual connection): in shares on every core when large
        out = np.empty_like(a)

        def share(start, stop):
            np.add(a[start:stop], b[start:stop], out=out[start:stop])

        engine.forward(share, len(a), a.size)
        return out

    def backward(self, grad):
        # d(a+b)/da = 1, d(a+b)/db = 1
        return unbroadcast(grad, self.shapes[0]), unbroadcast(grad, self.shapes[1])


class Sub(Function):
    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a - b

    def backward(self, grad):
        return unbroadcast(grad, self.shapes[0]), unbroadcast(-grad, self.shapes[1])


class Mul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        self.shapes = (a.shape, b.shape)
        return a * b

    def backward(self, grad):
        # d(ab)/da = b, d(ab)/db = a
        a, b = self.saved
        grad_a = unbroadcast(grad * b, self.shapes[0]) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * a, self.shapes[1]) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        self.shapes = (a.shape, b.shape)
        if a.dtype.kind != "f" and b.dtype.kind != "f":
            return (a / b).astype(np.float32)  # true division of integers gives the default float (torch)
        return a / b

    def backward(self, grad):
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        a, b = self.saved
        grad_a = unbroadcast(grad / b, self.shapes[0]) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(-grad * a / (b * b), self.shapes[1]) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class Pow(Function):
    """a ** b for tensors a and b (b often a constant scalar tensor)."""

    def forward(self, a, b):
        out = a**b
        self.save_for_backward(a, b, out)
        self.shapes = (a.shape, b.shape)
        return out

    def backward(self, grad):
        # d(a^b)/da = b a^(b-1),  d(a^b)/db = a^b ln a
        a, b, out = self.saved
        xp = backend.get_array_module(a)
        grad_a = unbroadcast(grad * b * a ** (b - 1), self.shapes[0]) if self.needs_input_grad[0] else None
        grad_b = None
        if self.needs_input_grad[1]:
            log_a = xp.log(xp.where(a > 0, a, 1))  # ln a is only defined (real) where a > 0
            grad_b = unbroadcast(grad * out * log_a, self.shapes[1])
        return grad_a, grad_b


class Exp(Function):
    def forward(self, a):
        xp = backend.get_array_module(a)
        out = xp.exp(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        # d e^a / da = e^a
        (out,) = self.saved
        return grad * out


class Log(Function):
    def forward(self, a):
        xp = backend.get_array_module(a)
        self.save_for_backward(a)
        return xp.log(a)

    def backward(self, grad):
        # d ln a / da = 1/a
        (a,) = self.saved
        return grad / a


class Sqrt(Function):
    def forward(self, a):
        xp = backend.get_array_module(a)
        out = xp.sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        # d sqrt(a) / da = 1 / (2 sqrt(a))
        (out,) = self.saved
        return grad / (2 * out)


class Abs(Function):
    def forward(self, a):
        xp = backend.get_array_module(a)
        self.save_for_backward(a)
        return xp.abs(a)

    def backward(self, grad):
        (a,) = self.saved
        xp = backend.get_array_module(a)
        return grad * xp.sign(a)


class Clip(Function):
    def forward(self, a, low=None, high=None):
        xp = backend.get_array_module(a)
        inside = xp.ones(a.shape, dtype=bool)
        if low is not None:
            inside &= a >= low
        if high is not None:
            inside &= a <= high
        self.save_for_backward(inside)
        return xp.clip(a, low, high)

    def backward(self, grad):
        # the gradient passes where the value was inside [low, high] and is zero where it was clipped
        (inside,) = self.saved
        return grad * inside


class MatMul(Function):
    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} do not align")
        self.save_for_backward(a, b)
        return products.matmul(a, b)

    def backward(self, grad):
        # C = A B:  dA = dC B^T,  dB = A^T dC  (1-d operands are promoted to matrices, then squeezed back)
        a, b = self.saved
        xp = backend.get_array_module(a)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if b.ndim == 1:  # restore the column axis first: for vector @ vector grad is 0-d
            g2 = xp.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = products.matmul(g2, xp.swapaxes(b2, -1, -2))
            grad_a = unbroadcast(grad_a, a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            grad_b = products.matmul(xp.swapaxes(a2, -1, -2), g2)
            grad_b = unbroadcast(grad_b, b2.shape).reshape(b.shape)
        return grad_a, grad_b


class Where(Function):
    def forward(self, condition, a, b):
        xp = backend.get_array_module(a)
        self.condition = condition
        self.shapes = (a.shape, b.shape)
        return xp.where(condition, a, b)

    def backward(self, grad):
        xp = backend.get_array_module(grad)
        zero = xp.zeros((), dtype=grad.dtype)
        return (
            None,
            unbroadcast(xp.where(self.condition, grad, zero), self.shapes[0]),
            unbroadcast(xp.where(self.condition, zero, grad), self.shapes[1]),
        )


# ----------------------------------------------------------------------------------------------
# The functional spellings
# ----------------------------------------------------------------------------------------------

def add(a, b) -> Tensor:
    return _apply_binary(Add, "add", a, b)


def sub(a, b) -> Tensor:
    return _apply_binary(Sub, "sub", a, b)


def mul(a, b) -> Tensor:
    return _apply_binary(Mul, "mul", a, b)


def div(a, b) -> Tensor:
    return _apply_binary(Div, "div", a, b)


def neg(a: Tensor) -> Tensor:
    return Neg.apply(a)


def pow(a, b) -> Tensor:  # noqa: A001 - torch's name
    return _apply_binary(Pow, "pow", a, b)


def exp(a: Tensor) -> Tensor:
    return Exp.apply(a)


def log(a: Tensor) -> Tensor:
    return Log.apply(a)


def sqrt(a: Tensor) -> Tensor:
    return Sqrt.apply(a)


def abs(a: Tensor) -> Tensor:  # noqa: A001 - torch's name
    return Abs.apply(a)


def clip(a: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - torch's names
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    return Clip.apply(a, low=min, high=max)


clamp = clip


def matmul(a: Tensor, b: Tensor) -> Tensor:
    return MatMul.apply(a, b)


def where(condition, a, b) -> Tensor:
    if isinstance(a, Tensor):
        b = as_tensor_like(b, a)
    else:
        a = as_tensor_like(a, b)
    condition = condition if isinstance(condition, Tensor) else Tensor(condition, device=a.device)
    error = broadcast_error("where", a.shape, b.shape) or broadcast_error("where", condition.shape, a.shape) \
        or broadcast_error("where", condition.shape, b.shape)
    if error is not None:
        raise error
    return Where.apply(condition, a, b)
