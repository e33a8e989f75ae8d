"""Batch normalization.

For each channel c, over the M = N * (spatial size) values x_i of that channel in the batch:

    mean = (1/M) sum_i x_i        var = (1/M) sum_i (x_i - mean)^2        (biased, as torch)
    xhat_i = (x_i - mean) / sqrt(var + eps)        y_i = gamma * xhat_i + beta

In training the batch statistics are used and the running statistics move towards them,
``running = (1 - momentum) * running + momentum * batch`` with the UNBIASED variance var * M/(M-1).
In evaluation the running statistics replace the batch ones, so y is an affine function of x.

The channel statistics are sums over every axis but the channel axis. The input is viewed either as
(M, C) "rows" (channels innermost in memory: 2-D input, channels-last activations) or as (N, C, L)
"planes" (contiguous (N, C, ...) input), whichever its memory already is, so no pass copies it. On the
CPU the passes run as numba kernels, the engine of ``norm_engines.py``, when numba is installed; the array code
here is the reference, and serves cupy and the simulated device.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from .norm_engines import NORM_ENGINES

__all__ = ["batch_norm"]


# ----------------------------------------------------------------------------------------------
# Memory layout: (M, C) rows or (N, C, L) planes, without copying when possible
# ----------------------------------------------------------------------------------------------

def channel_view(x):
    """(view, layout) with layout "rows" for an (M, C) view or "planes" for an (N, C, L) view of x.

    Copies only when x is neither channels-innermost nor contiguous in (N, C, ...) order."""
    xp = backend.get_array_module(x)
    channels = x.shape[1]
    moved = xp.moveaxis(x, 1, -1)
    if moved.flags.c_contiguous:
        return moved.reshape(-1, channels), "rows"
    if not x.flags.c_contiguous:
        x = xp.ascontiguousarray(x)
    return x.reshape(x.shape[0], channels, -1), "planes"


def view_like(array, layout: str, shape: tuple, xp):
    """Reshape a rows/planes array back to the (N, C, ...) ``shape`` it was viewed from."""
    if layout == "planes":
        return array.reshape(shape)
    return xp.moveaxis(array.reshape(shape[:1] + shape[2:] + shape[1:2]), -1, 1)


def _per_channel(vector, layout: str):
    """Shape a (C,) vector to broadcast against rows (M, C) or planes (N, C, L)."""
    return vector if layout == "rows" else vector.reshape(1, -1, 1)


def _reduce_axes(layout: str):
    return (0,) if layout == "rows" else (0, 2)


# ----------------------------------------------------------------------------------------------
# The reference passes, in array code (the numba engine computes the same)
# ----------------------------------------------------------------------------------------------

def channel_mean_var(view, layout: str):
    """Per-channel mean and biased variance of a rows/planes view, in the view's dtype."""
    axes = _reduce_axes(layout)
    count = view.size // view.shape[1]
    mean = view.sum(axis=axes) / count
    centered = view - _per_channel(mean, layout)
    centered *= centered
    return mean, centered.sum(axis=axes) / count


def normalize(view, layout: str, mean, scale, beta):
    """y = (x - mean) * scale + beta per channel (scale = gamma / std)."""
    out = view - _per_channel(mean, layout)
    out *= _per_channel(scale, layout)
    out += _per_channel(beta, layout)
    return out


def grad_sums(grad, view, layout: str, mean):
    """Per channel: sum(dy) and sum(dy * (x - mean))."""
    axes = _reduce_axes(layout)
    centered = view - _per_channel(mean, layout)
    centered *= grad
    return grad.sum(axis=axes), centered.sum(axis=axes)


def input_grad(grad, view, layout: str, mean, dy_scale, x_scale, offset):
    """dx = dy * dy_scale - (x - mean) * x_scale - offset per channel."""
    dx = view - _per_channel(mean, layout)
    dx *= _per_channel(-x_scale, layout)
    dx += grad * _per_channel(dy_scale, layout)
    dx -= _per_channel(offset, layout)
    return dx


# The four passes above under the names the engine's methods have, so the Function calls either alike.
REFERENCE_PASSES = SimpleNamespace(channel_mean_var=channel_mean_var, normalize=normalize, grad_sums=grad_sums,
                                   input_grad=input_grad)


# ----------------------------------------------------------------------------------------------
# The Function
# ----------------------------------------------------------------------------------------------

