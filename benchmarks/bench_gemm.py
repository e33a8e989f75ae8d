"""The GEMM ceiling: float32 matrix-product speed (GFLOP/s) of numpy's BLAS and of torch, in one run.

    python benchmarks/bench_gemm.py                     # 1 and all threads, markdown table
    python benchmarks/bench_gemm.py --threads 2 --repeats 20 --out benchmarks/results/gemm_cpu.md

Every convolution of minicnn is one matrix product (im2col), so numpy's GEMM speed bounds the speed of
a training step: minicnn cannot beat torch by more than the GEMM ratio, and a ratio near 1 here means
the rest of the gap lies elsewhere. The shapes are 1024^3 and the forward GEMMs of ResNet-18's CIFAR
convolutions at batch 32 ((N*OH*OW) x (KH*KW*C) times (KH*KW*C) x O), plus LeNet-5's small ones,
where starting BLAS threads costs more than the product. Each time is the median of ``--repeats``
products after two warm-ups; GFLOP/s = 2*M*K*N / time.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import machine_description, median, publish  # noqa: E402

# name: (M, K, N) for an (M, K) x (K, N) product
SHAPES = {
    "square 1024": (1024, 1024, 1024),
    "resnet18 layer1 3x3 (32x32, 64->64)": (32 * 32 * 32, 576, 64),
    "resnet18 layer2 3x3 (16x16, 128->128)": (32 * 16 * 16, 1152, 128),
    "resnet18 layer3 3x3 (8x8, 256->256)": (32 * 8 * 8, 2304, 256),
    "resnet18 layer4 3x3 (4x4, 512->512)": (32 * 4 * 4, 4608, 512),
    "lenet5 conv2 (10x10, 6->16)": (64 * 10 * 10, 150, 16),
    "lenet5 fc1 (400->120)": (64, 400, 120),
}


def time_product(product, repeats: int) -> float:
    product()
    product()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        product()
        times.append(time.perf_counter() - start)
    return median(times)


def numpy_seconds(m, k, n, threads, repeats):
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        return time_product(lambda: np.matmul(a, b, out=out), repeats)


def torch_seconds(m, k, n, threads, repeats):
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(m, k), torch.randn(k, n)
    out = torch.empty(m, n)
    return time_product(lambda: torch.matmul(a, b, out=out), repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="the multi-threaded column's count")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", help="also write the markdown table to this file")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
        with_torch = True
    except ImportError:
        with_torch = False

    thread_counts = sorted({1, args.threads})
    header = ["GEMM", "M x K x N"]
    for threads in thread_counts:
        header += [f"numpy GFLOP/s ({threads}t)"] + ([f"torch GFLOP/s ({threads}t)", "numpy/torch"] if with_torch else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    print(lines[0], flush=True)
    for name, (m, k, n) in SHAPES.items():
        flops = 2.0 * m * k * n
        row = [name, f"{m} x {k} x {n}"]
        for threads in thread_counts:
            ours = flops / numpy_seconds(m, k, n, threads, args.repeats) / 1e9
            row.append(f"{ours:.1f}")
            if with_torch:
                theirs = flops / torch_seconds(m, k, n, threads, args.repeats) / 1e9
                row += [f"{theirs:.1f}", f"{ours / theirs:.2f}"]
        lines.append("| " + " | ".join(row) + " |")
        print(lines[-1], flush=True)

    report = "\n".join([
        f"Machine: {machine_description(args.threads)}",
        f"Command: python benchmarks/bench_gemm.py {' '.join(argv if argv is not None else sys.argv[1:])}",
        "numpy/torch is a speed ratio here (higher is better for numpy; 1.0 is parity).",
        "", *lines,
    ])
    publish(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
