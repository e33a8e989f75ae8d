"""minicnn.distributed collectives under mpiexec, on the host and on the simulated device (through the
simulated NCCL, and staged through the host with MINICNN_NCCL=0)."""
import numpy as np
import pytest

from mpi_launch import json_lines, run_workers


@pytest.fixture(scope="module", params=["nccl", "staged"])
def ranks(request):
    env = {"MINICNN_NCCL": "0"} if request.param == "staged" else {}
    results = sorted(json_lines(run_workers(3, "collectives.py", env=env).stdout), key=lambda r: r["rank"])
    assert [r["rank"] for r in results] == [0, 1, 2]
    return request.param, results


def expected(size, rank):
    base = np.arange(6.0).reshape(2, 3)
    values = [base + r for r in range(size)]
    strided = np.arange(12.0).reshape(3, 4)
    strided_sum = strided * (rank + 1)  # the columns left out of the view keep this rank's values
    strided_sum[:, ::2] = strided[:, ::2] * sum(r + 1 for r in range(size))
    return {"SUM": sum(values), "AVG": sum(values) / size, "MAX": values[-1], "MIN": values[0],
            "PRODUCT": np.prod(values, axis=0), "BOR": [(1 << size) - 1, 3], "strided": strided_sum,
            "broadcast": [size - 1.0, -(size - 1.0)], "all_gather": [[r, 10 * r] for r in range(size)]}


@pytest.mark.parametrize("where", ["cpu", "sim"])
def test_collectives_give_every_rank_the_combined_result(ranks, where):
    for result in ranks[1]:
        wanted = expected(result["size"], result["rank"])
        for name, value in wanted.items():
            np.testing.assert_array_equal(np.asarray(result[where][name]), np.asarray(value), err_msg=name)
        assert result[where]["async_type"] == "Work"


def test_average_of_integers_is_refused(ranks):
    assert "AVG needs a floating point tensor" in ranks[1][0]["cpu"]["int_avg_error"]


def test_sim_device_reduces_through_nccl_without_host_copies(ranks):
    copies = ranks[1][0]["sim"]["copies_between_host_and_device"]
    if ranks[0] == "nccl":
        assert copies == 0
    else:
        assert copies == 2  # staged: one copy down, one back


def test_simulated_nccl_refuses_what_nccl_refuses(ranks):
    if ranks[0] != "nccl":
        pytest.skip("the staged run does not use NCCL")
    refused = ranks[1][0]["sim_nccl_refuses"]
    assert "device memory only" in refused["host_array"]
    assert "C-contiguous" in refused["strided"]
    assert "not a device pointer" in refused["host_pointer"]
    assert "datatype float32 for an array of float64" in refused["wrong_type"]
    assert "beyond the 4 elements" in refused["too_many"]


def test_process_group_lifecycle(ranks):
    result = ranks[1][0]
    assert result["twice"] == "trying to initialize the default process group twice!"
    assert result["initialized_after_destroy"] is False
