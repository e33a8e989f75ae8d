"""The process's CPU thread count, torch's ``set_num_threads`` / ``get_num_threads``: one number for
numpy's BLAS, minicnn's own thread pool (``parallel.py`` sizes itself from BLAS) and numba's kernels."""
from __future__ import annotations

import numbers
import sys

from . import blas_threads


def get_num_threads() -> int:
    """How many threads the CPU work of this process uses (BLAS's count; 1 when BLAS cannot be controlled)."""
    return blas_threads.maximum_threads()


def set_num_threads(count: int) -> None:
    """Let this process use ``count`` threads: BLAS, minicnn's thread pool, numba's kernels (numba at most
    as many as it started with). Like torch, a non-int or a count below 1 raises RuntimeError."""
    if isinstance(count, bool) or not isinstance(count, numbers.Integral):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(count).__name__}")
    if count < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    blas_threads.set_maximum_threads(int(count))
    _set_numba_threads(int(count))


def _set_numba_threads(count: int) -> None:
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if parallel is not None and not getattr(parallel, "_is_initialized", True):
        # Setting the count now would start numba's pool (a fresh DataLoader worker, say): have it
        # start with at most ``count`` threads instead, when it first runs a parallel kernel.
        parallel.NUM_THREADS = min(count, parallel.NUM_THREADS)
        return
    try:
        import numba

        numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    except (ImportError, ValueError):
        pass
