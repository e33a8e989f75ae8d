"""The malloc tuning: opt-in through minicnn.cpu.keep_freed_memory(), never a side effect of importing minicnn."""
import os
import subprocess
import sys

import pytest

import minicnn
from minicnn.cpu import host_memory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_fresh(script, **environment):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("MINICNN_KEEP_FREED_MEMORY", None)
    env.update(environment)
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


# Counts every call of libc's mallopt made through ctypes, then imports minicnn and runs a conv and a step.
_RECORD_MALLOPT_THEN_IMPORT = """
import ctypes, os
calls = []
class Recording(ctypes.CDLL):
    def __getattr__(self, name):
        if name == "mallopt":
            calls.append(name)
        return super().__getattr__(name)
ctypes.CDLL = Recording
before = dict(os.environ)
import minicnn
model = minicnn.models.lenet5(input_size=28)
minicnn.functional.cross_entropy(model(minicnn.randn(2, 1, 28, 28)), minicnn.randint(0, 10, (2,))).backward()
print(len(calls), dict(os.environ) == before, minicnn.cpu.host_memory._state["applied"])
"""


def test_importing_minicnn_leaves_malloc_and_the_environment_alone():
    assert _run_fresh(_RECORD_MALLOPT_THEN_IMPORT) == "0 True False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_keep_freed_memory_is_opt_in_and_can_be_vetoed():
    script = "import minicnn; print(minicnn.cpu.keep_freed_memory(), minicnn.cpu.host_memory._state['applied'])"
    assert _run_fresh(script) == "True True"
    assert _run_fresh(script, MINICNN_KEEP_FREED_MEMORY="0") == "False False"


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


# Faults in the pages of one 20 MB array, written through, after keep_freed_memory(reserve_bytes=...).
_FAULTS_OF_A_FRESH_ARRAY = """
import resource, sys
import numpy as np
import minicnn
assert minicnn.cpu.keep_freed_memory(reserve_bytes={reserve})
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
np.ones(5 << 20, dtype=np.float32)  # 20 MB, below the mmap threshold: served from the heap
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_the_reserve_is_heap_whose_pages_are_already_there():
    """With the reserve, a first 20 MB array lands on pages faulted in ahead; without, it faults in its
    own (5,120 pages of 4 kB; fewer where the kernel maps larger pages)."""
    with_reserve = int(_run_fresh(_FAULTS_OF_A_FRESH_ARRAY.format(reserve=host_memory.RESERVE_BYTES)))
    without = int(_run_fresh(_FAULTS_OF_A_FRESH_ARRAY.format(reserve=0)))
    if without < 100:
        pytest.skip(f"the kernel maps the heap in large pages here ({without} faults for 20 MB): nothing to save")
    assert with_reserve < 50, (with_reserve, without)
