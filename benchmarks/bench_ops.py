"""Forward and forward+backward time of each op against PyTorch, float32 on the CPU, in the same run.

    python benchmarks/bench_ops.py [--repeat 5] [--only conv|pool|norm|act|loss] [--threads N] [--output FILE]

Conv shapes come from bench_conv.py (ResNet-18 CIFAR layers, a 1x1 projection, a depthwise and the
7x7 stem); the rest are the pooling, batch-norm, ReLU and loss shapes of ResNet-18 and LeNet-5.
Times are the best of ``--repeat`` interleaved runs; the ratio is minicnn / torch (lower is better).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import best_times, machine_description, set_thread_environment, threads_from_argv  # noqa: E402

THREADS = threads_from_argv()
set_thread_environment(THREADS)  # before numpy, numba and torch start their thread pools

import numpy as np  # noqa: E402

import minicnn  # noqa: E402
import minicnn.functional as F  # noqa: E402

minicnn.cpu.keep_freed_memory()  # as a training process does (minicnn/cpu/host_memory.py)
from bench_conv import SHAPES as CONV_SHAPES  # noqa: E402


def conv_cases():
    for label, n, cin, cout, size, k, stride, padding, groups in CONV_SHAPES:
        yield (
            "conv", f"conv2d {label}", [(n, cin, size, size), (cout, cin // groups, k, k), (cout,)],
            lambda x, w, b, s=stride, p=padding, g=groups: F.conv2d(x, w, b, s, p, 1, g),
            lambda tF, x, w, b, s=stride, p=padding, g=groups: tF.conv2d(x, w, b, s, p, 1, g),
        )


def other_cases():
    yield ("pool", "max_pool2d 3x3 s2 p1, 8x64x112x112 (ResNet stem)", [(8, 64, 112, 112)],
           lambda x: F.max_pool2d(x, 3, 2, 1), lambda tF, x: tF.max_pool2d(x, 3, 2, 1))
    yield ("pool", "max_pool2d 2x2, 64x6x28x28 (LeNet-5)", [(64, 6, 28, 28)],
           lambda x: F.max_pool2d(x, 2), lambda tF, x: tF.max_pool2d(x, 2))
    yield ("pool", "avg_pool2d 2x2, 32x64x32x32", [(32, 64, 32, 32)],
           lambda x: F.avg_pool2d(x, 2), lambda tF, x: tF.avg_pool2d(x, 2))
    yield ("pool", "adaptive_avg_pool2d 1, 32x512x4x4", [(32, 512, 4, 4)],
           lambda x: F.adaptive_avg_pool2d(x, 1), lambda tF, x: tF.adaptive_avg_pool2d(x, 1))
    for n, c, size in [(32, 64, 32), (32, 128, 16), (32, 256, 8), (32, 512, 4)]:
        yield ("norm", f"batch_norm train, {n}x{c}x{size}x{size}", [(n, c, size, size), (c,), (c,)],
               _batch_norm_minicnn, _batch_norm_torch)
    yield ("act", "relu, 32x64x32x32", [(32, 64, 32, 32)], F.relu, lambda tF, x: tF.relu(x))
    yield ("loss", "cross_entropy, 128x10", [(128, 10)],
           lambda x: F.cross_entropy(x, _targets(128, 10, "minicnn")),
           lambda tF, x: tF.cross_entropy(x, _targets(128, 10, "torch")))
    yield ("loss", "cross_entropy, 8x1000", [(8, 1000)],
           lambda x: F.cross_entropy(x, _targets(8, 1000, "minicnn")),
           lambda tF, x: tF.cross_entropy(x, _targets(8, 1000, "torch")))


def _targets(n, classes, framework):
    labels = np.random.default_rng(1).integers(0, classes, n)
    if framework == "torch":
        import torch

        return torch.tensor(labels)
    return minicnn.tensor(labels)


def _batch_norm_minicnn(x, weight, bias):
    channels = x.shape[1]
    return F.batch_norm(x, minicnn.zeros(channels), minicnn.ones(channels), weight, bias, training=True)


def _batch_norm_torch(tF, x, weight, bias):
    import torch

    channels = x.shape[1]
    return tF.batch_norm(x, torch.zeros(channels), torch.ones(channels), weight, bias, training=True)


def measure(case, repeat, torch):
    _, _, shapes, ours, theirs = case
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    mine = [minicnn.tensor(a, requires_grad=True) for a in arrays]
    output_shape = ours(*mine).shape
    grad = rng.standard_normal(output_shape).astype(np.float32)

    def clear(tensors):
        for t in tensors:
            t.grad = None

    functions = {
        "minicnn_fwd": lambda: _no_grad(minicnn.no_grad, lambda: ours(*mine)),
        "minicnn_train": lambda: (clear(mine), ours(*mine).backward(grad)),
    }
    if torch is not None:
        tF = torch.nn.functional
        theirs_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
        torch_grad = torch.tensor(grad)
        functions["torch_fwd"] = lambda: _no_grad(torch.no_grad, lambda: theirs(tF, *theirs_inputs))
        functions["torch_train"] = lambda: (clear(theirs_inputs), theirs(tF, *theirs_inputs).backward(torch_grad))
    return best_times(functions, repeat)


def _no_grad(context, function):
    with context():
        function()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["conv", "pool", "norm", "act", "loss"])
    parser.add_argument("--output", help="also write the markdown table to this file")
    parser.add_argument("--threads", type=int, default=THREADS, help="for BLAS, numba and torch (default all cores)")
    args = parser.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None

    lines = ["| op | minicnn fwd ms | torch fwd ms | ratio | minicnn fwd+bwd ms | torch fwd+bwd ms | ratio |",
             "|---|---|---|---|---|---|---|"]
    print(lines[0], "\n" + lines[1], flush=True)
    for case in [*conv_cases(), *other_cases()]:
        if args.only and case[0] != args.only:
            continue
        t = measure(case, args.repeat, torch)
        if torch is not None:
            row = (f"| {case[1]} | {t['minicnn_fwd']:.2f} | {t['torch_fwd']:.2f} | "
                   f"{t['minicnn_fwd'] / t['torch_fwd']:.2f} | {t['minicnn_train']:.2f} | "
                   f"{t['torch_train']:.2f} | {t['minicnn_train'] / t['torch_train']:.2f} |")
        else:
            row = f"| {case[1]} | {t['minicnn_fwd']:.2f} | - | - | {t['minicnn_train']:.2f} | - | - |"
        lines.append(row)
        print(row, flush=True)
    if args.output:
        command = "python benchmarks/bench_ops.py " + " ".join(argv if argv is not None else sys.argv[1:])
        Path(args.output).write_text(
            f"Machine: {machine_description(args.threads)}\n\nCommand: `{command.strip()}`\n\n" + "\n".join(lines) + "\n"
        )


if __name__ == "__main__":
    main()
