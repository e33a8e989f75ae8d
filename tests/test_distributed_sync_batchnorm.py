"""SyncBatchNorm over N ranks gives one process's BatchNorm gradients on the whole batch; plain
BatchNorm over N ranks does not."""
import os

import pytest

from mpi_launch import json_lines, run_workers

import minicnn
from minicnn import nn


@pytest.fixture(scope="module", params=[3], ids=["3ranks"])
def ranks(request):
    device = os.environ.get("MINICNN_TEST_DEVICE", "cpu")
    if device.startswith("cuda"):
        pytest.skip("the workers run on cpu or sim")
    return json_lines(run_workers(request.param, "sync_batchnorm.py", device).stdout)[0]


def test_sync_batchnorm_gradients_equal_one_process_on_the_whole_batch(ranks):
    assert ranks["sync"]["layers"] == ["SyncBatchNorm"]
    assert ranks["sync"]["grad_error"] < 1e-12
    assert ranks["sync"]["running_stats_error"] < 1e-12


def test_plain_batchnorm_over_ranks_differs_from_the_whole_batch(ranks):
    assert ranks["plain"]["layers"] == ["BatchNorm1d", "BatchNorm2d"]
    assert ranks["plain"]["grad_error"] > 1e-3
    assert ranks["plain"]["running_stats_error"] > 1e-3


def test_convert_sync_batchnorm_keeps_the_very_parameters_and_buffers():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(nn.BatchNorm1d(3, bias=False)))
    model.eval()
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    first, nested = converted[1], converted[2][0]
    assert isinstance(first, nn.SyncBatchNorm) and isinstance(nested, nn.SyncBatchNorm)
    assert first.weight is model[1].weight and first.running_var is model[1].running_var
    assert nested.bias is None and not nested.training
    assert list(converted.state_dict()) == list(model.state_dict())


def test_sync_batchnorm_alone_is_batchnorm(device):
    x = minicnn.randn(4, 3, 2, 2, device=device).double()
    plain, synced = nn.BatchNorm2d(3).double().to(device), nn.SyncBatchNorm(3).double().to(device)
    assert float((plain(x) - synced(x)).abs().max().item()) == 0.0


def test_sync_batchnorm_rejects_a_wrong_rank_as_batchnorm():
    with pytest.raises(ValueError, match="SyncBatchNorm.*expected 2D or 3D or 4D or 5D input"):
        nn.SyncBatchNorm(3)(minicnn.randn(3))
