"""Stochastic depth (Huang et al., 2016): during training, drop a residual branch as a whole.

Each sample's branch output is zeroed with probability p ("row" mode) -- or the whole batch's at once
("batch" mode) -- and kept branches are scaled by 1 / (1 - p), so the expected output is unchanged and
evaluation is the identity. The semantics and arguments are those of ``torchvision.ops.stochastic_depth``.
It is dropout with a mask of shape (N, 1, 1, ...) or (1, 1, ...), so it reuses dropout's Function (whose
backward multiplies by the same mask).
"""
from __future__ import annotations

from .. import nn
from ..autograd import Tensor
from ..functional.dropout import Dropout

__all__ = ["stochastic_depth", "StochasticDepth"]

_MODES = ("batch", "row")


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """Zero whole samples ("row": mask (N, 1, ...)) or the whole batch ("batch") with probability ``p``.

    Args:
        input: (N, ...) the output of a residual branch, before it is added to the shortcut.
        p: probability of dropping; kept values are scaled by 1 / (1 - p).
        mode: "row" or "batch".
        training: identity when False.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"stochastic_depth: expected a Tensor, got {type(input).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"stochastic_depth: drop probability has to be between 0 and 1, but got {p}")
    if mode not in _MODES:
        raise ValueError(f"stochastic_depth: mode has to be either 'batch' or 'row', but got {mode!r}")
    if input.dtype.kind != "f":
        raise TypeError(f"stochastic_depth: expected a floating point tensor, got dtype {input.dtype}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    mask_shape = (input.shape[0] if mode == "row" else 1,) + (1,) * (input.ndim - 1)
    return Dropout.apply(input, p=float(p), mask_shape=mask_shape)


class StochasticDepth(nn.Module):
    """``stochastic_depth`` as a layer (no parameters); applied only in training mode."""

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"
