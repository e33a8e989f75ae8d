"""minicnn's thread pool against numba's own threading layer, on an elementwise pass (relu with its mask).

    python benchmarks/bench_threading.py [--rounds 5] [--out FILE]

Three ways to run one pass over ``size`` float32 elements: the serial kernel on the calling thread, the
same kernel on contiguous shares through minicnn's Python thread pool (``cpu/parallel.per_thread``,
what the engines do), and a ``numba.prange`` twin of the kernel on numba's threading layer. Also the
cost of handing the pool a task that does nothing. Each time is the median of many calls, taken in
``--rounds`` interleaved rounds (the median over rounds is shown).

A pass is only half the question: the engines also run BLAS between their kernels, which numba's
layer cannot, so a training step would have both pools at once; ``--steps`` times LeNet-5 and
ResNet-18 training steps with relu's engine switched to the ``prange`` twin, against the engine as it is.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from common import machine_description, publish  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

import minicnn  # noqa: E402
from minicnn.cpu import parallel  # noqa: E402
from minicnn.cpu.kernels import activation_kernels  # noqa: E402

SIZES = (1 << 16, 1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 23)


@numba.njit(nogil=True, parallel=True, cache=True)
def relu_on_numba_threads(x, out, passes):
    for i in numba.prange(x.size):
        value = x[i]
        out[i] = value if (value >= 0 or value != value) else 0
        passes[i] = not value <= 0


@numba.njit(nogil=True, parallel=True, cache=True)
def relu_grad_on_numba_threads(grad, passes, out):
    for i in numba.prange(grad.size):
        out[i] = grad[i] if passes[i] else 0


def median_call_us(call, seconds=0.05) -> float:
    call()
    times, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 20:
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def pass_table(rounds: int) -> str:
    rows = ["| elements | calling thread only | minicnn's pool, 2 shares | numba prange |", "|---|---|---|---|"]
    for size in SIZES:
        x = np.random.default_rng(0).standard_normal(size).astype(np.float32)
        out, passes = np.empty_like(x), np.empty(size, np.bool_)

        def pool():
            parallel.per_thread(lambda a, b: activation_kernels.relu_into(x[a:b], out[a:b], passes[a:b]), size)

        ways = {"serial": lambda: activation_kernels.relu_into(x, out, passes), "pool": pool,
                "numba": lambda: relu_on_numba_threads(x, out, passes)}
        times = {name: [] for name in ways}
        for _ in range(rounds):
            for name, call in ways.items():
                times[name].append(median_call_us(call))
        rows.append(f"| {size:,} | " + " | ".join(f"{statistics.median(t):.0f} us" for t in times.values()) + " |")
    idle = [median_call_us(lambda: parallel.per_thread(lambda a, b: None, 2)) for _ in range(rounds)]
    rows.append(f"\nHanding the pool a task that does nothing: {statistics.median(idle):.0f} us a call.")
    return "\n".join(rows)


def step_table(rounds: int) -> str:
    import minicnn.functional as F
    from minicnn.functional import activation_engines

    kernels = activation_engines.ReluKernels
    as_it_is = (kernels.forward, kernels.backward)

    def forward(self, x, keep_mask):
        if not keep_mask:
            return as_it_is[0](self, x, keep_mask)
        out, passes = np.empty_like(x), np.empty_like(x, dtype=np.bool_)
        flat = activation_engines.flat_memory
        relu_on_numba_threads(flat(x), flat(out), flat(passes))
        return out, passes

    def backward(self, passes, grad):
        if not self.applies(None, grad) or grad.strides != tuple(s * grad.itemsize for s in passes.strides):
            return as_it_is[1](self, passes, grad)
        out, flat = np.empty_like(grad), activation_engines.flat_memory
        relu_grad_on_numba_threads(flat(grad), flat(passes), flat(out))
        return out

    rows = ["| training step | relu on minicnn's pool | relu on numba's threads |", "|---|---|---|"]
    for name, kwargs, shape, batch in (("lenet5", {}, (1, 32, 32), 64),
                                       ("resnet18", {"cifar": True, "num_classes": 10}, (3, 32, 32), 32)):
        minicnn.manual_seed(0)
        model = minicnn.models.get_model(name, **kwargs)
        optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        images = minicnn.tensor(np.random.default_rng(0).standard_normal((batch,) + shape).astype(np.float32))
        labels = minicnn.tensor(np.random.default_rng(0).integers(0, 10, batch))

        def step():
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()

        times = {"pool": [], "numba": []}
        for _ in range(rounds):
            for way in times:
                kernels.forward, kernels.backward = as_it_is if way == "pool" else (forward, backward)
                times[way].append(median_call_us(step, seconds=1.0 if name == "lenet5" else 4.0) / 1000)
        kernels.forward, kernels.backward = as_it_is
        rows.append(f"| {name} b{batch} | " + " | ".join(f"{statistics.median(t):.2f} ms" for t in times.values()) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", action="store_true", help="also time training steps with either relu")
    parser.add_argument("--out", help="also write the report to this markdown file")
    args = parser.parse_args()
    minicnn.cpu.keep_freed_memory()
    passes = pass_table(args.rounds)  # numba picks its threading layer at the first parallel call
    report = [machine_description(parallel.workers()),
              f"numba threading layer: {numba.threading_layer()}, {numba.get_num_threads()} threads",
              "Command: python benchmarks/bench_threading.py " + " ".join(sys.argv[1:]), "", passes]
    if args.steps:
        report += ["", step_table(args.rounds)]
    publish("\n".join(report), args.out)


if __name__ == "__main__":
    main()
