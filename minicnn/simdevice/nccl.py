"""A simulated NCCL: ``cupy.cuda.nccl``'s interface for arrays on the simulated device.

Real NCCL moves GPU memory between GPUs, given raw device pointers, element counts and type codes;
it cannot read host memory. This module keeps those rules, so that the code driving NCCL runs on
machines without a GPU and fails where it would fail on one:

- buffers are named by device pointers, obtained with ``device_pointer(array)`` (CuPy's spelling is
  ``array.data.ptr``); a host array has no device pointer (TypeError), and neither has a
  non-contiguous view (ValueError: NCCL reads ``count`` consecutive elements);
- a pointer that no simulated device array handed out is refused (NcclError, as NCCL's invalid
  argument), as is a count beyond the array or a type code that differs from the array's dtype;
- every rank of ``NcclCommunicator(ndev, comm_id, rank)`` must pass the id that rank 0's
  ``get_unique_id()`` made (NCCL's rendezvous; it is sent to the others over MPI).

The ranks are the processes of ``mpiexec``; the simulated interconnect between them is MPI on the
arrays' host memory. It is not counted in ``simdevice.transfers``: it is device to device.
"""
from __future__ import annotations

import os
import weakref

import numpy as np

from ._array import SimArray

# Type and operation codes (the values of nccl.h).
NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_UINT32, NCCL_INT64, NCCL_UINT64 = 0, 1, 2, 3, 4, 5
NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64 = 6, 7, 8
NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN, NCCL_AVG = 0, 1, 2, 3, 4

_DTYPES = {NCCL_INT8: "int8", NCCL_UINT8: "uint8", NCCL_INT32: "int32", NCCL_UINT32: "uint32",
           NCCL_INT64: "int64", NCCL_UINT64: "uint64", NCCL_FLOAT16: "float16", NCCL_FLOAT32: "float32",
           NCCL_FLOAT64: "float64"}


class NcclError(RuntimeError):
    """A call NCCL would refuse (cupy.cuda.nccl.NcclError)."""


# device pointer -> the array that handed it out (weakly: a freed array's pointer becomes invalid)
_handed_out: "weakref.WeakValueDictionary[int, SimArray]" = weakref.WeakValueDictionary()


def device_pointer(array) -> int:
    """The device address of a C-contiguous simulated array (CuPy: ``array.data.ptr``)."""
    if type(array) is not SimArray:
        raise TypeError(f"NCCL reads device memory only: got a host {type(array).__module__}."
                        f"{type(array).__name__}; move it to the device first")
    if not array.flags.c_contiguous:
        raise ValueError("NCCL reads `count` consecutive elements: the array must be C-contiguous")
    pointer = int(array._a.__array_interface__["data"][0])
    _handed_out[pointer] = array
    return pointer


def get_unique_id() -> tuple:
    """A fresh communicator id (128 bytes as ints, as CuPy returns it)."""
    return tuple(os.urandom(128))


class NcclCommunicator:
    """One rank's end of a communicator over ``ndev`` ranks (``cupy.cuda.nccl.NcclCommunicator``)."""

    def __init__(self, ndev: int, commId, rank: int):
        from mpi4py import MPI

        world = MPI.COMM_WORLD
        if ndev != world.Get_size() or rank != world.Get_rank():
            raise NcclError(f"ncclInvalidArgument: communicator of {ndev} ranks, this is rank {rank}, but the "
                            f"job has {world.Get_size()} processes and this is process {world.Get_rank()}")
        self._comm = world.Dup()
        self._mpi = MPI
        ids = self._comm.allgather(tuple(commId))
        if any(other != ids[0] for other in ids):
            self._comm.Free()
            raise NcclError("ncclInvalidUsage: the ranks passed different communicator ids; rank 0 makes "
                            "one with get_unique_id() and sends it to the others")
        self._rank, self._size = rank, ndev

    def rank_id(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def destroy(self) -> None:
        if self._comm is not None:
            self._comm.Free()
            self._comm = None

    # -- the buffers behind pointers ---------------------------------------------------------------
    def _buffer(self, pointer: int, count: int, datatype: int) -> np.ndarray:
        if self._comm is None:
            raise NcclError("ncclInvalidUsage: the communicator was destroyed")
        array = _handed_out.get(int(pointer))
        if array is None:
            raise NcclError(f"ncclInvalidArgument: {pointer:#x} is not a device pointer (host memory, or an "
                            "array freed since)")
        if datatype not in _DTYPES:
            raise NcclError(f"ncclInvalidArgument: unknown datatype code {datatype}")
        if array.dtype != np.dtype(_DTYPES[datatype]):
            raise NcclError(f"ncclInvalidArgument: datatype {_DTYPES[datatype]} for an array of {array.dtype}")
        flat = array._a.reshape(-1)
        if count > flat.size:
            raise NcclError(f"ncclInvalidArgument: count {count} beyond the {flat.size} elements at {pointer:#x}")
        return flat[:count]

    def _mpi_op(self, op: int):
        MPI = self._mpi
        ops = {NCCL_SUM: MPI.SUM, NCCL_PROD: MPI.PROD, NCCL_MAX: MPI.MAX, NCCL_MIN: MPI.MIN, NCCL_AVG: MPI.SUM}
        if op not in ops:
            raise NcclError(f"ncclInvalidArgument: unknown reduction code {op}")
        return ops[op]

    # -- collectives (synchronous here; on a GPU they are queued on ``stream``) ------------------
    def allReduce(self, sendbuf: int, recvbuf: int, count: int, datatype: int, op: int, stream: int) -> None:
        receive = self._buffer(recvbuf, count, datatype)
        if sendbuf == recvbuf:
            self._comm.Allreduce(self._mpi.IN_PLACE, receive, op=self._mpi_op(op))
        else:
            self._comm.Allreduce(self._buffer(sendbuf, count, datatype), receive, op=self._mpi_op(op))
        if op == NCCL_AVG:
            if receive.dtype.kind == "f":
                receive /= self._size
            else:
                receive //= self._size

    def bcast(self, buff: int, count: int, datatype: int, root: int, stream: int) -> None:
        self._comm.Bcast(self._buffer(buff, count, datatype), root=root)

    def allGather(self, sendbuf: int, recvbuf: int, count: int, datatype: int, stream: int) -> None:
        send = self._buffer(sendbuf, count, datatype).copy()  # the receive buffer may hold it
        self._comm.Allgather(send, self._buffer(recvbuf, count * self._size, datatype))
