"""embedding, dropout1d, alpha_dropout, 1-D pooling, pixel_shuffle / pixel_unshuffle.

The embedding gather's backward scatters: the row gradient of index i is the sum of the upstream
gradients of every position holding i (none for ``padding_idx``). The 1-D poolings run as the 2-D
ones over a height-1 image, and pixel (un)shuffle is a reshape and a permutation, so their gradients
are those ops' own.
"""
from __future__ import annotations

import math

from .. import backend, random
from ..autograd import Function, Tensor
from .pool import adaptive_avg_pool2d, adaptive_max_pool2d
from .dropout import Dropout, _check
from .pool import avg_pool2d, max_pool2d

__all__ = ["embedding", "dropout1d", "alpha_dropout", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d",
           "adaptive_max_pool1d", "pixel_shuffle", "pixel_unshuffle"]


class Embedding(Function):
    def forward(self, weight, indices, padding_idx):
        self.indices, self.padding_idx, self.weight_shape = indices, padding_idx, weight.shape
        return weight[indices]

    def backward(self, grad):
        # out[p] = W[idx[p]]  =>  dW[i] = sum over p with idx[p] = i of g[p]; the padding row gets none
        xp = backend.get_array_module(grad)
        grad_w = xp.zeros(self.weight_shape, dtype=grad.dtype)
        backend.scatter_add(grad_w, self.indices.reshape(-1), grad.reshape(-1, self.weight_shape[1]))
        if self.padding_idx is not None:
            grad_w[self.padding_idx] = 0
        return grad_w


def embedding(input: Tensor, weight: Tensor, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) at the integer ``input`` indices: shape input.shape + (dim,)."""
    if not isinstance(input, Tensor) or input.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got {getattr(input, 'dtype', type(input).__name__)}")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not supported")
    size = weight.shape[0]
    if padding_idx is not None:
        if not -size <= padding_idx < size:
            raise ValueError(f"embedding: padding_idx must be within num_embeddings ({size}), got {padding_idx}")
        padding_idx %= size
    values = input.array
    if values.size and backend.get_array_module(values).__name__ == "numpy" and (values.min() < 0 or values.max() >= size):
        raise IndexError(f"embedding: index out of range in self: indices span [{values.min()}, {values.max()}] "
                         f"for {size} embeddings")
    return Embedding.apply(weight, indices=values, padding_idx=padding_idx)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L): each channel dropped with probability ``p``, the rest
    scaled by 1/(1-p)."""
    _check("dropout1d", input, p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input of shape "
                           f"{input.shape}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return Dropout.apply(input, p=float(p), mask_shape=input.shape[:-1] + (1,))


class AlphaDropout(Function):
    def forward(self, x, p):
        # Dropped units take SELU's negative saturation a' = -lambda alpha; then y = a (x * keep + a' (1 - keep)) + b
        # with a, b chosen so that mean 0 / variance 1 inputs stay so (Klambauer et al., 2017).
        alpha_prime = -1.7580993408473766
        keep = random.generator_for(backend.device_of(x)).random(x.shape, dtype=x.dtype) >= p
        a = 1.0 / math.sqrt((alpha_prime ** 2 * p + 1) * (1 - p))
        b = -a * alpha_prime * p
        self.save_for_backward(keep)
        self.a = a
        return a * (x * keep + alpha_prime * (1 - keep)) + b

    def backward(self, grad):
        # dy/dx = a * keep
        (keep,) = self.saved
        return grad * keep * self.a


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps a SELU network's self-normalizing mean and variance; identity unless training."""
    _check("alpha_dropout", input, p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return AlphaDropout.apply(input, p=float(p))


def _one(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"1-D pooling: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return value


def _as_image(input, name):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{name}: expected 2D or 3D (batch mode) tensor for input, got shape {input.shape}")
    return input.unsqueeze(-2)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over windows of (N, C, L) or (C, L)."""
    image = _as_image(input, "max_pool1d")
    stride = kernel_size if stride is None else stride
    out = max_pool2d(image, (1, _one(kernel_size, "kernel_size")), (1, _one(stride, "stride")),
                     (0, _one(padding, "padding")), (1, _one(dilation, "dilation")), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over windows of (N, C, L) or (C, L)."""
    image = _as_image(input, "avg_pool1d")
    stride = kernel_size if stride is None else stride
    return avg_pool2d(image, (1, _one(kernel_size, "kernel_size")), (1, _one(stride, "stride")),
                      (0, _one(padding, "padding")), ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Mean over ``output_size`` adaptive bins of the last axis of (N, C, L) or (C, L)."""
    return adaptive_avg_pool2d(_as_image(input, "adaptive_avg_pool1d"), (1, _one(output_size, "output_size"))) \
        .squeeze(-2)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    out = adaptive_max_pool2d(_as_image(input, "adaptive_max_pool1d"), (1, _one(output_size, "output_size")),
                              return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block."""
    r = int(upscale_factor)
    *batch, channels, height, width = input.shape
    if channels % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}")
    lead = len(batch)
    out = input.reshape(*batch, channels // (r * r), r, r, height, width)
    out = out.permute(*range(lead), lead, lead + 3, lead + 1, lead + 4, lead + 2)
    return out.reshape(*batch, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of pixel_shuffle: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = int(downscale_factor)
    *batch, channels, height, width = input.shape
    if height % r or width % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor={r}, "
                           f"got {height}x{width}")
    lead = len(batch)
    out = input.reshape(*batch, channels, height // r, r, width // r, r)
    out = out.permute(*range(lead), lead, lead + 2, lead + 4, lead + 1, lead + 3)
    return out.reshape(*batch, channels * r * r, height // r, width // r)
