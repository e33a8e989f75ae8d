"""Why convolutions help: a fully connected net and a small CNN, on MNIST and on MNIST with shuffled pixels.

    python examples/permuted_pixels.py [--data-dir DIR] [--epochs 3]

One fixed random permutation of the 784 pixel positions is applied to every image, training and
held-out alike. No information is lost: a network that ignores where pixels are (the fully connected
one: its first layer gives every pixel its own weights) learns the permuted task exactly as well as the
original. A CNN is built on the assumption that neighbouring pixels belong together (small kernels slid
over the image, pooling); on normal images that assumption is its advantage, on permuted images the
neighbours are unrelated and the advantage should disappear.

Data: the MNIST t10k files in --data-dir (default ../shared/data/mnist), first 8,000 images for
training, last 2,000 held out. Prints a 2x2 table of held-out accuracies.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import minicnn
from minicnn import nn, optim
from minicnn.data import MNIST, ArrayImageDataset, DataLoader, transforms as T
from minicnn.train import evaluate, fit

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def fully_connected() -> nn.Module:
    """784 -> 100 -> 10: 79,510 parameters."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))


def small_cnn() -> nn.Module:
    """Two 5x5 convolutions with 2x2 max-pools, then one linear layer: 5,994 parameters."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),   # 8 x 12 x 12
        nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 4 x 4
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10),
    )


def split(images, labels, permutation=None):
    """(train, held-out) datasets of the t10k images, with pixel positions permuted when asked."""
    if permutation is not None:
        count = len(images)
        images = images.reshape(count, -1)[:, permutation].reshape(images.shape)
    transform = T.Compose([T.ToTensor(), T.Normalize([0.1307], [0.3081])])
    return (ArrayImageDataset(images[:8000], labels[:8000], transform),
            ArrayImageDataset(images[8000:], labels[8000:], transform))


def train_and_score(make_model, datasets, args) -> float:
    minicnn.manual_seed(args.seed)  # every model starts from the same seed
    model = make_model()
    train_set, held_out = datasets
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    fit(model, DataLoader(train_set, batch_size=64, shuffle=True, seed=args.seed), optimizer=optimizer,
        epochs=args.epochs, device=args.device, progress=False, log=None)
    return evaluate(model, DataLoader(held_out, batch_size=500), args.device).accuracy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.002)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        mnist = MNIST(args.data_dir, train=False)
    except FileNotFoundError as error:
        print(f"permuted_pixels: {error}", file=sys.stderr)
        return 2

    permutation = np.random.default_rng(1234).permutation(28 * 28)
    pixel_orders = {"normal pixels": None, "permuted pixels": permutation}
    networks = {"fully connected": fully_connected, "small CNN": small_cnn}
    for name, make in networks.items():
        print(f"{name}: {sum(p.numel() for p in make().parameters()):,} parameters")
    scores, started = {}, time.perf_counter()
    for order, permutation in pixel_orders.items():
        datasets = split(mnist.data, mnist.targets, permutation)
        for name, make in networks.items():
            scores[name, order] = train_and_score(make, datasets, args)
            print(f"  {name:<16} {order:<16} {100 * scores[name, order]:.2f}%", flush=True)

    print(f"\nheld-out accuracy after {args.epochs} epochs on 8,000 MNIST images ({time.perf_counter() - started:.0f}s)")
    print(f"{'':<18}" + "".join(f"{order:>18}" for order in pixel_orders))
    for name in networks:
        print(f"{name:<18}" + "".join(f"{100 * scores[name, order]:>17.2f}%" for order in pixel_orders))
    return 0


if __name__ == "__main__":
    sys.exit(main())
