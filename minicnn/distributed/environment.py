"""What the launcher says about this process: rank and world size from the environment.

``mpiexec``/``mpirun`` and SLURM's ``srun`` tell each process its place through environment
variables before MPI starts. MPI itself reads them when it initializes; minicnn reads them too, for
two reasons: to know *without importing MPI* whether it was started as one of several processes
(``python -m minicnn train`` under ``mpiexec -n 4`` initializes the process group by itself), and to
catch the classic mistake of a launcher that starts N processes whose MPI each sees a world of one
(``srun`` without ``--mpi=pmi2``/``pmix``, or a ``python`` linked to a different MPI than ``mpiexec``).
"""
from __future__ import annotations

import os

# (rank variable, size variable, local rank variable, launcher) in the order they are trusted.
_LAUNCHERS = (
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPICH/Intel MPI (Hydra) or srun --mpi=pmi2"),
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "Open MPI"),
    ("PMIX_RANK", None, None, "a PMIx launcher"),
    ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_LOCAL_RANK", "MVAPICH"),
    # Only inside an srun job step: a batch script itself also has SLURM_PROCID and SLURM_NTASKS.
    ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", "SLURM (srun)"),
)


def _int(name: str | None) -> int | None:
    if name is None or name not in os.environ:
        return None
    try:
        return int(os.environ[name])
    except ValueError:
        return None


def launcher_view() -> tuple[int, int, int | None, str] | None:
    """(rank, world size, local rank or None, launcher name) as the environment tells it, or None when
    this process was not started by a known parallel launcher."""
    for rank_name, size_name, local_name, launcher in _LAUNCHERS:
        rank = _int(rank_name)
        if rank is None:
            continue
        size = _int(size_name)
        if size is None:
            continue
        return rank, size, _int(local_name), launcher
    return None


def launched_world_size() -> int:
    """How many processes the launcher started (1 when none did)."""
    view = launcher_view()
    return 1 if view is None else view[1]


def local_world_size() -> int:
    """Processes of this job on this machine, as the launcher reports it (1 when it does not)."""
    for name in ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "MV2_COMM_WORLD_LOCAL_SIZE"):
        value = _int(name)
        if value:
            return value
    tasks = os.environ.get("SLURM_TASKS_PER_NODE", "")
    head = tasks.split("(")[0].split(",")[0]
    return int(head) if head.isdigit() else launched_world_size()


def check_agrees_with_mpi(rank: int, size: int) -> None:
    """Raise RuntimeError when MPI's view of the world differs from the launcher's."""
    view = launcher_view()
    if view is None:
        return
    env_rank, env_size, _, launcher = view
    if (env_rank, env_size) != (rank, size):
        raise RuntimeError(
            f"init_process_group: {launcher} started this process as rank {env_rank} of {env_size}, but MPI "
            f"sees rank {rank} of {size}. The launcher and the MPI library that mpi4py loaded do not talk to "
            "each other: use the mpiexec that comes with that MPI (`python -m mpi4py --mpi-library` names it), "
            "or under SLURM `srun --mpi=pmi2` (or pmix)")
