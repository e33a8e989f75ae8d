"""conv2d speed against torch.nn.functional.conv2d, float32 on the CPU, measured in the same run.

    python benchmarks/bench_conv.py [--repeat 5] [--threads N] [--cpu-time] [--memory] [--output FILE] [--append]

Both libraries get the same NCHW-contiguous float32 input, weight, bias and output gradient, and the
same thread count (``--threads``, default all cores). "fwd+bwd" computes dX, dW and db in both (the
input requires grad in torch too). Each time is the best of ``--repeat`` runs, interleaved with
torch's so that a busy machine slows both alike, after one warm-up; the ratio is minicnn / torch.
``--memory`` adds the comparison behind conv2d's choice to rebuild ``cols`` in backward.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import best_times as _best_times  # noqa: E402
from common import machine_description as _machine_description  # noqa: E402
from common import set_thread_environment, threads_from_argv  # noqa: E402

THREADS = threads_from_argv()
set_thread_environment(THREADS)  # before numpy and numba start their thread pools (they read it once)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minicnn  # noqa: E402
import minicnn.functional as F  # noqa: E402

minicnn.cpu.keep_freed_memory()  # as a training process does (minicnn/cpu/host_memory.py)

# (label, N, C_in, C_out, H=W, kernel, stride, padding, groups)
SHAPES = [
    ("LeNet-5 1->6 5x5 pad 2 28x28 (N=64)", 64, 1, 6, 28, 5, 1, 2, 1),
    ("LeNet-5 6->16 5x5 14x14 (N=64)", 64, 6, 16, 14, 5, 1, 0, 1),
    ("ResNet-18 CIFAR stem 3->64 3x3 32x32", 32, 3, 64, 32, 3, 1, 1, 1),
    ("ResNet-18 CIFAR 64->64 3x3 32x32", 32, 64, 64, 32, 3, 1, 1, 1),
    ("ResNet-18 CIFAR 128->128 3x3 16x16", 32, 128, 128, 16, 3, 1, 1, 1),
    ("ResNet-18 CIFAR 256->256 3x3 8x8", 32, 256, 256, 8, 3, 1, 1, 1),
    ("ResNet-18 CIFAR 512->512 3x3 4x4", 32, 512, 512, 4, 3, 1, 1, 1),
    ("strided 64->128 3x3 s2 32x32", 32, 64, 128, 32, 3, 2, 1, 1),
    ("projection 64->128 1x1 s2 32x32", 32, 64, 128, 32, 1, 2, 0, 1),
    ("MobileNet depthwise 3x3 32ch 56x56", 32, 32, 32, 56, 3, 1, 1, 32),
    ("ImageNet stem 3->64 7x7 s2 224x224 (N=8)", 8, 3, 64, 224, 7, 2, 3, 1),
]


TIMER = time.perf_counter  # --cpu-time switches to time.process_time


def best_times(functions: dict, repeat: int) -> dict:
    """Best time in ms of each function; runs are interleaved so a busy machine slows all alike."""
    return _best_times(functions, repeat, TIMER)


def measure(shape, repeat: int, torch):
    label, n, cin, cout, size, k, stride, padding, groups = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, cin, size, size)).astype(np.float32)
    w = (rng.standard_normal((cout, cin // groups, k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    out_size = (size + 2 * padding - k) // stride + 1
    g = rng.standard_normal((n, cout, out_size, out_size)).astype(np.float32)

    mx, mw, mb = (minicnn.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tg = torch.tensor(g)

    def minicnn_forward():
        with minicnn.no_grad():
            F.conv2d(mx, mw, mb, stride, padding, 1, groups)

    def minicnn_train():
        mx.grad = mw.grad = mb.grad = None
        F.conv2d(mx, mw, mb, stride, padding, 1, groups).backward(g)

    def torch_forward():
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tw, tb, stride, padding, 1, groups)

    def torch_train():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, stride, padding, 1, groups).backward(tg)

    times = best_times({"minicnn_fwd": minicnn_forward, "torch_fwd": torch_forward}, repeat)
    times.update(best_times({"minicnn_train": minicnn_train, "torch_train": torch_train}, repeat))
    return label, times


# ResNet-18 (CIFAR) convolutions as one chain with relu between them: (C_in, C_out, stride).
RESNET18_CHAIN = [(3, 64, 1)] + [(64, 64, 1)] * 4 + [(64, 128, 2)] + [(128, 128, 1)] * 3 \
    + [(128, 256, 2)] + [(256, 256, 1)] * 3 + [(256, 512, 2)] + [(512, 512, 1)] * 3


def cols_strategy_costs(batch: int, repeat: int) -> dict:
    """Peak traced memory (MB) and best fwd+bwd time (ms) of the ResNet-18 conv chain: the whole-batch
    im2col rebuilding ``cols`` in backward (what conv2d does on a GPU) vs keeping the forward's ``cols``
    until backward, and the CPU's default of chunks of images on every thread (``functional/conv/engines/split.py``)."""
    import tracemalloc

    from minicnn.functional import conv as conv_module
    from minicnn.cpu import scratch
    from minicnn.functional.conv.engines import split as conv_split

    rng = np.random.default_rng(0)
    x = minicnn.tensor(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32))
    weights = [minicnn.tensor((rng.standard_normal((o, c, 3, 3)) * 0.05).astype(np.float32), requires_grad=True)
               for c, o, _ in RESNET18_CHAIN]
    rebuild = conv_module.im2col
    kept = {}

    def keeping_im2col(image, *args, out=None):
        # The backward call for an image gets the matrix its forward made (in its own memory, not
        # conv2d's scratch buffer), held until then.
        key = (id(image), args)
        if key in kept:
            return kept.pop(key)
        kept[key] = cols = rebuild(image, *args)
        return cols

    def train_step():
        out = x
        for weight, (_, _, stride) in zip(weights, RESNET18_CHAIN):
            out = F.relu(F.conv2d(out, weight, stride=stride, padding=1))
        out.sum().backward()
        for weight in weights:
            weight.grad = None

    results = {}
    strategies = (("whole batch, rebuild cols in backward", rebuild, False),
                  ("whole batch, keep cols for backward", keeping_im2col, False),
                  ("chunks of images on every thread", rebuild, True))
    minimum_flops = conv_split.MINIMUM_FLOPS
    for name, im2col_function, split in strategies:
        conv_module.im2col = im2col_function
        conv_split.MINIMUM_FLOPS = minimum_flops if split else float("inf")
        try:
            train_step()  # warm-up
            scratch.release()  # so the traced step counts conv2d's scratch buffers too
            tracemalloc.start()
            train_step()
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            times = []
            for _ in range(repeat):
                start = TIMER()
                train_step()
                times.append(TIMER() - start)
        finally:
            conv_module.im2col = rebuild
            conv_split.MINIMUM_FLOPS = minimum_flops
        results[name] = (peak, min(times) * 1000.0)
    return results


