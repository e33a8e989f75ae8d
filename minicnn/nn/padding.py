"""Padding layers over ``functional.pad``: ZeroPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d,
CircularPad2d (and their 1-d forms). ``padding`` is an int or (left, right, top, bottom)."""
from __future__ import annotations

import numbers

from .. import functional as F
from .module import Module


class _Pad(Module):
    mode = "constant"
    sides = 4

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        if isinstance(padding, numbers.Integral):
            padding = (int(padding),) * self.sides
        padding = tuple(int(p) for p in padding)
        if len(padding) != self.sides:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a {self.sides}-tuple, got {padding}")
        self.padding, self.value = padding, value

    def forward(self, input):
        return F.pad(input, self.padding, self.mode, self.value if self.mode == "constant" else None)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ConstantPad2d(_Pad):
    def __init__(self, padding, value: float):
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad2d(_Pad):
    mode = "reflect"


class ReplicationPad2d(_Pad):
    mode = "replicate"


class CircularPad2d(_Pad):
    mode = "circular"


class ConstantPad1d(ConstantPad2d):
    sides = 2


class ZeroPad1d(ZeroPad2d):
    sides = 2


class ReflectionPad1d(ReflectionPad2d):
    sides = 2


class ReplicationPad1d(ReplicationPad2d):
    sides = 2


class CircularPad1d(CircularPad2d):
    sides = 2
