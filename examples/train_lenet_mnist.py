"""LeNet-5 on MNIST with minicnn's library API: data, model, optimizer, fit, evaluate.

    python examples/train_lenet_mnist.py                       # ../shared/data/mnist, 5 epochs
    python examples/train_lenet_mnist.py --data-dir DIR --epochs 5 --out runs/lenet-mnist

With the full MNIST (train-* and t10k-* files in DIR) it trains on the 60,000 training images and
evaluates on the 10,000 test images. With only the t10k files (as in ../shared/data/mnist) it trains on
the first 8,000 test images and evaluates on the last 2,000.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import minicnn
from minicnn import models, optim
from minicnn.data import MNIST, ArrayImageDataset, DataLoader, transforms as T
from minicnn.train import evaluate, fit

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
MEAN, STD = 0.1307, 0.3081  # of the MNIST training images


def load_split(data_dir: Path):
    """(train, held-out, description) from the IDX files in ``data_dir``."""
    transform = T.Compose([T.ToTensor(), T.Normalize([MEAN], [STD])])
    try:
        return (MNIST(data_dir, train=True, transform=transform), MNIST(data_dir, train=False, transform=transform),
                "MNIST train (60,000) / test (10,000)")
    except FileNotFoundError:
        test = MNIST(data_dir, train=False)  # raises FileNotFoundError with the file names when missing
    train = ArrayImageDataset(test.data[:8000], test.targets[:8000], transform, classes=test.classes)
    held_out = ArrayImageDataset(test.data[8000:], test.targets[8000:], transform, classes=test.classes)
    return train, held_out, "MNIST t10k only: first 8,000 train / last 2,000 held out"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.002)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/lenet5-mnist")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    try:
        train_set, held_out, description = load_split(args.data_dir)
    except FileNotFoundError as error:
        print(f"train_lenet_mnist: {error}\n(pass --data-dir DIR holding the MNIST IDX files)", file=sys.stderr)
        return 2
    print(f"{description}: {len(train_set)} training, {len(held_out)} held-out images")

    minicnn.manual_seed(args.seed)
    model = models.lenet5(num_classes=10, in_channels=1, input_size=28)  # conv1 pads 28x28 to LeNet's 32x32
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    held_out_loader = DataLoader(held_out, batch_size=500)
    config = {"model": "lenet5", "model_kwargs": {"num_classes": 10, "in_channels": 1, "input_size": 28},
              "dataset": "mnist", "data_dir": str(args.data_dir.resolve()), "image_size": 28, "in_channels": 1,
              "input_shape": [1, 28, 28], "class_names": [str(d) for d in range(10)], "mean": [MEAN], "std": [STD]}

    started = time.perf_counter()
    fit(model, train_loader, held_out_loader, optimizer=optimizer, scheduler=scheduler, epochs=args.epochs,
        device=args.device, out_dir=args.out, config=config)
    seconds = time.perf_counter() - started
    result = evaluate(model, held_out_loader, args.device)
    print(f"held-out accuracy after {args.epochs} epochs: {100 * result.accuracy:.2f}% "
          f"({result.count} images), training took {seconds:.0f}s")
    print(f"checkpoints in {args.out}; try: python -m minicnn evaluate --checkpoint {args.out}/last.npz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
