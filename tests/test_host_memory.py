"""Host-side helpers of the speed work: malloc tuning at import, and column sums as a product."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minicnn
from minicnn import backend
from minicnn.cpu import host_memory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _applied_in_a_fresh_process(environment_value):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("MINICNN_KEEP_FREED_MEMORY", None)
    if environment_value is not None:
        env["MINICNN_KEEP_FREED_MEMORY"] = environment_value
    script = "import minicnn; print(minicnn.cpu.host_memory._state['applied'])"
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_import_keeps_freed_memory_unless_told_not_to():
    assert _applied_in_a_fresh_process(None) == "True"
    assert _applied_in_a_fresh_process("0") == "False"
    assert _applied_in_a_fresh_process("off") == "False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_a_repeated_training_step_faults_in_no_new_pages():
    """The point of the tuning: once warm, a step reuses the memory the previous one freed."""
    resource = pytest.importorskip("resource")
    if not host_memory.keep_freed_memory():
        pytest.skip("malloc could not be tuned here")
    model = minicnn.models.lenet5(input_size=28)
    images = minicnn.randn(64, 1, 28, 28)
    labels = minicnn.randint(0, 10, (64,))
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        optimizer.zero_grad()
        minicnn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        step()
    faults_per_step = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
    # untuned, this step faulted in about 600 pages every time
    assert faults_per_step < 50


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(50176, 6), (7, 3), (1, 5), (0, 4)])
def test_column_sums_equal_numpy_sums(device, dtype, shape):
    matrix = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    on_device = backend.to_device(matrix, device)
    got = backend.to_host(backend.column_sums(on_device))
    assert got.dtype == dtype and got.shape == (shape[1],)
    expected = matrix.astype(np.float64).sum(axis=0)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    assert np.allclose(got, expected, rtol=tolerance, atol=tolerance * max(1.0, np.sqrt(shape[0])))


def test_column_sums_of_integers_stay_integers():
    matrix = np.arange(12, dtype=np.int64).reshape(4, 3)
    assert backend.column_sums(matrix).tolist() == [18, 22, 26]
