"""DataLoader throughput on an ImageFolder pipeline (PNG files decoded per sample), by num_workers.

    python benchmarks/bench_dataloader.py [--images 768] [--size 64] [--workers 0 2] [--repeats 3]

Each setting iterates one full epoch (batch 64, shuffle, RandomCrop + flip + Normalize) ``repeats``
times, interleaved with the other settings; the median seconds per epoch is reported.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

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


def epoch_seconds(dataset, workers: int) -> float:
    loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=workers, seed=0)
    start = time.perf_counter()
    count = sum(len(labels) for _, labels in loader)
    assert count == len(dataset)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=768)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    crop = args.size - args.size // 8
    transform = T.Compose([T.ToTensor(), T.RandomCrop(crop), T.RandomHorizontalFlip(),
                           T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    with tempfile.TemporaryDirectory() as root:
        write_folder(root, args.images, args.size)
        dataset = ImageFolder(root, transform=transform)
        times = {workers: [] for workers in args.workers}
        for _ in range(args.repeats):
            for workers in args.workers:
                times[workers].append(epoch_seconds(dataset, workers))
    print(f"ImageFolder, {args.images} PNG images {args.size}x{args.size}, batch 64, {os.cpu_count()} cpus")
    base = statistics.median(times[args.workers[0]])
    for workers, samples in times.items():
        median = statistics.median(samples)
        print(f"num_workers={workers}: {median * 1000:8.1f} ms/epoch  ({base / median:.2f}x of num_workers="
              f"{args.workers[0]})  runs: {', '.join(f'{s * 1000:.0f}' for s in samples)}")


if __name__ == "__main__":
    main()
