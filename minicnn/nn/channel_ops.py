"""Layers that mix channels without parameters: LocalResponseNorm (AlexNet) and ChannelShuffle (ShuffleNet)."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["ChannelShuffle", "LocalResponseNorm"]


class LocalResponseNorm(Module):
    """Divide each activation by (k + alpha / size * sum of squares of ``size`` neighbouring channels)^beta.

    Shapes: (N, C, *) -> (N, C, *). Defaults are torch's; AlexNet (2012) used size=5, alpha=5e-4
    (the paper's 1e-4 times size), beta=0.75, k=2.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups. Shapes: (N, C, *) -> (N, C, *), C divisible by groups."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
