"""Peak memory of a DenseNet training step with and without ``memory_efficient`` (recomputed bottlenecks).

    python benchmarks/densenet_memory.py --model densenet121 --batch 4 --size 112

Peak = the most host memory numpy arrays held at once during forward + backward, as traced by
``tracemalloc`` (numpy reports its allocations to it), above what the model's parameters hold before
the step. Also prints the step time of each (one step after one warm-up; tracing slows both alike).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import minicnn  # noqa: E402


def step_peak(name: str, memory_efficient: bool, batch: int, size: int):
    minicnn.manual_seed(0)
    model = minicnn.models.get_model(name, num_classes=10, memory_efficient=memory_efficient).train()
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((batch, 3, size, size)).astype(np.float32))
    y = minicnn.tensor(np.arange(batch) % 10)

    def step():
        model.zero_grad()
        minicnn.functional.cross_entropy(model(x), y).backward()

    step()  # warm-up: kernels compiled, gradients allocated
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return peak / 2**20, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="densenet121")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--size", type=int, default=112)
    args = parser.parse_args(argv)
    results = {flag: step_peak(args.model, flag, args.batch, args.size) for flag in (False, True)}
    (plain, plain_s), (efficient, efficient_s) = results[False], results[True]
    print(f"{args.model}, batch {args.batch}, {args.size}x{args.size}, float32")
    print(f"| memory_efficient | peak MB above the parameters | step s (traced) |\n|---|---|---|")
    print(f"| False | {plain:.0f} | {plain_s:.2f} |\n| True | {efficient:.0f} | {efficient_s:.2f} |")
    print(f"saved: {plain - efficient:.0f} MB ({1 - efficient / plain:.0%}); time x{efficient_s / plain_s:.2f}")


if __name__ == "__main__":
    main()
