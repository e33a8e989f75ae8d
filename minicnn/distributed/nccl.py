"""Collectives on GPU arrays through NCCL: CuPy's ``cupy.cuda.nccl``, or on the simulated device
``minicnn.simdevice.nccl`` (the same interface, with NCCL's rules enforced).

NCCL calls take raw device pointers, counts and type codes, and are queued on the current CUDA
stream: they return at once and later kernels on that stream see the result, so no host wait is
needed. The communicator is made once per group: rank 0 draws the id, MPI carries it to the others.
Set ``MINICNN_NCCL=0`` to stage device tensors through host memory and MPI instead.
"""
from __future__ import annotations

import importlib
import os

import numpy as np

_NCCL_TYPES = {"int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "int32": "NCCL_INT32", "uint32": "NCCL_UINT32",
               "int64": "NCCL_INT64", "uint64": "NCCL_UINT64", "float16": "NCCL_FLOAT16",
               "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64"}
_NCCL_OPS = {"sum": "NCCL_SUM", "product": "NCCL_PROD", "max": "NCCL_MAX", "min": "NCCL_MIN", "avg": "NCCL_AVG"}


def nccl_module_for(xp):
    """The NCCL module that serves arrays of array module ``xp``, or None (no NCCL: stage via host)."""
    if os.environ.get("MINICNN_NCCL", "1") == "0":
        return None
    name = getattr(xp, "__name__", "")
    if name.startswith("minicnn.simdevice"):
        return importlib.import_module("minicnn.simdevice.nccl")
    if name.startswith("cupy"):
        try:
            nccl = importlib.import_module("cupy.cuda.nccl")
        except Exception:  # CuPy built without NCCL, or libnccl missing
            return None
        return nccl if getattr(nccl, "available", True) else None
    return None


class NcclGroup:
    """One NCCL communicator over the ranks of an MPI communicator."""

    def __init__(self, nccl, xp, mpi_comm):
        self.nccl, self.xp = nccl, xp
        self.rank, self.size = mpi_comm.Get_rank(), mpi_comm.Get_size()
        unique_id = nccl.get_unique_id() if self.rank == 0 else None
        unique_id = mpi_comm.bcast(unique_id, root=0)
        self.comm = nccl.NcclCommunicator(self.size, unique_id, self.rank)

    def supports(self, array, op: str = "sum") -> bool:
        """Whether NCCL can do ``op`` on this dtype (bool and complex arrays are staged through the host)."""
        return (array.dtype.name in _NCCL_TYPES and hasattr(self.nccl, _NCCL_TYPES[array.dtype.name])
                and op in _NCCL_OPS and (op != "avg" or hasattr(self.nccl, "NCCL_AVG")))

    # -- what a call needs ---------------------------------------------------------------------------
    def _pointer(self, array) -> int:
        pointer_of = getattr(self.nccl, "device_pointer", None)
        return pointer_of(array) if pointer_of is not None else array.data.ptr

    def _stream(self) -> int:
        cuda = getattr(self.xp, "cuda", None)
        return cuda.get_current_stream().ptr if cuda is not None else 0

    def _type(self, array) -> int:
        return getattr(self.nccl, _NCCL_TYPES[np.dtype(array.dtype).name])

    # -- collectives, in place on C-contiguous device arrays -----------------------------------------
    def all_reduce(self, array, op: str) -> None:
        pointer = self._pointer(array)
        self.comm.allReduce(pointer, pointer, array.size, self._type(array), getattr(self.nccl, _NCCL_OPS[op]),
                            self._stream())

    def broadcast(self, array, root: int) -> None:
        self.comm.bcast(self._pointer(array), array.size, self._type(array), root, self._stream())

    def all_gather(self, send, receive) -> None:
        """``receive`` holds ``size`` times as many elements as ``send``, rank r's at block r."""
        self.comm.allGather(self._pointer(send), self._pointer(receive), send.size, self._type(send),
                            self._stream())
