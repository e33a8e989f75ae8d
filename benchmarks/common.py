"""What the benchmark scripts share: the machine description, medians, interleaved timing, thread setup."""
from __future__ import annotations

import os
import platform
import sys
import time

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def threads_from_argv(default: int | None = None) -> int:
    """``--threads N`` read from sys.argv before numpy and numba start their thread pools (they read
    the environment once, at import)."""
    for i, arg in enumerate(sys.argv[:-1]):
        if arg == "--threads":
            return int(sys.argv[i + 1])
    return default or os.cpu_count() or 1


def set_thread_environment(threads: int, environment=None) -> dict:
    """Give numpy's BLAS, numba and torch's OpenMP the same thread count (in ``environment``, default
    this process's)."""
    environment = os.environ if environment is None else environment
    for variable in THREAD_VARIABLES:
        environment[variable] = str(threads)
    return environment


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def machine_description(threads: int) -> str:
    """CPU, cores, thread count, Python, numpy, BLAS and torch versions, and the load when measured."""
    import numpy

    parts = [f"{cpu_name()}, {os.cpu_count()} logical cores, {threads} threads for BLAS, numba and torch",
             f"Python {platform.python_version()}", f"numpy {numpy.__version__}"]
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{lib['internal_api']} {lib['version']}" for lib in threadpool_info() if lib["user_api"] == "blas"]
        if blas:
            parts.append("BLAS " + ", ".join(blas))
    except ImportError:
        pass
    try:
        import torch

        parts.append(f"torch {torch.__version__}")
    except ImportError:
        parts.append("torch not installed")
    try:
        parts.append("1-minute load average %.1f when the table was written" % os.getloadavg()[0])
    except OSError:
        pass
    return "; ".join(parts)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def interleaved_times(functions: dict, repeat: int, timer=time.perf_counter) -> dict:
    """Seconds of each run of each function, after one warm-up each; the runs are interleaved so a
    burst of load from elsewhere on a shared machine slows every function alike."""
    for function in functions.values():
        function()  # warm-up: allocations, BLAS threads, numba compilation
    times = {name: [] for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            start = timer()
            function()
            times[name].append(timer() - start)
    return times


def best_times(functions: dict, repeat: int, timer=time.perf_counter) -> dict:
    """Best time in ms of each function over ``repeat`` interleaved runs (see ``interleaved_times``)."""
    times = interleaved_times(functions, repeat, timer)
    return {name: min(values) * 1000.0 for name, values in times.items()}


def publish(report: str, path: str | None) -> None:
    """Print a finished report and, when ``path`` is given, write it there as markdown."""
    print()
    print(report)
    if path:
        with open(path, "w") as handle:
            handle.write(report + "\n")


def step_timings(step, steps: int, warmup: int, min_seconds: float = 0.0) -> dict:
    """Time ``step()``: ``warmup`` calls, each timed alone, then at least ``steps`` timed calls, more
    until they add up to ``min_seconds`` (at most 10,000), so that a millisecond step is measured over
    as long a stretch of the machine's load as a slow one.

    Returns ``seconds`` (the median of the timed calls), ``first`` (the wall time of each of the first
    five calls, warm-up included), ``first_cpu`` (their CPU time, every thread's, as a multiple of the
    median CPU time of the timed calls: unlike the wall time, it does not move with the load from
    other processes) and ``cores_busy`` (the process's CPU time over the wall time of the timed calls:
    2.0 means both cores of a 2-core machine kept busy throughout)."""
    times, cpu_times = [], []

    def timed_call():
        cpu, start = time.process_time(), time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)

    for _ in range(warmup):
        timed_call()
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    while len(times) - warmup < steps or (sum(times[warmup:]) < min_seconds and len(times) - warmup < 10_000):
        timed_call()
    cores_busy = (time.process_time() - cpu_start) / (time.perf_counter() - wall_start)
    steady_cpu = median(cpu_times[warmup:]) or 1e-9
    return {"seconds": median(times[warmup:]), "first": times[:5], "cores_busy": cores_busy,
            "first_cpu": [cpu / steady_cpu for cpu in cpu_times[:5]]}


def median_step_seconds(step, steps: int, warmup: int, min_seconds: float = 0.0) -> float:
    """Median wall time of ``step()`` over the timed calls of ``step_timings``."""
    return step_timings(step, steps, warmup, min_seconds)["seconds"]
