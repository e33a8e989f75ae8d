"""all_reduce, broadcast and all_gather on Tensors, in place as in torch.distributed.

Host (numpy) arrays go straight to MPI (``Allreduce``/``Iallreduce`` on the array's memory). Device
arrays (CuPy, or the simulated device) go through NCCL when there is one for them (``nccl.py``), and
otherwise are staged: copied to the host, reduced by MPI, copied back. With ``async_op=True`` a
``Work`` is returned at once; ``wait()`` makes the result visible in the tensor. The ``*_array``
functions are the same on raw backend arrays; DistributedDataParallel and SyncBatchNorm use them.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Tensor
from .nccl import NcclGroup, nccl_module_for
from .process_group import ReduceOp, default_group
from .work import Work

def _mpi_op(MPI, op: ReduceOp):
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]


def _check_op(op, array, where: str) -> ReduceOp:
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{where}: op must be a ReduceOp, got {op!r}")
    if op is ReduceOp.AVG and array.dtype.kind != "f":
        raise TypeError(f"{where}: ReduceOp.AVG needs a floating point tensor, got dtype {array.dtype}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and array.dtype.kind not in "iub":
        raise TypeError(f"{where}: bitwise {op.name} needs an integer or bool tensor, got dtype {array.dtype}")
    return op


def _nccl_for(group, array, op: str = "sum"):
    """The group's NCCL communicator for this device array (made on first use), or None."""
    xp = backend.get_array_module(array)
    key = getattr(xp, "__name__", "")
    if key not in group.nccl:
        nccl = nccl_module_for(xp)
        group.nccl[key] = None if nccl is None or group.size == 1 else NcclGroup(nccl, xp, group.comm)
    communicator = group.nccl[key]
    return communicator if communicator is not None and communicator.supports(array, op) else None


def _finish(work_needed: bool, request, finish):
    work = Work(request, finish)
    if work_needed:
        return work
    work.wait()
    return None


def _staged(array):
    """(contiguous host buffer, write-back function) for an array of any device."""
    if isinstance(array, np.ndarray):
        if array.flags.c_contiguous:
            return array, None
        buffer = np.ascontiguousarray(array)
        return buffer, lambda: array.__setitem__(Ellipsis, buffer)
    device = backend.device_of(array)
    buffer = np.ascontiguousarray(backend.to_host(array))
    if buffer is array or not buffer.flags.writeable:
        buffer = buffer.copy()
    return buffer, lambda: array.__setitem__(Ellipsis, backend.to_device(buffer, device))


def _device_buffer(array):
    """(C-contiguous device array, write-back function or None)."""
    if array.flags.c_contiguous:
        return array, None
    xp = backend.get_array_module(array)
    buffer = xp.ascontiguousarray(array)
    return buffer, lambda: array.__setitem__(Ellipsis, buffer)


def _then(*steps):
    steps = [step for step in steps if step is not None]
    return (lambda: [step() for step in steps]) if steps else None


# ----------------------------------------------------------------------------------------------
# On raw arrays
# ----------------------------------------------------------------------------------------------

def all_reduce_array(array, op: ReduceOp = ReduceOp.SUM, async_op: bool = False):
    """Reduce ``array`` over the ranks, in place; a Work with ``async_op`` (else None)."""
    group = default_group()
    op = _check_op(op, array, "all_reduce")
    average = (lambda buffer: buffer.__itruediv__(group.size)) if op is ReduceOp.AVG else None
    if not isinstance(array, np.ndarray):
        nccl = _nccl_for(group, array, op.value)
        if nccl is not None:  # queued on the stream: complete as far as the host is concerned
            buffer, write_back = _device_buffer(array)
            nccl.all_reduce(buffer, op.value)
            return _finish(async_op, None, write_back)
    buffer, write_back = _staged(array)
    mpi_op = _mpi_op(group.MPI, op)
    finish = _then(average and (lambda: average(buffer)), write_back)
    if async_op:
        return Work(group.comm.Iallreduce(group.MPI.IN_PLACE, buffer, op=mpi_op), finish)
    group.comm.Allreduce(group.MPI.IN_PLACE, buffer, op=mpi_op)
    return _finish(False, None, finish)


