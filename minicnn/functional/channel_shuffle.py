"""Channel shuffle (ShuffleNet, Zhang et al. 2018): interleave the channels of ``groups`` groups, so the
next grouped convolution sees channels from every group of the previous one.

View the C channels as a (groups, C / groups) grid and read it column by column: output channel
i * groups + g is input channel g * (C / groups) + i. A permutation, so its backward is the inverse
permutation: the same shuffle with the grid's sides swapped (C / groups groups).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor

__all__ = ["channel_shuffle"]


def _shuffle(array, groups: int):
    xp = backend.get_array_module(array)
    n, channels = array.shape[:2]
    rest = array.shape[2:]
    grid = array.reshape(n, groups, channels // groups, *rest)
    return xp.ascontiguousarray(xp.swapaxes(grid, 1, 2)).reshape(array.shape)


class ChannelShuffle(Function):
    def forward(self, x, groups):
        self.groups = groups
        return _shuffle(x, groups)

    def backward(self, grad):
        # y[:, i * g + j] = x[:, j * (C/g) + i]: dx[:, j * (C/g) + i] = dy[:, i * g + j], which is the
        # shuffle of dy with C/g groups (the inverse permutation)
        return _shuffle(grad, grad.shape[1] // self.groups)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Shuffle the channels of ``input`` (N, C, *) across ``groups`` groups (C divisible by groups)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"channel_shuffle: expected a Tensor, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(f"channel_shuffle: expected a 3-d or higher input (N, C, *), got shape {input.shape}")
    if int(groups) != groups or groups < 1:
        raise ValueError(f"channel_shuffle: groups must be a positive integer, got {groups}")
    if input.shape[1] % groups:
        raise ValueError(f"channel_shuffle: the number of channels ({input.shape[1]}) must be divisible by "
                         f"groups ({groups})")
    return ChannelShuffle.apply(input, groups=int(groups))
