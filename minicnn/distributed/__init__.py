"""Data-parallel training over MPI, with torch.distributed's names.

    mpiexec -n 4 python train.py

    import minicnn.distributed as dist
    dist.init_process_group(backend="mpi")          # rank and world size come from the MPI launcher
    model = dist.DistributedDataParallel(model)       # same start everywhere, gradients averaged
    sampler = minicnn.data.DistributedSampler(dataset)  # each rank its own shard
    loader = minicnn.data.DataLoader(dataset, batch_size=32, sampler=sampler)

Collectives (``all_reduce``, ``broadcast``, ``all_gather``, ``barrier``) work on Tensors in place;
host tensors go through MPI (mpi4py over any MPI library), GPU tensors through NCCL where CuPy has
it and through the host otherwise. Install with ``pip install 'minicnn[distributed]'``. SyncBatchNorm is ``minicnn.nn.SyncBatchNorm``;
DistributedSampler is ``minicnn.data.DistributedSampler``.
"""
from .collectives import all_gather, all_reduce, broadcast
from .ddp import DistributedDataParallel
from .process_group import (
    ReduceOp,
    abort,
    barrier,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)
from .threads import default_threads_per_rank, set_threads_per_rank
from .training import Ranks
from .work import Work

__all__ = [
    "DistributedDataParallel", "Ranks", "ReduceOp", "Work", "abort", "all_gather", "all_reduce", "barrier", "broadcast",
    "default_threads_per_rank", "destroy_process_group", "get_backend", "get_rank", "get_world_size",
    "init_process_group", "is_available", "is_initialized", "is_mpi_available", "set_threads_per_rank",
]
