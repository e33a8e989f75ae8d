"""Reusable uninitialized buffers for temporaries that die within one forward or backward call.

A fresh allocation of many megabytes comes from the OS as new pages that the kernel zeroes on first
touch; for the im2col matrix of ResNet's first layers that costs about as much as filling it. So on
the CPU such temporaries (``cols``, ``d(cols)``, the Winograd tiles) live in buffers kept per thread
and per named slot, grown to the largest size seen. CuPy pools its memory itself: there a plain
``empty`` is as cheap.

Two arrays in use at the same time must come from different slots; the same slot hands out the same
memory again on the next call.
"""
from __future__ import annotations

import threading

import numpy as np

_buffers = threading.local()


def scratch(xp, shape, dtype, slot: str = "cols"):
    """An uninitialized array of ``shape`` and ``dtype``; on the CPU a view of this thread's ``slot``."""
    if xp is not np:
        return xp.empty(shape, dtype=dtype)
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    slots = getattr(_buffers, "slots", None)
    if slots is None:
        slots = _buffers.slots = {}
    buffer = slots.get(slot)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = slots[slot] = np.empty(nbytes, dtype=np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)


def release() -> None:
    """Drop this thread's buffers (a memory measurement that must see them allocated again)."""
    _buffers.slots = {}
