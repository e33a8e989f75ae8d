"""The engines of max pooling: numba kernels on the CPU, one pass over each window instead of KH*KW views.

The reference (``windows.py``) makes KH*KW passes over the output, one per window position. The
kernels of ``minicnn/cpu/kernels/pool_kernels.py`` visit each window once, on the cores' shares of the
samples, with the same rule (first maximum wins a tie, NaN wins, padding never does).
"""
from __future__ import annotations

import numpy as np

from ...cpu.kernels import pool_kernels
from ...engines import Engine, EngineTable
from ..layout import empty_in_layout
from .windows import winner_dtype


class MaxPoolKernels(Engine):
    name = "numba-windows"
    why = "host float arrays of 2^14+ outputs: one pass per window on every core (below that, numpy's passes win)"

    def applies(self, geometry, x) -> bool:
        n, c = x.shape[:2]
        return pool_kernels.usable(x, n * c * geometry.output[0] * geometry.output[1])

    def forward(self, x, geometry, layout_channels_last: bool):
        """(max (N, C, OH, OW), winner: the row-major window position of each max), in x's layout."""
        shape = x.shape[:2] + tuple(geometry.output)
        out = empty_in_layout(np, shape, x.dtype, layout_channels_last)
        kernel_h, kernel_w = geometry.kernel
        winner = empty_in_layout(np, shape, winner_dtype(kernel_h * kernel_w), layout_channels_last)
        pool_kernels.max_over_windows(x, out, winner, geometry)
        return out, winner

    def backward(self, grad, winner, geometry, input_shape, layout_channels_last: bool):
        """dX (input_shape, in the given layout): each dY added at its window's winner."""
        grad_input = empty_in_layout(np, input_shape, grad.dtype, layout_channels_last)
        pool_kernels.scatter_window_max(grad, winner, grad_input, geometry)  # zeroes it, share by share
        return grad_input


MAX_POOL_ENGINES = EngineTable("max_pool2d", [MaxPoolKernels()])
