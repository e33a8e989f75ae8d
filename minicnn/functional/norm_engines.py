"""The engine of batch normalization on the CPU: its four passes as numba kernels, on every core.

Each pass of ``norm.py`` (channel mean and variance, normalize, the two gradient sums, the input
gradient) is several numpy passes over the activations; a kernel in ``minicnn/cpu/kernels/norm_kernels.py``
does it in one, in shares of rows (or images) on the threads of ``minicnn/cpu/parallel.py``.
"""
from __future__ import annotations

from ..cpu.kernels import norm_kernels
from ..engines import Engine, EngineTable


class NormKernels(Engine):
    """The passes of ``norm.py`` under the same names and arguments, for a rows/planes ``layout``."""

    name = "numba-passes"
    why = "host float arrays: one fused pass per step instead of several numpy passes over the activations"

    def applies(self, layout, view) -> bool:
        return norm_kernels.usable(view)

    channel_mean_var = staticmethod(norm_kernels.channel_mean_var)
    normalize = staticmethod(norm_kernels.normalize)
    grad_sums = staticmethod(norm_kernels.grad_sums)
    input_grad = staticmethod(norm_kernels.input_grad)


NORM_ENGINES = EngineTable("batch_norm", [NormKernels()])
