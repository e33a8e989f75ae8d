"""How many CPU threads one rank uses: the cores of a machine shared among the ranks on it."""
from __future__ import annotations

import os

from ..cpu import set_num_threads
from . import environment


def default_threads_per_rank() -> int:
    """The machine's cores (those this process may run on) divided among the ranks on this machine."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, environment.local_world_size()))


def set_threads_per_rank(count: int) -> None:
    """Let this process use ``count`` threads (at least 1): BLAS, minicnn's own thread pool, numba's kernels."""
    set_num_threads(max(1, int(count)))
