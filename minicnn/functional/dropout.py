"""Dropout: zero each element with probability p during training (inverted dropout).

The kept elements are scaled by 1/(1-p) at training time, so the expected value of every output
equals its input and evaluation needs no rescaling: in eval mode dropout is the identity.
"""
from __future__ import annotations

from .. import backend, random
from ..autograd import Function, Tensor

__all__ = ["dropout", "dropout2d"]


class Dropout(Function):
    """Multiply by a random keep-mask of shape ``mask_shape`` (broadcast over x) scaled by 1/(1-p)."""

    def forward(self, x, p, mask_shape):
        # Uniform draws in the input's own dtype: no float64 temporary the size of the activation.
        uniform = random.generator_for(backend.device_of(x)).random(mask_shape, dtype=x.dtype)
        keep = uniform >= p  # P(keep) = 1 - p
        self.scale = 1.0 / (1.0 - p)
        self.save_for_backward(keep)  # a bool mask: 1/4 of the memory of a float32 mask
        return x * keep * self.scale

    def backward(self, grad):
        # y = x * keep / (1-p)  =>  dx = dy * keep / (1-p), with the very mask of the forward pass
        (keep,) = self.saved
        return grad * keep * self.scale


def _check(name: str, input: Tensor, p: float) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: probability p must be in [0, 1], got {p}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point tensor, got dtype {input.dtype}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Randomly zero elements of ``input`` (any shape) with probability ``p``; scale the rest by 1/(1-p).

    Identity when ``training`` is False or ``p`` is 0; all zeros when ``p`` is 1. The mask comes from
    minicnn's generator for the input's device, so ``minicnn.manual_seed`` makes it reproducible.
    ``inplace`` is accepted for torch compatibility and ignored: a new tensor is returned.
    """
    _check("dropout", input, p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0  # every unit dropped; the gradient is zero too
    return Dropout.apply(input, p=float(p), mask_shape=input.shape)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels: each (n, c) feature map of ``input`` (N, C, H, W) is dropped with
    probability ``p`` and the kept maps are scaled by 1/(1-p). Neighbouring pixels of a feature map
    are strongly correlated, so dropping single pixels would barely regularize a conv layer.
    """
    _check("dropout2d", input, p)
    if input.ndim != 4:
        raise ValueError(f"dropout2d: expected a 4-d input (N, C, H, W), got shape {input.shape}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return Dropout.apply(input, p=float(p), mask_shape=input.shape[:2] + (1, 1))
