"""The default process group: one MPI communicator over every process of the job.

    import minicnn.distributed as dist
    dist.init_process_group(backend="mpi")      # under mpiexec -n N / mpirun / srun --mpi=pmi2
    dist.get_rank(), dist.get_world_size()

The group holds ``MPI.COMM_WORLD`` (a duplicate, so user code sharing COMM_WORLD cannot mix its
messages with ours) and, created on first use, one NCCL communicator per GPU array module for
collectives on device tensors (see ``collectives.py``). mpi4py initializes MPI with thread support
MULTIPLE, so the data loader's prefetch thread and the training thread may both run.
"""
from __future__ import annotations

import enum
import os
import time

from . import environment

_INSTALL_HINT = "pip install 'minicnn[distributed]' (mpi4py and an MPI such as the mpich wheel)"


class ReduceOp(enum.Enum):
    """How ``all_reduce`` combines the ranks' values (torch.distributed.ReduceOp)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"
    AVG = "avg"


class _Group:
    def __init__(self, mpi, comm):
        self.MPI = mpi
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.nccl = {}  # array module name -> NCCL communicator (or None: stage through the host)


_state = {"group": None}


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(f"init_process_group(backend='mpi') needs mpi4py: {_INSTALL_HINT} ({error})") from None
    return MPI


def is_available() -> bool:
    """Whether the MPI backend can be used (mpi4py imports); does not initialize MPI."""
    try:
        import importlib.util

        return importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):
        return False


def is_mpi_available() -> bool:
    return is_available()


def init_process_group(backend: str | None = "mpi", init_method=None, timeout=None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None, device_id=None) -> None:
    """Join the default process group. Every process of the job must call it.

    Only ``backend="mpi"`` (or None) exists: the rank and world size are MPI's, as set up by the
    launcher (``mpiexec``, ``mpirun``, ``srun --mpi=pmi2``); ``world_size`` and ``rank``, when given,
    must agree with them. Collectives on GPU tensors use NCCL where CuPy has it (see
    ``minicnn.distributed.all_reduce``). Raises ValueError when called twice (as torch).
    """
    if _state["group"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend not in (None, "mpi"):
        raise ValueError(f"init_process_group: unknown backend {backend!r}; minicnn has backend 'mpi' "
                         "(which uses NCCL for GPU tensors where CuPy provides it)")
    if init_method not in (None, "env://") or store is not None:
        raise ValueError("init_process_group: the MPI backend takes its rendezvous from the MPI launcher; "
                         "init_method and store are not used")
    MPI = _import_mpi()
    comm = MPI.COMM_WORLD.Dup()
    group = _Group(MPI, comm)
    for name, given, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if given not in (-1, None) and int(given) != actual:
            comm.Free()
            raise ValueError(f"init_process_group: {name}={given} was given, but MPI says {actual}")
    environment.check_agrees_with_mpi(group.rank, group.size)
    _state["group"] = group


def destroy_process_group(group=None) -> None:
    """Leave the default group (its communicators are freed); ``init_process_group`` may follow."""
    current = _state["group"]
    if current is None:
        return
    _state["group"] = None
    current.nccl.clear()
    current.comm.Free()


def is_initialized() -> bool:
    return _state["group"] is not None


def default_group() -> _Group:
    group = _state["group"]
    if group is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return group


def get_rank(group=None) -> int:
    """This process's index in 0 .. world_size - 1."""
    return default_group().rank


def get_world_size(group=None) -> int:
    """The number of processes in the group."""
    return default_group().size


def get_backend(group=None) -> str:
    default_group()
    return "mpi"


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every process has reached the barrier (a Work to wait on with ``async_op``)."""
    group = default_group()
    if async_op:
        from .work import Work

        return Work(group.comm.Ibarrier())
    group.comm.Barrier()
    return None


def abort(message: str | None = None, code: int = 1) -> None:
    """End every process of the job now (MPI_Abort): what a rank that failed does instead of leaving the
    others waiting for it in a collective forever. ``message`` goes to stderr first."""
    import sys

    if message:
        print(message, file=sys.stderr, flush=True)
    sys.stdout.flush()
    group = _state["group"]
    if group is not None and message:
        # mpiexec passes a rank's output on through its proxy process, which the abort can end before it
        # has read the last lines: the job would stop without saying why (seen once in some hundred runs).
        time.sleep(0.5)
    if group is not None:
        group.MPI.COMM_WORLD.Abort(code)
    os._exit(code)  # pragma: no cover - Abort does not return
