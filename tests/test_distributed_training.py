"""Training under mpiexec: resuming after a kill is exact on every rank, a failing rank ends every rank
with its error, and ``mpiexec -n 2 python -m minicnn train`` trains with one voice."""
import os
import sys
import time

import numpy as np
import pytest

from mpi_launch import ROOT, require_mpi, run_workers

import subprocess

from minicnn.training import load_checkpoint


@pytest.fixture(autouse=True)
def cpu_only():
    if os.environ.get("MINICNN_TEST_DEVICE", "cpu") != "cpu":
        pytest.skip("the training workers run on the cpu")


def test_resume_after_a_kill_gives_every_rank_the_uninterrupted_parameters(tmp_path):
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    run_workers(2, "trainer_run.py", whole, 3)
    killed = run_workers(2, "trainer_run.py", resumed, 3, "kill-after-epoch=1", check=False)
    assert killed.returncode != 0 and "epoch 2/3" not in killed.stdout
    assert load_checkpoint(resumed / "last.npz").epoch == 1
    run_workers(2, "trainer_run.py", resumed, 3, "resume")
    expected, actual = np.load(whole / "params-3.npy"), np.load(resumed / "params-3.npy")
    np.testing.assert_array_equal(actual, expected)  # bit for bit, parameters and buffers
    np.testing.assert_array_equal(actual[1], actual[0])  # every rank holds the same model
    assert np.abs(expected[0]).max() > 0


def test_a_failing_rank_stops_every_rank_with_its_error(tmp_path):
    started = time.perf_counter()
    result = run_workers(3, "trainer_run.py", tmp_path, 50, "fail-rank=1", check=False, timeout=60)
    seconds = time.perf_counter() - started
    assert result.returncode != 0
    assert "rank 1 of 3 failed with OSError: cannot read images/batch-3.png: truncated file" in result.stderr
    assert seconds < 30  # 50 epochs would take far longer: nobody waited for the failed rank
    assert not (tmp_path / "params-50.npy").exists()


def test_mpiexec_train_command_trains_on_shards_and_only_rank_0_speaks(tmp_path):
    launcher = require_mpi()
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": ROOT, "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    command = [launcher, "-n", "2", sys.executable, "-m", "minicnn", "train", "--dataset", "synthetic",
               "--train-limit", "64", "--epochs", "1", "--batch-size", "16", "--no-progress",
               "--threads-per-rank", "1", "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("training lenet5 on synthetic") == 1
    assert "2 processes of 16 images a step" in result.stdout
    assert result.stdout.count("epoch 1/1") == 1
    checkpoint = load_checkpoint(out / "last.npz")
    assert checkpoint.epoch == 1 and len(checkpoint.history) == 1


def test_a_usage_error_on_every_rank_ends_the_job_with_code_2(tmp_path):
    launcher = require_mpi()
    env = {**os.environ, "PYTHONPATH": ROOT}
    command = [launcher, "-n", "2", sys.executable, "-m", "minicnn", "train", "--resume", "--out", str(tmp_path / "none")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "minicnn train: error (rank" in result.stderr and "no checkpoint" in result.stderr
