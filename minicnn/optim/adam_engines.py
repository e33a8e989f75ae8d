"""The engine of Adam's and AdamW's update on the CPU: one numba pass per parameter
(``cpu/kernels/optimizer_kernels.py``), large parameters split across the cores.

It applies to host float parameters whose gradient and moment buffers have the parameter's shape, dtype
and C order; others, cupy and the simulated device take the array code in ``optim/adam.py``.
"""
from __future__ import annotations

from ..cpu import parallel
from ..cpu.kernels import optimizer_kernels
from ..engines import Engine, EngineTable
from .sgd_engines import fits


class FusedAdamKernel(Engine):
    name = "numba-adam"
    why = "host float parameters: the whole update in one pass over parameter, gradient and moments (array code: about twelve)"

    def applies(self, buffers, param) -> bool:
        return (optimizer_kernels.usable(param) and param.flags.c_contiguous and param.flags.writeable
                and all(buffer is None or fits(param, buffer) for buffer in buffers))

    def step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, lr, betas, eps, weight_decay, decoupled,
             maximize, step_size, bias_correction2_sqrt):
        """Update ``param`` and the moments in place (``max_exp_avg_sq`` None without amsgrad)."""
        amsgrad = max_exp_avg_sq is not None
        constants = optimizer_kernels.adam_constants(param.dtype, lr, betas[0], betas[1], eps, weight_decay,
                                                     step_size, bias_correction2_sqrt)
        arrays = (param, grad, exp_avg, exp_avg_sq) + ((max_exp_avg_sq,) if amsgrad else ())
        flat = [array.reshape(-1) for array in arrays]
        kernel = optimizer_kernels.adam_amsgrad_into if amsgrad else optimizer_kernels.adam_into
        flags = (weight_decay != 0 and not decoupled, weight_decay != 0 and decoupled, bool(maximize))

        def share(start, stop):
            kernel(*(array[start:stop] for array in flat), constants, *flags)

        if param.size < parallel.MINIMUM_SPLIT_ELEMENTS:  # most parameters: no thread to wake
            share(0, param.size)
        else:
            parallel.over_leading_axis(share, param.size, param.size)


ADAM_ENGINES = EngineTable("adam", [FusedAdamKernel()])
