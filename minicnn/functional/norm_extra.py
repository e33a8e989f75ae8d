"""Normalizations over groups of elements of one sample: group_norm, layer_norm, instance_norm.

Each standardizes rows of a (rows, M) view -- the M elements of one group of one sample -- with the
biased variance, then applies the per-channel (or per-element) affine map with ordinary
differentiable multiply and add. The standardization's backward, for one row with
xhat = (x - mean) / sigma, sigma = sqrt(var + eps), and upstream gradient g on xhat:

    dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma

(the two means remove the directions along which mean and variance absorbed the change).
"""
from __future__ import annotations

import numbers

from .. import backend
from ..autograd import Function, Tensor

__all__ = ["group_norm", "layer_norm", "instance_norm"]


class Standardize(Function):
    def forward(self, x, rows, eps):
        xp = backend.get_array_module(x)
        flat = x.reshape(rows, -1)
        mean = flat.mean(axis=1, keepdims=True)
        centred = flat - mean
        inv_sigma = 1.0 / xp.sqrt((centred * centred).mean(axis=1, keepdims=True) + eps)
        xhat = centred * inv_sigma
        self.save_for_backward(xhat, inv_sigma)
        return xhat.reshape(x.shape)

    def backward(self, grad):
        # dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma, per row
        xhat, inv_sigma = self.saved
        g = grad.reshape(xhat.shape)
        dx = (g - g.mean(axis=1, keepdims=True) - xhat * (g * xhat).mean(axis=1, keepdims=True)) * inv_sigma
        return dx.reshape(grad.shape)


def _check_input(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point input, got dtype {input.dtype}")


def _affine_per_channel(out, weight, bias):
    shape = (1, -1) + (1,) * (out.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Standardize each of ``num_groups`` channel groups of each sample of (N, C, *), then weight[c] x + bias[c]."""
    _check_input("group_norm", input)
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise RuntimeError(f"group_norm: expected input with shape (N, C, *) where C is divisible by num_groups="
                           f"{num_groups}, got shape {input.shape}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.shape != (input.shape[1],):
            raise RuntimeError(f"group_norm: expected {name} of shape ({input.shape[1]},), got {value.shape}")
    out = Standardize.apply(input, rows=input.shape[0] * num_groups, eps=float(eps))
    return _affine_per_channel(out, weight, bias)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Standardize over the trailing ``normalized_shape`` dimensions, then elementwise weight * x + bias."""
    _check_input("layer_norm", input)
    shape = (int(normalized_shape),) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if input.shape[input.ndim - len(shape):] != shape:
        raise RuntimeError(f"layer_norm: given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}")
    rows = 1
    for size in input.shape[:input.ndim - len(shape)]:
        rows *= size
    out = Standardize.apply(input, rows=rows, eps=float(eps))
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Standardize each channel of each sample of (N, C, *) on its own; with running buffers, update them
    (unbiased variance, averaged over the batch) or, with ``use_input_stats=False``, normalize by them."""
    _check_input("instance_norm", input)
    n, channels = input.shape[:2]
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: Expected running_mean and running_var to be defined when "
                             "use_input_stats is false")
        shape = (1, -1) + (1,) * (input.ndim - 2)
        out = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
        return _affine_per_channel(out, weight, bias)
    if running_mean is not None or running_var is not None:
        values = input.array.reshape(n, channels, -1)
        count = values.shape[2]
        batch_mean = values.mean(axis=2).mean(axis=0)
        batch_var = values.var(axis=2, ddof=1 if count > 1 else 0).mean(axis=0)
        if running_mean is not None:
            running_mean.array[...] = (1 - momentum) * running_mean.array + momentum * batch_mean
        if running_var is not None:
            running_var.array[...] = (1 - momentum) * running_var.array + momentum * batch_var
    out = Standardize.apply(input, rows=n * channels, eps=float(eps))
    return _affine_per_channel(out, weight, bias)
