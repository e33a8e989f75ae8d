"""Activation layers of the mobile networks: Hardsigmoid, Hardswish, SiLU (see functional.activation_gated)."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["Hardsigmoid", "Hardswish", "SiLU"]


class _InplaceActivation(Module):
    function = None  # the functional form, set by each subclass

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).function(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_InplaceActivation):
    """0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between. Any shape."""

    function = staticmethod(F.hardsigmoid)


class Hardswish(_InplaceActivation):
    """x * hardsigmoid(x). Any shape."""

    function = staticmethod(F.hardswish)


class SiLU(_InplaceActivation):
    """x * sigmoid(x). Any shape."""

    function = staticmethod(F.silu)
