"""Activation layers: ReLU, ReLU6, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax."""
from __future__ import annotations

import warnings

from .. import argcheck
from .. import functional as F
from .module import Module


class ReLU(Module):
    """max(0, x), elementwise."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU6(Module):
    """min(max(0, x), 6), elementwise."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu6(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x >= 0 else negative_slope * x, elementwise."""

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False):
        super().__init__()
        self.negative_slope = argcheck.number(type(self).__name__, "negative_slope", negative_slope)
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)


def _implicit_dim(ndim: int, layer: str) -> int:
    """PyTorch's legacy choice when no ``dim`` is given (0 for 0-, 1- and 3-D inputs, else 1)."""
    warnings.warn(f"Implicit dimension choice for {layer} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim if dim is None else argcheck.integer(type(self).__name__, "dim", dim)

    def forward(self, input):
        dim = self.dim if self.dim is not None else _implicit_dim(input.ndim, "softmax")
        return F.softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim if dim is None else argcheck.integer(type(self).__name__, "dim", dim)

    def forward(self, input):
        dim = self.dim if self.dim is not None else _implicit_dim(input.ndim, "log_softmax")
        return F.log_softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
