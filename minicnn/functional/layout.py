"""Memory layouts of (N, C, H, W) arrays: plain NCHW, or channels-last (NHWC memory seen as NCHW).

Convolutions return channels-last views; pooling, batch norm and the direct convolution read either
layout as it comes and write their results in a layout they choose with these helpers.
"""
from __future__ import annotations


def channels_last(array) -> bool:
    """True when the channel axis of an (N, C, H, W) array varies fastest in memory."""
    return array.ndim == 4 and array.shape[1] > 1 and array.strides[1] < array.strides[3]


def empty_in_layout(xp, shape, dtype, in_channels_last: bool):
    """An uninitialised (N, C, H, W) array, stored channels-last when asked."""
    if not in_channels_last:
        return xp.empty(shape, dtype=dtype)
    n, c, h, w = shape
    return xp.empty((n, h, w, c), dtype=dtype).transpose(0, 3, 1, 2)
