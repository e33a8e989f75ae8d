"""Matrix products for every Function: ``xp.matmul``, and an engine that picks the BLAS thread count on the CPU.

Waking BLAS's worker threads costs tens of microseconds on an idle machine and up to tens of
milliseconds on a loaded one (``minicnn/cpu/blas_threads.py``), so the engine runs small host products
on the calling thread alone and large ones on every thread BLAS has. The result is the same product.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..cpu import blas_threads
from ..engines import Engine, EngineTable


class SmallProductsOnOneThread(Engine):
    name = "small-products-on-one-blas-thread"
    why = "a host product below 2^25 flops runs faster on one BLAS thread than waking the others"

    def applies(self, flops, a) -> bool:
        return isinstance(a, np.ndarray)

    def forward(self, a, b, out, flops):
        with blas_threads.threads_for(flops):
            return np.matmul(a, b) if out is None else np.matmul(a, b, out=out)


PRODUCT_ENGINES = EngineTable("matmul", [SmallProductsOnOneThread()])


def matmul(a, b, out=None):
    """``xp.matmul(a, b, out=out)`` for arrays of any device."""
    rows = a.shape[-2] if a.ndim >= 2 else 1
    columns = b.shape[-1] if b.ndim >= 2 else 1
    flops = 2.0 * max(a.size * columns, b.size * rows)  # 2*M*K*N, any batch of either operand counted in
    engine = PRODUCT_ENGINES.choose(flops, a)
    if engine is not None:
        return engine.forward(a, b, out, flops)
    xp = backend.get_array_module(a)
    return xp.matmul(a, b) if out is None else xp.matmul(a, b, out=out)


def column_sums(matrix):
    """``matrix.sum(axis=0)`` of a 2-D array (M, N), computed as ones(M) . matrix.

    numpy reduces axis 0 of a C-contiguous array one row at a time, which is slow for the tall,
    narrow matrices of bias gradients: LeNet-5's first convolution, (50176, 6), took 0.67 ms that
    way and 0.08 ms as a product (the product also adds with less rounding error than row by row)."""
    xp = backend.get_array_module(matrix)
    if matrix.ndim != 2 or matrix.dtype.kind != "f" or matrix.shape[0] < 2:
        return matrix.sum(axis=0)
    return matmul(xp.ones(matrix.shape[0], dtype=matrix.dtype), matrix)
