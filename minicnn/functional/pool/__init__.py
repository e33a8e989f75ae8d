"""Pooling: max, average, and their adaptive forms, over the last two axes of (N, C, H, W) input.

A pooling window at output (oh, ow) covers the input rows ``oh*stride - padding + i*dilation`` for
``i < kernel`` (the same for columns). Instead of gathering every window (im2col), the forward pass
walks the kernel positions: for position (i, j) the input values of all windows at once form one
strided view of the (padded) input, ``source[:, :, i*d : ... : stride, j*d : ... : stride]``, of the
output's shape. Max pooling keeps a running maximum over these views (and which position won), average
pooling a running sum. The backward pass walks the same views and adds the gradient into them.

Sizes follow torch exactly (``torch.nn.functional`` names, argument order and defaults): stride
defaults to kernel_size, padding is at most half the kernel, and with ceil_mode the last window may
hang off the end but must start inside the input or the left padding.

Where things are:

    geometry.py     ``PoolGeometry``, torch's output size rule, the argument checks
    windows.py      THE REFERENCE windows: padding, strided window views, running maximum, scatter
    max_pool.py     ``max_pool2d`` and its Function          avg_pool.py   ``avg_pool2d`` and its Function
    adaptive.py     adaptive (and global) average and max pooling, on top of the two above
    engines.py      the numba max-pooling engine of the CPU, and the table that chooses it
"""
from .adaptive import adaptive_avg_pool2d, adaptive_max_pool2d
from .avg_pool import avg_pool2d
from .geometry import PoolGeometry, pooled_size
from .max_pool import max_pool2d

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"]
