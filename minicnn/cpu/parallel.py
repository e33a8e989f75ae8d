"""Work split across the CPU cores with Python threads, each running one-thread BLAS and nogil kernels.

numpy releases the GIL inside its copies and BLAS products, and the numba kernels are compiled
``nogil``, so Python threads run them side by side. Splitting the work ourselves, rather than
letting BLAS split each product, lets a thread do a whole chunk (copy, product, copy) while its data
is still in its core's cache. There are as many threads as BLAS was started with.
"""
from __future__ import annotations

import functools
import math
import os
import threading

import numpy as np

from . import blas_threads
from .crew import Crew

_crew_lock = threading.Lock()
_crew = {"crew": None}


def workers() -> int:
    """How many threads share the work: the BLAS thread count (``OPENBLAS_NUM_THREADS``, ...)."""
    return blas_threads.maximum_threads()


def chunk_size(count: int, by_cache: int) -> int:
    """Items per chunk: at most ``by_cache``, and small enough for two chunks per thread, so that a
    thread slowed by other work on the machine leaves its second chunk to the others."""
    return max(1, min(by_cache, math.ceil(count / (2 * workers()))))


def run_chunks(task, count: int, per_chunk: int) -> None:
    """Run ``task(start, stop)`` over range(count) in chunks of ``per_chunk`` on every thread; threads
    take the next chunk as they finish one. What the tasks return is ignored."""
    _on_threads(task, count, per_chunk, add_up=False)


def sum_of_chunks(task, count: int, per_chunk: int):
    """Like ``run_chunks``, but returns the sum of what the tasks returned (arrays of one shape).
    Each thread adds into its own total (its first result, reused), and the totals are added last."""
    return add_up([total for total in _on_threads(task, count, per_chunk, add_up=True) if total is not None])


def add_up(arrays):
    """The sum of arrays of one shape, added into the first (which the callers own)."""
    total = arrays[0]
    for array in arrays[1:]:
        total += array
    return total


def _on_threads(task, count, per_chunk, add_up):
    starts = iter(range(0, count, per_chunk))
    lock = threading.Lock()

    def worker():
        total = None
        while True:
            with lock:
                start = next(starts, None)
            if start is None:
                return total
            share = task(start, min(start + per_chunk, count))
            if add_up:
                if total is None:
                    total = share
                else:
                    total += share

    if count <= per_chunk or workers() == 1:  # nothing to share: no thread to wake
        with single_threaded_blas():
            return [worker()]
    with single_threaded_blas():  # the calling thread works too
        return _crew_of(workers()).run(worker, [worker] * (workers() - 1))


# Below this many elements an elementwise pass runs on the calling thread in one go: waking the
# other threads costs about 0.05 ms, what one core needs for some 2^18 float32 additions.
MINIMUM_SPLIT_ELEMENTS = 1 << 18


def over_leading_axis(task, length: int, elements: int, minimum: int | None = None) -> None:
    """``task(start, stop)`` once per thread over its share of a leading axis of ``length`` (see
    ``per_thread``), or once over all of it when the arrays hold fewer than ``minimum`` elements
    (default ``MINIMUM_SPLIT_ELEMENTS``; a pass faster per element than numpy's ufuncs gives its own).
    For the short passes between convolutions: ReLU, residual additions, batch norm, pooling (numpy's
    ufuncs and the nogil kernels release the GIL)."""
    if elements < (MINIMUM_SPLIT_ELEMENTS if minimum is None else minimum):
        with single_threaded_blas():
            task(0, length)
    else:
        per_thread(task, length)


def sum_over_leading_axis(task, length: int, elements: int):
    """Like ``over_leading_axis``, but returns the sum of what the shares returned (arrays of one shape)."""
    if elements < MINIMUM_SPLIT_ELEMENTS:
        with single_threaded_blas():
            return task(0, length)
    return add_up(per_thread(task, length))


def per_thread(task, count: int) -> list:
    """``task(start, stop)`` once per thread, on contiguous shares of range(count): the calling thread
    takes the first share, the worker threads one each of the others. Returns what the tasks returned,
    in share order.

    Unlike ``run_chunks``, nothing is rebalanced when a thread is slow; in return, passes one after
    the other give the same images to the same threads (on 2 cores, exactly), so a share of a
    convolution's output is still in the cache of the core that reads it next. For LeNet-5's
    inference, made of passes under 1 ms, this took 2.4 ms down to 2.2 ms against chunks handed out
    two per thread as threads came free."""
    share = -(-count // workers()) if count else 1
    starts = list(range(0, count, share)) or [0]
    with single_threaded_blas():
        if len(starts) == 1:
            return [task(0, count)]
        theirs = [functools.partial(task, start, min(start + share, count)) for start in starts[1:]]
        return _crew_of(workers()).run(functools.partial(task, 0, min(share, count)), theirs)


def single_threaded_blas():
    """``with single_threaded_blas():`` BLAS runs every product on the calling thread.

    Used around the split work, and around the small products next to it: a product on all threads
    leaves BLAS's workers spinning for a while after it, taking the cores from the Python threads
    (one 75-MFLOP Winograd weight transform made the next convolution 1.7x slower)."""
    return blas_threads.threads_for(0)


def _crew_of(count):
    """The worker threads (``crew.py``) for ``count`` threads in all, the caller one of them."""
    with _crew_lock:
        crew = _crew["crew"]
        if crew is None or crew.size != count - 1 or not crew.usable:
            if crew is not None:  # the thread count changed, or an interrupted run left it: let it go
                crew.retire()
            crew = _crew["crew"] = Crew(count - 1)
        return crew


def _forget_pool_after_fork():
    """In a forked child only the forking thread lives on: the inherited pool's workers are gone, and
    work handed to them would wait forever. The child starts a pool of its own when it needs one."""
    global _crew_lock
    _crew_lock = threading.Lock()
    _crew["crew"] = None


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def matmul(a, b, out=None):
    """``np.matmul(a, b, out=out)`` for a (..., M, K) and b (..., K, N), split across the threads:
    into blocks of rows of ``a`` when M >= N, else into blocks of columns of ``b``. Each block is
    one single-threaded BLAS product (see ``single_threaded_blas`` for why not BLAS's threads)."""
    if out is None:
        out = np.empty(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1]),
                       dtype=np.result_type(a, b))
    rows, columns = a.shape[-2], b.shape[-1]
    if rows >= columns:
        def block(start, stop):
            np.matmul(a[..., start:stop, :], b, out=out[..., start:stop, :])
        count = rows
    else:
        def block(start, stop):
            np.matmul(a, b[..., start:stop], out=out[..., start:stop])
        count = columns
    run_chunks(block, count, max(1, -(-count // workers())))
    return out
