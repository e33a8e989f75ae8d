"""The engine of hardswish on the CPU: one numba pass forward and one backward (``cpu/kernels/activation_kernels.py``).

It applies to host float arrays whose elements fill one block of memory in some axis order (plain
C order, or channels-last: what convolutions and batch norm hand on), and writes its result in the
same order, as the array code does. Other arrays, cupy and the simulated device take the array code.
"""
from __future__ import annotations

import numpy as np

from ..cpu.kernels import activation_kernels
from ..engines import Engine, EngineTable


def flat_memory(array):
    """A 1-D view of ``array``'s elements in memory order, or None when they do not fill one block."""
    if array.flags.c_contiguous:
        return array.reshape(-1)
    order = np.argsort([-abs(stride) for stride in array.strides], kind="stable")
    in_memory_order = array.transpose(order)
    return in_memory_order.reshape(-1) if in_memory_order.flags.c_contiguous else None


class HardSwishKernels(Engine):
    name = "numba-hardswish"
    why = "host float arrays in one block of memory: one pass instead of four (forward) and six (backward)"

    def applies(self, geometry, x) -> bool:
        return activation_kernels.usable(x) and x.size > 0 and flat_memory(x) is not None

    def forward(self, x):
        out = np.empty_like(x)  # same strides as x, so its memory order is x's
        activation_kernels.hardswish_into(flat_memory(x), flat_memory(out), activation_kernels.constants(x.dtype))
        return out

    def backward(self, x, grad):
        """dx laid out like x; None when grad's memory order is not x's (the array code then runs)."""
        if grad.strides != x.strides or grad.dtype != x.dtype:
            return None
        out = np.empty_like(x)
        activation_kernels.hardswish_grad_into(flat_memory(x), flat_memory(grad), flat_memory(out),
                                               activation_kernels.constants(x.dtype))
        return out


HARDSWISH_ENGINES = EngineTable("hardswish", [HardSwishKernels()])
