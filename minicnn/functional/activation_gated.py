"""The activations of the mobile networks: hardsigmoid, hardswish (MobileNetV3) and silu (EfficientNet).

hardsigmoid and hardswish are piecewise-linear stand-ins for sigmoid and x * sigmoid(x): no exp, so
they are cheap on phones and exact in fixed point. silu (swish) is the smooth original. Where the
piecewise functions have corners (x = -3 and x = 3) the derivative is PyTorch's choice, so gradients
agree with it bit for bit.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor
from .activation import Sigmoid, _check_float
from .activation_engines import HARDSWISH_ENGINES

__all__ = ["hardsigmoid", "hardswish", "silu"]


class HardSigmoid(Function):
    def forward(self, x):
        xp = backend.get_array_module(x)
        if any(self.needs_input_grad):  # the mask only serves backward: inference skips its two passes
            self.save_for_backward((x > -3) & (x < 3))
        out = x + 3  # in place from here on: one temporary instead of three, the same numbers
        xp.clip(out, 0, 6, out=out)
        out /= 6
        return out

    def backward(self, grad):
        # hardsigmoid(x) = clip(x/6 + 1/2, 0, 1): slope 1/6 strictly inside (-3, 3), 0 outside and on the
        # corners (torch's convention)
        (inside,) = self.saved
        return grad * inside / 6


class HardSwish(Function):
    def forward(self, x):
        xp = backend.get_array_module(x)
        self.save_for_backward(x)
        self.engine = HARDSWISH_ENGINES.choose(None, x)
        if self.engine is not None:
            return self.engine.forward(x)
        out = x + 3  # x * clip(x + 3, 0, 6) / 6 in place: one temporary instead of three, the same numbers
        xp.clip(out, 0, 6, out=out)
        out *= x
        out /= 6
        return out

    def backward(self, grad):
        # hardswish(x) = x * clip(x/6 + 1/2, 0, 1), i.e. 0 for x <= -3, x (x + 3) / 6 between, x for x >= 3:
        # d/dx = 0 for x <= -3, x/3 + 1/2 strictly between, 1 for x >= 3 (torch's choice on the corners)
        (x,) = self.saved
        if self.engine is not None:
            grad_input = self.engine.backward(x, grad)
            if grad_input is not None:
                return grad_input
        slope = (x / 3 + 0.5) * ((x > -3) & (x < 3)) + (x >= 3)
        return grad * slope.astype(grad.dtype, copy=False)


class SiLU(Function):
    def forward(self, x):
        sigma = Sigmoid().forward(x)  # the overflow-free sigmoid
        self.save_for_backward(x, sigma)
        return x * sigma

    def backward(self, grad):
        # silu(x) = x s(x) with s = sigmoid, s' = s (1 - s):  d/dx = s + x s (1 - s) = s (1 + x (1 - s))
        x, sigma = self.saved
        return grad * sigma * (1 + x * (1 - sigma))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between, elementwise. Any shape.

    ``inplace`` is accepted for torch compatibility and ignored: a new tensor is returned.
    """
    _check_float(input, "hardsigmoid")
    return HardSigmoid.apply(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * hardsigmoid(x) elementwise: 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between. Any shape."""
    _check_float(input, "hardswish")
    return HardSwish.apply(input)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) elementwise (also called swish). Any shape."""
    _check_float(input, "silu")
    return SiLU.apply(input)
