"""Keep freed host memory in the process, so the next step's arrays reuse it without page faults.

A training step allocates and frees the same arrays every time: activations, gradients, their
temporaries. By default glibc's ``malloc`` serves an array above 128 kB to a few MB with a fresh
``mmap`` and gives it back to the kernel when numpy frees it, so the next step's array of the same
size starts on pages the kernel has to fault in and zero again. A CIFAR ResNet-18 step at batch 32
took 9,500 such page faults; LeNet-5 at batch 64, 630 (``resource.getrusage().ru_minflt``).

``keep_freed_memory()`` asks glibc to serve blocks up to ``MMAP_THRESHOLD_BYTES`` from its heap and
not to return freed heap memory to the kernel. Measured on a 2-core machine: the ResNet-18 step went
from 574 to 553 ms and the LeNet-5 step from 10.5 to 9.4 ms, with 5 and 0 page faults per step; the
peak RSS did not change (560 and 565 MB): the memory held is the memory the step needed anyway.

The first step still grows the heap, and so does the second: the first step's one-time work
(numba loading each kernel it calls for the first time) leaves small, long-lived blocks between the
arrays it frees, so the second step's arrays do not all fit where the first step's were, and the
heap grows by a few MB of fresh pages. On a 2-core virtual machine each such page fault cost about
3.5 us of CPU, and LeNet-5's second inference step took 489 of them, its second training step 664
(1.5x and 1.3x the steady step). So ``keep_freed_memory()`` also faults in ``RESERVE_BYTES`` of heap
at once (one block, written and freed, left in the heap): the steps' arrays then land on pages that
are already there. LeNet-5's second steps: 1 and 0 page faults; the reserve costs about 30 ms when
it is made and, for a process whose steps need less, up to 31 MB of resident memory (LeNet-5: 11 MB).

Importing minicnn leaves malloc alone: a library must not retune the allocator of the program that
imports it. The command line, ``minicnn.training.fit`` and the benchmarks turn it on for their own
process, on Linux with glibc; so can a user, with ``minicnn.cpu.keep_freed_memory()``. The cost is
that memory freed by the process stays its own (as GPU frameworks' caching allocators do with device
memory). ``MINICNN_KEEP_FREED_MEMORY=0`` in the environment makes it a no-op, to measure without it.
"""
from __future__ import annotations

import ctypes
import os
import sys

# mallopt parameter numbers, from glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# glibc's largest allowed mmap threshold on 64-bit (32 MB): bigger blocks are still mapped afresh
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
# freed memory at the top of the heap is only trimmed above this (1 GB)
TRIM_THRESHOLD_BYTES = 1 << 30
# heap faulted in ahead of the first steps: the largest block malloc then serves from the heap
RESERVE_BYTES = MMAP_THRESHOLD_BYTES - (1 << 20)

_state = {"applied": False}


def keep_freed_memory(reserve_bytes: int = RESERVE_BYTES) -> bool:
    """Tune glibc's malloc as described above, for the whole process, and fault in ``reserve_bytes`` of
    heap (at most ``RESERVE_BYTES``; 0 for none); True when it took effect (False on other systems, or
    when ``MINICNN_KEEP_FREED_MEMORY=0``)."""
    if _state["applied"]:
        return True
    if not enabled_by_environment() or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library already loaded (find_library would run ldconfig)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; the trim threshold is set first so that a failure of the second
    # call leaves the usual dynamic behaviour of the mmap threshold
    done = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1
    done = done and mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    if done and reserve_bytes > 0:
        _fault_in_heap(min(reserve_bytes, RESERVE_BYTES))  # a larger block would be mapped apart and given back
    _state["applied"] = done
    return done


def _fault_in_heap(size: int) -> None:
    """Grow the heap by a block of ``size`` bytes, write it (the kernel maps its pages now) and free it:
    with the thresholds above, malloc keeps it as free heap for the arrays to come."""
    libc = ctypes.CDLL(None)
    libc.malloc.argtypes, libc.malloc.restype = (ctypes.c_size_t,), ctypes.c_void_p
    libc.free.argtypes, libc.free.restype = (ctypes.c_void_p,), None
    block = libc.malloc(size)
    if block:  # no memory for it: the steps fault their pages in as they go
        ctypes.memset(block, 0, size)
        libc.free(block)


def enabled_by_environment() -> bool:
    return os.environ.get("MINICNN_KEEP_FREED_MEMORY", "1").strip().lower() not in ("0", "false", "no", "off")