class BatchNorm(Function):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta, per channel, with batch or running statistics."""

    def forward(self, x, weight, bias, use_batch_stats, running_mean, running_var, momentum, eps):
        xp = backend.get_array_module(x)
        view, layout = channel_view(x)
        count = view.size // view.shape[1]
        passes = self.passes = NORM_ENGINES.choose(layout, view) or REFERENCE_PASSES
        if use_batch_stats:
            mean, var = passes.channel_mean_var(view, layout)
            if running_mean is not None:
                # in place on the buffers, outside the graph; the running variance is unbiased
                running_mean *= 1.0 - momentum
                running_mean += (momentum * mean).astype(running_mean.dtype, copy=False)
                running_var *= 1.0 - momentum
                running_var += (momentum * count / (count - 1) * var).astype(running_var.dtype, copy=False)
        else:
            mean, var = running_mean.astype(x.dtype), running_var.astype(x.dtype)  # copies: the buffers may change
        inv_std = 1.0 / xp.sqrt(var + eps)
        gamma = weight if weight is not None else xp.ones_like(inv_std)
        beta = bias if bias is not None else xp.zeros_like(inv_std)
        out = passes.normalize(view, layout, mean, gamma * inv_std, beta)
        self.save_for_backward(view, mean, inv_std, gamma)
        self.layout, self.use_batch_stats, self.input_shape = layout, use_batch_stats, x.shape
        return view_like(out, layout, x.shape, xp)

    def backward(self, grad):
        xp = backend.get_array_module(grad)
        view, mean, inv_std, gamma = self.saved
        layout, shape = self.layout, self.input_shape
        needs_input, needs_weight, needs_bias = self.needs_input_grad
        grad_view = _same_layout(grad, layout, xp)
        count = view.size // view.shape[1]
        scale = gamma * inv_std
        sum_dy = sum_dy_centered = None
        if self.use_batch_stats or needs_weight or needs_bias:
            # dbeta = sum(dy),  dgamma = sum(dy * xhat) = inv_std * sum(dy * (x - mean))
            sum_dy, sum_dy_centered = self.passes.grad_sums(grad_view, view, layout, mean)
        grad_input = None
        if needs_input and self.use_batch_stats:
            # mean and var depend on x. With dxhat = dy * gamma and xhat = (x - mean) * inv_std:
            #   dx = (inv_std / M) * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
            #      = scale * dy - (x - mean) * scale * inv_std^2 * sum(dy * (x - mean)) / M - scale * sum(dy) / M
            x_scale = scale * inv_std * inv_std * sum_dy_centered / count
            dx = self.passes.input_grad(grad_view, view, layout, mean, scale, x_scale, scale * sum_dy / count)
            grad_input = view_like(dx, layout, shape, xp)
        elif needs_input:
            # running statistics are constants: dx = dy * gamma * inv_std
            grad_input = view_like(grad_view * _per_channel(scale, layout), layout, shape, xp)
        grad_weight = sum_dy_centered * inv_std if needs_weight else None
        grad_bias = sum_dy if needs_bias else None
        return grad_input, grad_weight, grad_bias


def _same_layout(grad, layout: str, xp):
    """The upstream gradient viewed like the saved input (copied when its memory order differs)."""
    channels = grad.shape[1]
    if layout == "rows":
        return xp.ascontiguousarray(xp.moveaxis(grad, 1, -1)).reshape(-1, channels)
    return xp.ascontiguousarray(grad).reshape(grad.shape[0], channels, -1)


# ----------------------------------------------------------------------------------------------
# Public function
# ----------------------------------------------------------------------------------------------

def _check_channel_vector(name: str, what: str, tensor, channels: int, device: str):
    if tensor is None:
        return None
    if not isinstance(tensor, Tensor):
        raise TypeError(f"batch_norm: {what} must be a Tensor or None, got {type(tensor).__name__}")
    if tensor.shape != (channels,):
        raise ValueError(
            f"batch_norm: {what} should have shape ({channels},) (one value per channel of the input), "
            f"got {tensor.shape}")
    if tensor.device != device:
        raise ValueError(f"batch_norm: {what} is on device {tensor.device}, the input on {device}")
    return tensor


def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over the channel axis 1, as ``torch.nn.functional.batch_norm``.

    input: (N, C), (N, C, L), (N, C, H, W) or more axes; running_mean, running_var, weight, bias: (C,)
    or None. With ``training`` (or without running statistics) the batch statistics normalize and the
    running ones, when given, are updated in place: mean <- (1-momentum)*mean + momentum*batch_mean,
    var <- (1-momentum)*var + momentum*unbiased_batch_var. ``momentum`` is a float here; the cumulative
    average of ``BatchNorm2d(momentum=None)`` is the layer's business (it passes 1/num_batches_tracked).
    Returns a tensor shaped (and laid out in memory) like the input.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...) with at least 2 dimensions, "
                         f"got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"batch_norm: expected a floating point input, got dtype {input.dtype}")
    if momentum is None or not isinstance(momentum, (int, float)):
        raise TypeError(f"batch_norm: momentum must be a float, got {momentum!r} (for a cumulative average "
                        "pass 1/num_batches_tracked, as BatchNorm layers with momentum=None do)")
    channels, device = input.shape[1], input.device
    running_mean = _check_channel_vector("batch_norm", "running_mean", running_mean, channels, device)
    running_var = _check_channel_vector("batch_norm", "running_var", running_var, channels, device)
    weight = _check_channel_vector("batch_norm", "weight", weight, channels, device)
    bias = _check_channel_vector("batch_norm", "bias", bias, channels, device)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must both be None or both be given")
    use_batch_stats = training or running_mean is None
    if use_batch_stats and math.prod(input.shape) // channels <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                         f"shape {input.shape}")
    for what, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tensor.dtype != input.dtype:
            raise TypeError(f"batch_norm: {what} has dtype {tensor.dtype}, the input {input.dtype}")
    return BatchNorm.apply(
        input, weight, bias,
        use_batch_stats=use_batch_stats,
        running_mean=None if running_mean is None else running_mean.array,
        running_var=None if running_var is None else running_var.array,
        momentum=float(momentum), eps=float(eps),
    )
