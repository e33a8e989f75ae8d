"""The engines of relu and hardswish on the CPU: one numba pass forward and one backward
(``cpu/kernels/activation_kernels.py``), relu's split across the cores for large arrays.

They apply to host float arrays whose elements fill one block of memory in some axis order (plain
C order, or channels-last: what convolutions and batch norm hand on), and writes its result in the
same order, as the array code does. Other arrays, cupy and the simulated device take the array code.
"""
from __future__ import annotations

import numpy as np

from ..cpu import parallel
from ..cpu.kernels import activation_kernels
from ..engines import Engine, EngineTable
from .elementwise_engines import SharesOnEveryCore


def flat_memory(array):
    """A 1-D view of ``array``'s elements in memory order, or None when they do not fill one block."""
    if array.flags.c_contiguous:
        return array.reshape(-1)
    if array.ndim == 4:  # channels-last, what convolutions hand on: found without sorting the strides
        channels_last = array.transpose(0, 2, 3, 1)
        if channels_last.flags.c_contiguous:
            return channels_last.reshape(-1)
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


# relu's kernels stay on the calling thread below this many elements: they run one read and one
# write per element, some 8x faster than numpy's ufuncs, so handing half to another thread costs more
# than it saves until the arrays leave the cache. One pass, one thread against two shares, in us
# (AMD EPYC, 2 cores; forward with its mask / backward):
#   301,056 (LeNet-5's first activations):  47 / 42 against 88 / 96
#   524,288:                                94 / 77 against 137 / 141
#   1,048,576:                             196 / 193 against 181 / 172
#   2,097,152:                             979 / 1914 against 445 / 1084
RELU_SPLIT_ELEMENTS = 1 << 20


class ReluKernels(Engine):
    name = "numba-relu"
    why = "host float arrays in one block of memory: output and mask in one pass, the gradient in one; large arrays on every core"

    def applies(self, geometry, x) -> bool:
        return activation_kernels.usable(x) and x.size > 0 and flat_memory(x) is not None

    def forward(self, x, keep_mask: bool):
        """(max(x, 0), the mask ``not x <= 0`` or None when none is wanted), both laid out like x."""
        out = np.empty_like(x)
        flat_x, flat_out = flat_memory(x), flat_memory(out)
        if keep_mask:
            passes = np.empty_like(x, dtype=np.bool_)
            flat_passes = flat_memory(passes)

            def share(start, stop):
                activation_kernels.relu_into(flat_x[start:stop], flat_out[start:stop], flat_passes[start:stop])
        else:
            passes = None

            def share(start, stop):
                activation_kernels.relu_no_mask_into(flat_x[start:stop], flat_out[start:stop])

        parallel.over_leading_axis(share, x.size, x.size, RELU_SPLIT_ELEMENTS)
        return out, passes

    def backward(self, passes, grad):
        """dx laid out like grad; None when grad's memory order is not the mask's (the array code runs)."""
        if not self.applies(None, grad) or grad.strides != tuple(s * grad.itemsize for s in passes.strides):
            return None
        out = np.empty_like(grad)
        flat_grad, flat_passes, flat_out = flat_memory(grad), flat_memory(passes), flat_memory(out)

        def share(start, stop):
            activation_kernels.relu_grad_into(flat_grad[start:stop], flat_passes[start:stop], flat_out[start:stop])

        parallel.over_leading_axis(share, grad.size, grad.size, RELU_SPLIT_ELEMENTS)
        return out


class ReluShares(SharesOnEveryCore):
    name = "relu-shares-on-every-core"
    why = "without numba, or for gapped arrays: numpy's ufuncs on a share of the batch per core"

    def forward(self, x, keep_mask: bool):
        out = np.empty_like(x)  # keeps x's memory layout
        passes = np.empty_like(x, dtype=np.bool_) if keep_mask else None

        def share(start, stop):
            np.maximum(x[start:stop], 0, out=out[start:stop])
            if keep_mask:
                np.less_equal(x[start:stop], 0, out=passes[start:stop])
                np.logical_not(passes[start:stop], out=passes[start:stop])

        parallel.over_leading_axis(share, len(x), x.size)
        return out, passes

    def backward(self, passes, grad):
        if not self.applies(None, grad):
            return None
        out = np.zeros_like(grad)

        def share(start, stop):
            np.copyto(out[start:stop], grad[start:stop], where=passes[start:stop])

        parallel.over_leading_axis(share, len(grad), grad.size)
        return out


RELU_ENGINES = EngineTable("relu", [ReluKernels(), ReluShares()])
