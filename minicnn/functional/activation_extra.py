"""More pointwise activations: gelu, elu, prelu, softplus, mish, logsigmoid, and softmax2d.

Each Function's backward multiplies the upstream gradient by the local derivative, written next to it.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from .activation import _check_float

__all__ = ["gelu", "elu", "prelu", "softplus", "mish", "logsigmoid", "softmax2d"]


def erf(x):
    """The error function on any backend's array (SciPy's on the host, CuPy's on a GPU)."""
    xp = backend.get_array_module(x)
    if xp is np:
        from scipy import special

        return special.erf(x)
    try:
        from cupyx.scipy import special

        return special.erf(x)
    except ImportError:  # the simulated device: compute on the host, copy back
        from scipy import special

        return xp.asarray(special.erf(xp.asnumpy(x)))


def _softplus_array(x, beta, threshold):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (torch's cut-off)."""
    xp = backend.get_array_module(x)
    scaled = x * beta
    stable = xp.logaddexp(0, scaled) / beta
    return xp.where(scaled > threshold, x, stable)


def _sigmoid_array(x):
    xp = backend.get_array_module(x)
    return xp.exp(-xp.logaddexp(0, -x))


class GELU(Function):
    def forward(self, x, approximate):
        xp = backend.get_array_module(x)
        self.approximate = approximate
        self.save_for_backward(x)
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
            return 0.5 * x * (1 + xp.tanh(inner))
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))

    def backward(self, grad):
        (x,) = self.saved
        xp = backend.get_array_module(x)
        if self.approximate == "tanh":
            # y = x/2 (1 + tanh u), u = c (x + 0.044715 x^3):
            # dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) c (1 + 3 * 0.044715 x^2)
            c = math.sqrt(2 / math.pi)
            t = xp.tanh(c * (x + 0.044715 * x ** 3))
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x))
        # y = x Phi(x):  dy/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi)
        cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return grad * (cdf + x * pdf)


class ELU(Function):
    def forward(self, x, alpha):
        xp = backend.get_array_module(x)
        self.alpha = alpha
        out = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
        self.save_for_backward(x, out)
        return out

    def backward(self, grad):
        # x > 0: 1;  x <= 0: alpha e^x = y + alpha
        x, out = self.saved
        xp = backend.get_array_module(x)
        return grad * xp.where(x > 0, 1, out + self.alpha).astype(grad.dtype)


class PReLU(Function):
    def forward(self, x, weight):
        xp = backend.get_array_module(x)
        # weight (C,) or (1,) slopes along axis 1 (torch): broadcast as (1, C, 1, ...)
        shape = (1, -1) + (1,) * (x.ndim - 2) if x.ndim >= 2 and weight.size > 1 else (1,) * max(x.ndim, 1)
        slopes = weight.reshape(shape) if weight.size > 1 else weight.reshape(())
        self.save_for_backward(x, slopes)
        self.weight_shape = weight.shape
        return xp.where(x > 0, x, slopes * x)

    def backward(self, grad):
        # y = x (x > 0), a x (x <= 0):  dx = g (x > 0 ? 1 : a),  da = sum of g x where x <= 0
        x, slopes = self.saved
        xp = backend.get_array_module(x)
        positive = x > 0
        grad_x = xp.where(positive, grad, grad * slopes) if self.needs_input_grad[0] else None
        grad_w = None
        if self.needs_input_grad[1]:
            contribution = xp.where(positive, 0, grad * x)
            if len(self.weight_shape) and self.weight_shape[0] > 1:
                axes = tuple(a for a in range(x.ndim) if a != 1)
                grad_w = contribution.sum(axis=axes).reshape(self.weight_shape)
            else:
                grad_w = xp.asarray(contribution.sum()).reshape(self.weight_shape)
        return grad_x, grad_w


class Softplus(Function):
    def forward(self, x, beta, threshold):
        self.beta, self.threshold = beta, threshold
        self.save_for_backward(x)
        return _softplus_array(x, beta, threshold)

    def backward(self, grad):
        # d/dx log(1 + e^{bx})/b = sigmoid(b x); 1 past the threshold
        (x,) = self.saved
        xp = backend.get_array_module(x)
        return grad * xp.where(x * self.beta > self.threshold, 1, _sigmoid_array(x * self.beta)).astype(grad.dtype)


class Mish(Function):
    def forward(self, x):
        xp = backend.get_array_module(x)
        self.save_for_backward(x)
        return x * xp.tanh(xp.logaddexp(0, x))

    def backward(self, grad):
        # y = x tanh(sp(x)), sp = softplus:  dy/dx = tanh(sp) + x (1 - tanh^2(sp)) sigmoid(x)
        (x,) = self.saved
        xp = backend.get_array_module(x)
        t = xp.tanh(xp.logaddexp(0, x))
        return grad * (t + x * (1 - t * t) * _sigmoid_array(x))


class LogSigmoid(Function):
    def forward(self, x):
        xp = backend.get_array_module(x)
        self.save_for_backward(x)
        return -xp.logaddexp(0, -x)

    def backward(self, grad):
        # y = -log(1 + e^{-x}):  dy/dx = 1 - sigmoid(x) = sigmoid(-x)
        (x,) = self.saved
        return grad * _sigmoid_array(-x)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) (Phi the standard normal CDF); ``approximate="tanh"`` uses torch's tanh formula."""
    _check_float(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
    return GELU.apply(input, approximate=approximate)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise (``inplace`` is accepted and ignored)."""
    _check_float(input, "elu")
    return ELU.apply(input, alpha=float(alpha))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, a x otherwise, with a learnable slope ``weight`` of shape (1,) or (C,) (channel axis 1)."""
    _check_float(input, "prelu")
    if weight.ndim != 1:
        raise RuntimeError(f"prelu: weight must be 1-D, got shape {weight.shape}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.shape[0] not in (1, channels):
        raise RuntimeError(f"prelu: mismatch of parameter numbers and input channel size: weight has "
                           f"{weight.shape[0]} values, input {channels} channels")
    return PReLU.apply(input, weight)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""
    _check_float(input, "softplus")
    return Softplus.apply(input, beta=float(beta), threshold=float(threshold))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x))."""
    _check_float(input, "mish")
    return Mish.apply(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), computed stably."""
    _check_float(input, "logsigmoid")
    return LogSigmoid.apply(input)


def softmax2d(input: Tensor) -> Tensor:
    """Softmax over the channels of (N, C, H, W) or (C, H, W) images (torch's Softmax2d)."""
    from .loss import softmax

    if input.ndim not in (3, 4):
        raise ValueError(f"Softmax2d: expected input of 3 or 4 dimensions, got shape {input.shape}")
    return softmax(input, dim=-3)


