"""ResNet-18 (CIFAR stem) on CIFAR-10: random crops and flips, SGD with momentum, cosine learning rate.

    python examples/train_resnet_cifar10.py --data-dir DIR          # the binary version's .bin files
    python examples/train_resnet_cifar10.py --download               # fetch it (170 MB) into --data-dir
    python examples/train_resnet_cifar10.py --synthetic              # a few steps on made-up images

The recipe is the usual one for ResNets on CIFAR-10 (lr 0.1, momentum 0.9, weight decay 5e-4, batch 128,
cosine over the epochs, pad-4 random crops and horizontal flips), which reaches about 95% test accuracy
in 200 epochs. On a CPU an epoch of ResNet-18 takes hours: use --device cuda, or fewer epochs and
--train-limit for a taste. --synthetic runs the same code for 4 steps (lr 0.01) on generated images.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

import minicnn
from minicnn import models, optim
from minicnn.data import CIFAR10, DataLoader, Subset, SyntheticImages, transforms as T
from minicnn.train import fit

# Per-channel mean and std of the CIFAR-10 training images.
MEAN, STD = [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]


def load_data(args):
    """(train, held-out) datasets, or None after printing why there is no data."""
    transform = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    if args.synthetic:
        images = SyntheticImages(num_samples=48, image_shape=(3, 32, 32), num_classes=10, seed=0, transform=transform)
        return Subset(images, np.arange(32)), Subset(images, np.arange(32, 48))
    try:
        train = CIFAR10(args.data_dir, train=True, transform=transform, download=args.download)
        test = CIFAR10(args.data_dir, train=False, transform=transform, download=args.download)
    except FileNotFoundError as error:
        print(f"train_resnet_cifar10: no CIFAR-10 data: {error}\n"
              "Point --data-dir at the folder with data_batch_1.bin ... test_batch.bin (the binary version), "
              "add --download to fetch it, or try --synthetic.", file=sys.stderr)
        return None
    if args.train_limit:
        train = Subset(train, np.arange(min(args.train_limit, len(train))))
    return train, test


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 binary folder (default ~/.minicnn/data/CIFAR10)")
    parser.add_argument("--download", action="store_true")
    parser.add_argument("--synthetic", action="store_true", help="a few steps on generated images, no data needed")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--train-limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/resnet18-cifar10")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.npz")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.synthetic:
        args.epochs, args.batch_size, args.lr, args.out = 1, 8, 0.01, args.out + "-synthetic"

    minicnn.manual_seed(args.seed)
    datasets = load_data(args)
    if datasets is None:
        return 2
    train_set, test_set = datasets
    augment = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()])
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed, transform=augment)
    test_loader = DataLoader(test_set, batch_size=256)

    model = models.resnet18(num_classes=10, cifar=True)  # 3x3 stem, no max-pool: 32x32 keeps its detail
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    config = {"model": "resnet18", "model_kwargs": {"num_classes": 10, "cifar": True},
              "dataset": "synthetic" if args.synthetic else "cifar10", "data_dir": args.data_dir, "image_size": 32,
              "in_channels": 3, "input_shape": [3, 32, 32], "class_names": list(CIFAR10.classes),
              "mean": MEAN, "std": STD}
    print(f"resnet18 (cifar stem): {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_set)} training images, {len(test_set)} held out, {len(train_loader)} steps per epoch")
    history = fit(model, train_loader, test_loader, optimizer=optimizer, scheduler=scheduler, epochs=args.epochs,
                  device=args.device, out_dir=args.out, resume=args.resume, config=config)
    print(f"best held-out accuracy {100 * history.best('val_acc'):.2f}%; checkpoints in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
