"""``minicnn evaluate``: accuracy, per-class accuracy and confusion matrix of a checkpoint on held-out data."""
from __future__ import annotations

import argparse

import numpy as np

from ..training import evaluate
from .checkpoint_model import load_trained_model
from .datasets import DATASETS, load_datasets, make_loader
from .train_command import _check_device

# A confusion matrix wider than this is not printed: it would not fit a terminal.
MAX_PRINTED_CLASSES = 20


def add_parser(commands) -> None:
    parser = commands.add_parser("evaluate", help="accuracy and confusion matrix of a checkpoint",
                                 description=__doc__.split("``: ")[-1])
    parser.add_argument("--checkpoint", required=True, metavar="PATH", help="a best.npz or last.npz from minicnn train")
    parser.add_argument("--dataset", default=None, help=f"one of {', '.join(DATASETS)} (default: the checkpoint's)")
    parser.add_argument("--data-dir", default=None, metavar="DIR", help="(default: the checkpoint's)")
    parser.add_argument("--download", action="store_true", help="download the dataset if missing (cifar10)")
    parser.add_argument("--batch-size", type=int, default=256, help="(default 256)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or sim (default cpu)")
    parser.set_defaults(run=run)


def class_labels(class_names) -> list[str]:
    """"3 cat" style labels; just "3" when the class names are the indices themselves (digits)."""
    return [name if name == str(index) else f"{index} {name}" for index, name in enumerate(class_names)]


def format_confusion(confusion: np.ndarray, class_names) -> str:
    """The confusion matrix as a text table: one row per true class, one column per predicted class
    (columns are headed by class index)."""
    width = max(5, len(str(int(confusion.max()))) + 1)
    labels = class_labels(class_names)
    label_width = max(len(label) for label in labels + ["true"]) + 2
    lines = [" " * label_width + "predicted".center(width * len(class_names)).rstrip(),
             "true".ljust(label_width) + "".join(f"{index:>{width}}" for index in range(len(class_names)))]
    for label, row in zip(labels, confusion):
        lines.append(label.ljust(label_width) + "".join(f"{count:>{width}}" for count in row))
    return "\n".join(lines)


def run(args) -> int:
    device = _check_device(args.device)
    model, checkpoint = load_trained_model(args.checkpoint)
    config = checkpoint.config
    spec = argparse.Namespace(
        dataset=args.dataset or config.get("dataset", "digits"),
        data_dir=args.data_dir if args.data_dir is not None else config.get("data_dir"),
        download=args.download, image_size=config.get("image_size"), train_limit=None, augment=False,
        seed=config.get("split_seed", 0), grayscale=config.get("grayscale", False),
        mean=config.get("mean"), std=config.get("std"),
    )
    _, eval_set, info = load_datasets(spec, need_train=False)
    for note in info.notes:
        print(note)
    class_names = config.get("class_names") or info.class_names
    result = evaluate(model.to(device), make_loader(eval_set, args.batch_size, shuffle=False), device,
                      num_classes=len(class_names))
    print(f"{config['model']} from {args.checkpoint} (epoch {checkpoint.epoch}) on {info.name} held-out data: "
          f"{result.count} images")
    print(f"accuracy {100 * result.accuracy:.2f}%   loss {result.loss:.4f}")
    print("\nper-class accuracy")
    labels = class_labels(class_names)
    label_width = max(len(label) for label in labels) + 2
    for label, accuracy, total in zip(labels, result.per_class_accuracy, result.confusion.sum(axis=1)):
        shown = "    n/a" if np.isnan(accuracy) else f"{100 * accuracy:6.2f}%"
        print(f"  {label:<{label_width}} {shown}  of {total}")
    if len(class_names) <= MAX_PRINTED_CLASSES:
        print("\nconfusion matrix (rows: true class, columns: predicted class)")
        print(format_confusion(result.confusion, class_names))
    return 0
