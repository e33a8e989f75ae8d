"""The engine of SGD's update on the CPU: one numba pass per parameter (``cpu/kernels/optimizer_kernels.py``),
large parameters split across the cores.

It applies to host float parameters whose gradient (and momentum buffer) have the parameter's shape,
dtype and C order; others, cupy and the simulated device take the array code in ``optim/sgd.py``.
"""
from __future__ import annotations

import numpy as np

from ..cpu import parallel
from ..cpu.kernels import optimizer_kernels
from ..engines import Engine, EngineTable


def fits(param, other) -> bool:
    """``other`` can be read element for element with ``param``: same shape, dtype and C order."""
    return (type(other) is np.ndarray and other.dtype == param.dtype and other.shape == param.shape
            and other.flags.c_contiguous)


class FusedSGDKernel(Engine):
    name = "numba-sgd"
    why = "host float parameters: the whole update in one pass over parameter, gradient and buffer (array code: six)"

    def applies(self, geometry, param) -> bool:
        grad, buffer = geometry
        return (optimizer_kernels.usable(param) and param.flags.c_contiguous and param.flags.writeable
                and fits(param, grad) and (buffer is None or fits(param, buffer)))

    def step(self, param, grad, buffer, weight_decay, momentum, dampening, nesterov, maximize, lr):
        """Update ``param`` (and ``buffer``) in place; returns the momentum buffer, a new one on the
        first step with momentum, None without momentum."""
        first = momentum != 0 and buffer is None
        if first:
            buffer = np.empty_like(param)
        constants = optimizer_kernels.sgd_constants(param.dtype, weight_decay, momentum, dampening, lr)
        flat_param, flat_grad = param.reshape(-1), grad.reshape(-1)
        flat_buffer = flat_param if buffer is None else buffer.reshape(-1)  # unread without momentum
        flags = (weight_decay != 0, bool(maximize), momentum != 0, dampening != 0, bool(nesterov), first)

        def share(start, stop):
            optimizer_kernels.sgd_into(flat_param[start:stop], flat_grad[start:stop], flat_buffer[start:stop],
                                       constants, *flags)

        if param.size < parallel.MINIMUM_SPLIT_ELEMENTS:  # most parameters: no thread to wake, no BLAS to set
            share(0, param.size)
        else:
            parallel.over_leading_axis(share, param.size, param.size)
        return buffer


SGD_ENGINES = EngineTable("sgd", [FusedSGDKernel()])
