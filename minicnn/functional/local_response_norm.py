"""Local response normalisation (Krizhevsky et al., 2012): each activation is divided by a power of the
energy of its neighbours across channels, a "lateral inhibition" between feature maps.

With n = size, the window of channel c is W(c) = [c - n//2, c + (n-1)//2] (clipped to the channels
that exist, the missing ones counting as zeros, as torch pads them), and

    s_c = sum_{j in W(c)} x_j^2,    d_c = k + (alpha / n) s_c,    y_c = x_c d_c^(-beta).

torch divides alpha by n (it averages the squares); the 2012 paper does not, so its alpha = 1e-4 is
torch's alpha = n * 1e-4.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor

__all__ = ["local_response_norm"]


def _channel_window_sum(values, before: int, after: int):
    """out[:, c] = sum of values[:, j] for j in [c - before, c + after] inside the channel range."""
    xp = backend.get_array_module(values)
    out = xp.zeros_like(values)
    channels = values.shape[1]
    for offset in range(-before, after + 1):  # a window of a handful of channels: one slice add each
        lo, hi = max(0, -offset), min(channels, channels - offset)
        if lo < hi:
            out[:, lo:hi] += values[:, lo + offset:hi + offset]
    return out


class LocalResponseNorm(Function):
    def forward(self, x, size, alpha, beta, k):
        before, after = size // 2, (size - 1) // 2
        denominator = _channel_window_sum(x * x, before, after) * (alpha / size) + k
        scale = denominator ** -beta
        y = x * scale
        self.save_for_backward(x, y, denominator, scale)
        self.window = (before, after)
        self.coefficient = 2.0 * alpha * beta / size
        return y

    def backward(self, grad):
        # y_c = x_c d_c^-beta with d_c = k + (alpha/n) sum_{j in W(c)} x_j^2, so
        #   dL/dx_j = g_j d_j^-beta + sum_{c: j in W(c)} g_c x_c (-beta) d_c^(-beta-1) (alpha/n) 2 x_j
        #           = g_j d_j^-beta - (2 alpha beta / n) x_j sum_{c: j in W(c)} g_c y_c / d_c.
        # j lies in W(c) exactly when c lies in [j - (n-1)//2, j + n//2]: the window mirrored.
        x, y, denominator, scale = self.saved
        before, after = self.window
        mirrored = _channel_window_sum(grad * y / denominator, after, before)
        return grad * scale - self.coefficient * x * mirrored


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalise ``input`` (N, C, *) over windows of ``size`` neighbouring channels (see the module
    docstring for the formula: torch's, with alpha divided by size). Returns the same shape."""
    if not isinstance(input, Tensor):
        raise TypeError(f"local_response_norm: expected a Tensor, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected a 3-d or higher input (N, C, *), got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"local_response_norm: expected a floating point tensor, got dtype {input.dtype}")
    if int(size) != size or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive integer, got {size}")
    if input.numel() == 0:
        return input * 1.0
    return LocalResponseNorm.apply(input, size=int(size), alpha=float(alpha), beta=float(beta), k=float(k))