def machine_description(torch=None) -> str:
    return _machine_description(THREADS)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (best is kept)")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "conv.md"),
                        help="markdown file to write the table to ('' to skip)")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help="threads for numpy's BLAS, numba and torch alike (default: all cores)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time CPU seconds of this process instead of wall time: steadier on a shared "
                             "machine, meaningful with --threads 1 (spinning BLAS threads inflate it otherwise)")
    parser.add_argument("--append", action="store_true", help="add this run to --output instead of replacing it")
    parser.add_argument("--memory", action="store_true",
                        help="also compare rebuilding cols in backward with keeping them (memory and time)")
    parser.add_argument("--memory-batch", type=int, default=32, help="batch size of the --memory comparison")
    parser.add_argument("--no-direct", action="store_true",
                        help="turn off the direct path for small stride-1 layers (functional/conv/engines/direct.py): im2col instead")
    args = parser.parse_args(argv)
    global TIMER
    TIMER = time.process_time if args.cpu_time else time.perf_counter
    import torch

    torch.set_num_threads(THREADS)
    if args.no_direct:
        from minicnn.functional.conv.engines import direct as conv_direct

        conv_direct.MAXIMUM_TAPS = 0
    rows = [
        "| layer | minicnn fwd ms | torch fwd ms | fwd ratio | minicnn fwd+bwd ms | torch fwd+bwd ms | fwd+bwd ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    print(rows[0], rows[1], sep="\n", flush=True)
    for shape in SHAPES:
        label, t = measure(shape, args.repeat, torch)
        row = (
            f"| {label} | {t['minicnn_fwd']:.1f} | {t['torch_fwd']:.1f} | {t['minicnn_fwd'] / t['torch_fwd']:.2f}x "
            f"| {t['minicnn_train']:.1f} | {t['torch_train']:.1f} | {t['minicnn_train'] / t['torch_train']:.2f}x |"
        )
        rows.append(row)
        print(row, flush=True)
    memory_rows = []
    if args.memory:
        memory_rows = [
            "",
            f"ResNet-18 CIFAR conv chain (17 convs + relu, N={args.memory_batch}, float32), one fwd+bwd:",
            "",
            "| strategy | peak traced memory MB | best fwd+bwd ms |",
            "|---|---:|---:|",
        ]
        for name, (peak, ms) in cols_strategy_costs(args.memory_batch, args.repeat).items():
            memory_rows.append(f"| {name} | {peak:.0f} | {ms:.0f} |")
        print("\n".join(memory_rows), flush=True)
    if args.output:
        command = "python benchmarks/bench_conv.py " + " ".join(argv if argv is not None else sys.argv[1:])
        title = "# conv2d: minicnn vs torch.nn.functional.conv2d (float32, CPU)\n\n"
        section = "\n".join([
            f"## {THREADS} thread{'s' if THREADS > 1 else ''}, {'CPU' if args.cpu_time else 'wall'} time",
            "",
            f"Machine: {machine_description(torch)}.",
            "",
            f"Command: `{command.strip()}` (best of {args.repeat} runs after a warm-up; ratio = minicnn / torch;",
            "fwd+bwd computes dX, dW and db in both libraries; inputs NCHW-contiguous in both).",
            "",
            *rows,
            *memory_rows,
            "",
        ])
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        if args.append and output.exists():
            output.write_text(output.read_text().rstrip("\n") + "\n\n" + section)
        else:
            output.write_text(title + section)
        print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