def broadcast_array(array, src: int = 0, async_op: bool = False):
    """Overwrite ``array`` on every rank with rank ``src``'s, in place."""
    group = default_group()
    _check_src(src, group.size, "broadcast")
    if not isinstance(array, np.ndarray):
        nccl = _nccl_for(group, array)
        if nccl is not None:
            buffer, write_back = _device_buffer(array)
            nccl.broadcast(buffer, src)
            return _finish(async_op, None, write_back)
    buffer, write_back = _staged(array)
    if async_op:
        return Work(group.comm.Ibcast(buffer, root=src), write_back)
    group.comm.Bcast(buffer, root=src)
    return _finish(False, None, write_back)


def all_gather_array(array, async_op: bool = False):
    """(gathered, Work or None): ``gathered`` has shape (world_size, *array.shape) on the array's
    device, rank r's values at [r]. With ``async_op`` it is valid once the Work has been waited on;
    host arrays then overlap (Iallgather), device arrays complete at once (NCCL: on the stream)."""
    group = default_group()
    xp = backend.get_array_module(array)
    if not isinstance(array, np.ndarray):
        nccl = _nccl_for(group, array)
        if nccl is not None:
            send = xp.ascontiguousarray(array)
            gathered = xp.empty((group.size,) + tuple(array.shape), dtype=array.dtype)
            nccl.all_gather(send, gathered)
            return gathered, _finish(async_op, None, None)
        received = np.empty((group.size,) + tuple(array.shape), dtype=array.dtype)
        group.comm.Allgather(np.ascontiguousarray(backend.to_host(array)), received)
        return backend.to_device(received, backend.device_of(array)), _finish(async_op, None, None)
    received = np.empty((group.size,) + tuple(array.shape), dtype=array.dtype)
    send = np.ascontiguousarray(array)
    if async_op:
        return received, Work(group.comm.Iallgather(send, received))
    group.comm.Allgather(send, received)
    return received, None


def _check_src(src, size: int, where: str) -> None:
    if not isinstance(src, (int, np.integer)) or not 0 <= src < size:
        raise ValueError(f"{where}: src must be a rank in 0..{size - 1}, got {src!r}")


# ----------------------------------------------------------------------------------------------
# On Tensors (torch.distributed's functions)
# ----------------------------------------------------------------------------------------------

def _tensor(value, where: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}: expected a Tensor, got {type(value).__name__}")
    return value


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` over every rank with ``op``, in place: afterwards each rank holds the result.

    Any shape and device; the tensor's dtype is kept (AVG needs a float tensor). Returns a Work when
    ``async_op`` (wait on it before reading the tensor), else None.
    """
    return all_reduce_array(_tensor(tensor, "all_reduce").array, op, async_op)


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank (same shape and dtype)."""
    return broadcast_array(_tensor(tensor, "broadcast").array, src, async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list[r]`` (world_size tensors shaped like ``tensor``) with rank r's ``tensor``."""
    _tensor(tensor, "all_gather")
    size = default_group().size
    if not isinstance(tensor_list, list) or len(tensor_list) != size:
        raise ValueError(f"all_gather: tensor_list must be a list of world_size={size} tensors, got "
                         f"{len(tensor_list) if isinstance(tensor_list, list) else type(tensor_list).__name__}")
    for index, out in enumerate(tensor_list):
        out = _tensor(out, f"all_gather: tensor_list[{index}]")
        if out.shape != tensor.shape or out.dtype != tensor.dtype or out.device != tensor.device:
            raise ValueError(f"all_gather: tensor_list[{index}] is {out.shape} {out.dtype} on {out.device}, the "
                             f"tensor {tensor.shape} {tensor.dtype} on {tensor.device}")
    gathered, work = all_gather_array(tensor.array, async_op)

    def scatter_into_list():
        for index, out in enumerate(tensor_list):
            out.array[...] = gathered[index]

    if work is None:
        scatter_into_list()
        return None
    return Work(None, lambda: (work.wait(), scatter_into_list()))
