"""``Dropout``: zeroes each element with probability p while training (scaling the rest by 1/(1-p))."""
from __future__ import annotations

from .. import argcheck
from .. import functional as F
from .module import Module


class Dropout(Module):
    """Identity in eval mode; in training, masks drawn from minicnn's seeded generators."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            argcheck.number(type(self).__name__, "dropout probability p", p)
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
