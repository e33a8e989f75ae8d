"""What minicnn.distributed reads from the launcher's environment, without starting MPI."""
import pytest

from minicnn.distributed import environment, process_group


@pytest.fixture
def clean_environment(monkeypatch):
    for names in environment._LAUNCHERS:
        for name in names[:3]:
            if name:
                monkeypatch.delenv(name, raising=False)
    for name in ("SLURM_NTASKS", "MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "MV2_COMM_WORLD_LOCAL_SIZE", "SLURM_TASKS_PER_NODE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("variables, view", [
    ({"PMI_RANK": "2", "PMI_SIZE": "4", "MPI_LOCALRANKID": "0"}, (2, 4, 0)),
    ({"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "8", "OMPI_COMM_WORLD_LOCAL_RANK": "1"}, (1, 8, 1)),
    ({"SLURM_PROCID": "3", "SLURM_STEP_NUM_TASKS": "16", "SLURM_LOCALID": "3"}, (3, 16, 3)),
])
def test_launcher_variables_give_rank_and_size(clean_environment, variables, view):
    for name, value in variables.items():
        clean_environment.setenv(name, value)
    assert environment.launcher_view()[:3] == view
    assert environment.launched_world_size() == view[1]


def test_no_launcher_means_one_process(clean_environment):
    clean_environment.setenv("SLURM_NTASKS", "4")  # a batch script, outside any srun step
    clean_environment.setenv("SLURM_PROCID", "0")
    assert environment.launcher_view() is None
    assert environment.launched_world_size() == 1


def test_a_launcher_mpi_does_not_see_is_reported(clean_environment):
    clean_environment.setenv("SLURM_PROCID", "1")
    clean_environment.setenv("SLURM_STEP_NUM_TASKS", "4")
    with pytest.raises(RuntimeError, match="started this process as rank 1 of 4, but MPI sees rank 0 of 1"):
        environment.check_agrees_with_mpi(0, 1)


def test_local_size_from_slurm_tasks_per_node(clean_environment):
    clean_environment.setenv("SLURM_TASKS_PER_NODE", "4(x2)")
    assert environment.local_world_size() == 4


def test_rank_before_init_raises_as_torch():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        process_group.get_rank()


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown backend 'gloo'"):
        process_group.init_process_group("gloo")


def test_threads_per_rank_sets_the_thread_pool_and_blas():
    import minicnn
    from minicnn.cpu import parallel
    from minicnn.distributed import set_threads_per_rank

    before = minicnn.get_num_threads()
    try:
        set_threads_per_rank(1)
        assert parallel.workers() == 1 and minicnn.get_num_threads() == 1
    finally:
        set_threads_per_rank(before)
    assert parallel.workers() == before == minicnn.get_num_threads()


@pytest.mark.parametrize("count, message", [(0, "positive integer"), (-1, "positive integer"),
                                            (2.5, "expects an int, but got float")])
def test_set_num_threads_refuses_what_torch_refuses(count, message):
    import minicnn

    with pytest.raises(RuntimeError, match=message):
        minicnn.set_num_threads(count)
