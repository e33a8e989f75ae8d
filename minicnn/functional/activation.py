"""Pointwise activations: relu, relu6, leaky_relu, hardtanh, sigmoid, tanh.

Each backward multiplies the output gradient by the local derivative f'(x). Where f is not
differentiable (relu at 0, hardtanh at its bounds) the convention is PyTorch's, so gradients match it
bit for bit: relu'(0) = 0, hardtanh'(min_val) = hardtanh'(max_val) = 0, leaky_relu'(0) = negative_slope.

The ``inplace`` arguments exist so code written for ``torch.nn.functional`` runs unchanged; they are
ignored and a new tensor is always returned. Overwriting the input would gain a little memory but
would corrupt any array an earlier Function saved for its backward (e.g. a conv that saved its output).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from .activation_engines import RELU_ENGINES

__all__ = ["relu", "relu6", "leaky_relu", "hardtanh", "sigmoid", "tanh"]


def _check_float(input: Tensor, name: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point tensor, got dtype {input.dtype}")


class ReLU(Function):
    # relu'(x) = 1 where x > 0, else 0 (0 at x = 0, as torch). The mask saved for backward is where
    # the gradient passes, ``not x <= 0``, which is x > 0 except at NaN, where torch passes it too; and
    # backward selects rather than multiplies, so an infinite gradient gives 0 where x <= 0, as torch.
    def forward(self, x):
        keep_mask = self.needs_input_grad[0]  # a bool mask is all backward needs (1/4 of a float32 copy)
        engine = RELU_ENGINES.choose(None, x)
        if engine is not None:
            out, passes = engine.forward(x, keep_mask)
        else:
            xp = backend.get_array_module(x)
            out, passes = xp.maximum(x, 0), (xp.logical_not(x <= 0) if keep_mask else None)
        if keep_mask:
            self.save_for_backward(passes)
        return out

    def backward(self, grad):
        (passes,) = self.saved
        engine = RELU_ENGINES.choose(None, grad)
        out = None if engine is None else engine.backward(passes, grad)
        return backend.get_array_module(grad).where(passes, grad, 0) if out is None else out


class HardTanh(Function):
    def forward(self, x, min_val, max_val):
        xp = backend.get_array_module(x)
        self.save_for_backward((x > min_val) & (x < max_val))
        return xp.clip(x, min_val, max_val)

    def backward(self, grad):
        # hardtanh'(x) = 1 strictly inside (min_val, max_val), 0 outside and on the bounds
        (inside,) = self.saved
        return grad * inside


class LeakyReLU(Function):
    # Written with max/min and mask products rather than xp.where: where on a random mask runs a
    # branchy loop in numpy, 20-50x slower than these vectorised passes. Both forms are exact.
    def forward(self, x, negative_slope):
        xp = backend.get_array_module(x)
        self.save_for_backward(x > 0)
        self.negative_slope = negative_slope
        return xp.maximum(x, 0) + xp.minimum(x, 0) * negative_slope

    def backward(self, grad):
        # leaky_relu'(x) = 1 where x > 0, negative_slope where x <= 0 (one of the two terms is 0)
        (positive,) = self.saved
        return grad * positive + (grad * self.negative_slope) * ~positive


class Sigmoid(Function):
    def forward(self, x):
        xp = backend.get_array_module(x)
        # With d = exp(-|x|), which never overflows: sigma(x) = 1/(1+d) for x >= 0 and d/(1+d) for x < 0.
        # The numerator max(d, [x >= 0]) picks 1 or d without xp.where (slow on random masks in numpy).
        decay = xp.exp(-xp.abs(x))
        out = xp.maximum(decay, x >= 0)
        out /= 1 + decay
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        # sigma'(x) = sigma(x) (1 - sigma(x))
        (out,) = self.saved
        return grad * out * (1 - out)


class Tanh(Function):
    def forward(self, x):
        xp = backend.get_array_module(x)
        out = xp.tanh(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        # tanh'(x) = 1 - tanh(x)^2
        (out,) = self.saved
        return grad * (1 - out * out)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x) elementwise. Any shape; ``inplace`` is accepted and ignored (see module docstring)."""
    _check_float(input, "relu")
    return ReLU.apply(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6) elementwise (MobileNet's activation). Any shape."""
    _check_float(input, "relu6")
    return HardTanh.apply(input, min_val=0.0, max_val=6.0)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val] elementwise. Any shape."""
    _check_float(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return HardTanh.apply(input, min_val=float(min_val), max_val=float(max_val))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere. Any shape."""
    _check_float(input, "leaky_relu")
    return LeakyReLU.apply(input, negative_slope=float(negative_slope))


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)) elementwise, without overflow for large |x|. Any shape."""
    _check_float(input, "sigmoid")
    return Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent elementwise. Any shape."""
    _check_float(input, "tanh")
    return Tanh.apply(input)
