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

_state = {"applied": False}


def keep_freed_memory() -> bool:
    """Tune glibc's malloc as described above, for the whole process; True when it took effect (False on
    other systems, or when ``MINICNN_KEEP_FREED_MEMORY=0``)."""
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
    _state["applied"] = done
    return done


def enabled_by_environment() -> bool:
    return os.environ.get("MINICNN_KEEP_FREED_MEMORY", "1").strip().lower() not in ("0", "false", "no", "off")
