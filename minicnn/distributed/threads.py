"""How many CPU threads one rank uses: the cores of a machine shared among the ranks on it."""
from __future__ import annotations

import os

from . import environment


def default_threads_per_rank() -> int:
    """The machine's cores (those this process may run on) divided among the ranks on this machine."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, environment.local_world_size()))


def set_threads_per_rank(count: int) -> None:
    """Let this process use ``count`` threads: BLAS, minicnn's own thread pool, numba's kernels."""
    from ..cpu import blas_threads  # the one place that reaches into the CPU threading modules

    count = max(1, int(count))
    controller = blas_threads._controller()
    if controller is not None:
        controller.set_num_threads(count)
    blas_threads._state["maximum"] = count  # minicnn.cpu.parallel sizes its pool from this
    try:
        import numba

        numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    except (ImportError, ValueError):
        pass
