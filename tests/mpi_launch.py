"""Running a worker script under ``mpiexec`` from a test (skips cleanly when MPI is missing)."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKERS = os.path.join(ROOT, "tests", "distributed_workers")


def mpiexec() -> str | None:
    """The mpiexec next to this python (the mpich wheel installs it there), else the one on PATH."""
    here = os.path.dirname(sys.executable)
    return shutil.which("mpiexec", path=here) or shutil.which("mpiexec")


def require_mpi() -> str:
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install 'minicnn[distributed]')")
    launcher = mpiexec()
    if launcher is None:
        pytest.skip("no mpiexec found (pip install mpich)")
    return launcher


def run_workers(ranks: int, script: str, *args, timeout: float = 120, env: dict | None = None,
                check: bool = True) -> subprocess.CompletedProcess:
    """``mpiexec -n ranks python tests/distributed_workers/script args``, one thread per rank."""
    launcher = require_mpi()
    environment = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "NUMBA_NUM_THREADS": "1", **(env or {})}
    command = [launcher, "-n", str(ranks), sys.executable, os.path.join(WORKERS, script), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment, cwd=ROOT)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def json_lines(output: str) -> list:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]
