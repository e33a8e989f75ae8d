"""DataLoader throughput on an ImageFolder pipeline (PNG files decoded per sample), by num_workers.

    python benchmarks/bench_dataloader.py [--images 768] [--size 64] [--workers 0 2] [--repeats 3] [--persistent]

Each setting iterates one full epoch (batch 64, shuffle, RandomCrop + flip + Normalize) ``repeats``
times, interleaved with the other settings; the median seconds per epoch is reported. Epochs are
``--pause`` seconds apart, so that one epoch's leftovers (BLAS threads spinning after their last
product, exiting workers) do not run into the next one's timing.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import minicnn  # noqa: E402
from minicnn.data import ImageFolder, transforms as T  # noqa: E402
from minicnn.utils.data import DataLoader  # noqa: E402


def write_folder(root: str, images: int, size: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for index in range(images):
        folder = os.path.join(root, f"class{index % 4}")
        os.makedirs(folder, exist_ok=True)
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, f"{index:05d}.png"))


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the workers of completed epochs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def epoch_seconds(loader) -> tuple:
    """(wall seconds, CPU seconds of every process involved) for one epoch."""
    start, cpu = time.perf_counter(), _cpu_seconds()
    count = sum(len(labels) for _, labels in loader)
    assert count == len(loader.dataset)
    return time.perf_counter() - start, _cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=768)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--persistent", action="store_true", help="keep the workers between epochs")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between two timed epochs")
    args = parser.parse_args()
    minicnn.cpu.keep_freed_memory()  # as the training loop the batches feed does (minicnn/cpu/host_memory.py)
    crop = args.size - args.size // 8
    transform = T.Compose([T.ToTensor(), T.RandomCrop(crop), T.RandomHorizontalFlip(),
                           T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    with tempfile.TemporaryDirectory() as root:
        write_folder(root, args.images, args.size)
        dataset = ImageFolder(root, transform=transform)
        loaders = {workers: DataLoader(dataset, batch_size=64, shuffle=True, num_workers=workers, seed=0,
                                       persistent_workers=args.persistent and workers > 0)
                   for workers in args.workers}
        times = {workers: [] for workers in args.workers}
        for _ in range(args.repeats):
            for workers in args.workers:
                time.sleep(args.pause)
                times[workers].append(epoch_seconds(loaders[workers]))
    print(f"ImageFolder, {args.images} PNG images {args.size}x{args.size}, batch 64, {os.cpu_count()} cpus, "
          f"load average {os.getloadavg()[0]:.1f}, persistent workers: {args.persistent}")
    base = statistics.median(wall for wall, _ in times[args.workers[0]])
    for workers, samples in times.items():
        median = statistics.median(wall for wall, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        print(f"num_workers={workers}: {median * 1000:8.1f} ms/epoch  ({base / median:.2f}x of num_workers="
              f"{args.workers[0]}), CPU {cpu * 1000:.0f} ms/epoch"
              f"{' (workers counted once they exit)' if workers and args.persistent else ''}  "
              f"runs: {', '.join(f'{w * 1000:.0f}' for w, _ in samples)}")


if __name__ == "__main__":
    main()
