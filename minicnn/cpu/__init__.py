"""The CPU speed machinery the engines use: thread pool, BLAS thread control, malloc tuning, scratch, kernels.

    parallel.py      work split across the cores with Python threads (one BLAS thread each)
    blas_threads.py  how many threads numpy's BLAS may use for one product, and across a fork
    threads.py       ``set_num_threads()`` / ``get_num_threads()``: the process's thread count, torch's names
    host_memory.py   ``keep_freed_memory()``: opt-in malloc tuning, no page faults on every step's arrays
    scratch.py       per-thread reusable buffers for temporaries (cols, Winograd tiles)
    kernels/         numba kernels (im2col's col2im, depthwise, direct and Winograd convolution, pooling,
                     batch norm), each with an array-code reference in ``minicnn/functional``

Only the engines (``minicnn/functional/**/engines``, ``*_engines.py``) import this package; the layers,
the autograd and the optimizers never do (they may take the public names below from ``minicnn.cpu``).
"""
from .blas_threads import forking_single_threaded, restore_after_fork
from .host_memory import keep_freed_memory
from .threads import get_num_threads, set_num_threads

__all__ = ["forking_single_threaded", "get_num_threads", "keep_freed_memory", "restore_after_fork",
           "set_num_threads"]
