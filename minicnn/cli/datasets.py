"""The datasets the command line knows, each split into training and held-out images.

``load_datasets(spec)`` returns (train set, held-out set, DataInfo). ``spec`` carries the options of
``minicnn train``: dataset, data_dir, download, image_size, train_limit, augment, seed (and, when a
checkpoint is evaluated, the mean and std it was trained with).

Inputs are normalized per channel with the mean and std of the training images, measured on up to
10,000 of them, and stored in the checkpoint so ``evaluate`` and ``predict`` prepare images the same way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .. import data
from ..data import transforms as T
from .errors import UsageError

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "folder", "synthetic")
# The shared MNIST test set split for quick experiments: the first 8,000 train, the last 2,000 evaluate.
T10K_TRAIN = 8000
STATISTICS_SAMPLE = 10000


@dataclass
class DataInfo:
    """What a model and a checkpoint need to know about the data."""

    name: str
    in_channels: int
    image_size: int
    class_names: list
    mean: list
    std: list
    data_dir: str | None = None
    split_seed: int = 0
    grayscale: bool = False
    notes: list = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple:
        return (self.in_channels, self.image_size, self.image_size)

    def config(self) -> dict:
        """The part of a checkpoint's config that describes the data (JSON-able)."""
        return {"dataset": self.name, "data_dir": self.data_dir, "image_size": self.image_size,
                "in_channels": self.in_channels, "input_shape": list(self.input_shape),
                "class_names": list(self.class_names), "mean": self.mean, "std": self.std,
                "split_seed": self.split_seed, "grayscale": self.grayscale}


def make_loader(dataset, batch_size: int, shuffle: bool, seed: int = 0, transform=None, sampler=None):
    return data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle and sampler is None, seed=seed,
                           transform=transform, sampler=sampler)


def _require_dir(spec, what: str) -> str:
    if spec.data_dir is None:
        raise UsageError(f"--dataset {spec.dataset} needs --data-dir DIR pointing at {what}")
    if not os.path.isdir(spec.data_dir):
        raise UsageError(f"data directory {spec.data_dir} does not exist")
    return os.path.abspath(spec.data_dir)


def _channel_statistics(images: np.ndarray) -> tuple[list, list]:
    """Per-channel mean and std of uint8 (N, H, W, C) images scaled to [0, 1]."""
    means, stds = [], []
    for channel in range(images.shape[-1]):  # one channel at a time bounds the float copy (40 MB for CIFAR)
        values = images[:STATISTICS_SAMPLE, :, :, channel].astype(np.float32) / 255.0
        means.append(round(float(values.mean(dtype=np.float64)), 4))
        stds.append(round(max(float(values.std(dtype=np.float64)), 1e-3), 4))
    return means, stds


def _array_split(images, labels, classes, start, stop):
    return data.ArrayImageDataset(images[start:stop], labels[start:stop], classes=classes)


def _digits(spec, size):
    train = data.Digits(train=True, size=size)
    held_out = data.Digits(train=False, size=size)
    return train, held_out, "the 8x8 digits bundled with scikit-learn", []


def _mnist_like(spec, size, dataset_class, title):
    root = _require_dir(spec, f"the {title} IDX files")
    try:
        train = dataset_class(root, train=True)
        held_out = dataset_class(root, train=False)
        return train, held_out, root, []
    except FileNotFoundError:
        pass
    except (ValueError, OSError) as error:  # present but damaged: never silently fall back to the test set
        raise UsageError(f"cannot read {title} in {root}: {error}") from None
    try:
        test = dataset_class(root, train=False)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    except (ValueError, OSError) as error:
        raise UsageError(f"cannot read {title} in {root}: {error}") from None
    # Only the t10k files: the usual quick split of that set.
    note = (f"{root} holds only the {title} test set (t10k): training on its first {T10K_TRAIN:,} images, "
            f"evaluating on the last {len(test) - T10K_TRAIN:,}")
    classes = test.classes
    return (_array_split(test.data, test.targets, classes, 0, T10K_TRAIN),
            _array_split(test.data, test.targets, classes, T10K_TRAIN, len(test)), root, [note])


def _cifar10(spec, size):
    root = os.path.abspath(spec.data_dir) if spec.data_dir else None
    if root is not None and not os.path.isdir(root) and not spec.download:
        raise UsageError(f"data directory {spec.data_dir} does not exist")
    try:
        train = data.CIFAR10(root, train=True, download=spec.download)
        held_out = data.CIFAR10(root, train=False, download=spec.download)
    except FileNotFoundError as error:
        reason = str(error).split("; pass download=True")[0]  # the library's advice names its argument
        raise UsageError(f"{reason}; pass --download to fetch CIFAR-10 (binary version, 170 MB)") from None
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot load CIFAR-10: {error}") from None
    return train, held_out, root, []


def _read_folder(path, size, mode):
    """An ImageFolder read into memory, resized to size x size, as an in-memory dataset."""
    folder = data.ImageFolder(path, image_size=size, mode=mode)
    images = np.stack([folder.load_image(image_path) for image_path, _ in folder.samples])
    return data.ArrayImageDataset(images, folder.targets, classes=folder.classes)


def _folder(spec, size):
    root = _require_dir(spec, "an image folder (one sub-folder per class)")
    mode = "L" if getattr(spec, "grayscale", False) else "RGB"
    try:
        if all(os.path.isdir(os.path.join(root, name)) for name in ("train", "val")):
            train = _read_folder(os.path.join(root, "train"), size, mode)
            held_out = _read_folder(os.path.join(root, "val"), size, mode)
            if train.classes != held_out.classes:
                raise ValueError(f"train/ has classes {train.classes} but val/ has {held_out.classes}")
            return train, held_out, root, []
        everything = _read_folder(root, size, mode)
    except (FileNotFoundError, ValueError, OSError) as error:
        raise UsageError(f"cannot load an image folder from {root}: {error}") from None
    if len(everything) < 2:
        raise UsageError(f"the image folder {root} holds {len(everything)} image: too few to train and evaluate")
    held_out_count = max(1, len(everything) // 5)
    train, held_out = data.random_split(everything, [len(everything) - held_out_count, held_out_count],
                                        seed=spec.seed)
    note = (f"{root} has no train/ and val/ sub-folders: holding out a random 20% "
            f"({held_out_count} images, seed {spec.seed})")
    return train, held_out, root, [note]


def _synthetic(spec, size):
    # One dataset split in two: the class patterns come from the dataset's seed.
    images = data.SyntheticImages(num_samples=768, image_shape=(3, size, size), num_classes=4, seed=1)
    return (_array_split(images.data, images.targets, images.classes, 0, 512),
            _array_split(images.data, images.targets, images.classes, 512, 768), None, [])


# name -> (loader, default image size)
_LOADERS = {
    "digits": (_digits, 32),
    "mnist": (lambda spec, size: _mnist_like(spec, size, data.MNIST, "MNIST"), 28),
    "fashion-mnist": (lambda spec, size: _mnist_like(spec, size, data.FashionMNIST, "Fashion-MNIST"), 28),
    "cifar10": (_cifar10, 32),
    "folder": (_folder, 32),
    "synthetic": (_synthetic, 32),
}


def _images_of(dataset) -> np.ndarray:
    """The uint8 (N, H, W, C) array behind an in-memory dataset (a Subset's parent's, indexed)."""
    if isinstance(dataset, data.Subset):
        return _images_of(dataset.dataset)[np.asarray(dataset.indices)]
    return dataset.data


def load_datasets(spec, need_train: bool = True):
    """(training set, held-out set, DataInfo) for ``spec.dataset``; see the module docstring."""
    if spec.dataset not in _LOADERS:
        raise UsageError(f"unknown dataset {spec.dataset!r}; known datasets: {', '.join(DATASETS)}")
    loader, default_size = _LOADERS[spec.dataset]
    size = spec.image_size or default_size
    train, held_out, data_dir, notes = loader(spec, size)
    if spec.train_limit is not None and spec.train_limit < len(train):
        train = data.Subset(train, np.arange(spec.train_limit))
        notes.append(f"--train-limit: training on the first {spec.train_limit} images")

    mean, std = getattr(spec, "mean", None), getattr(spec, "std", None)
    images = _images_of(train if need_train else held_out)
    if mean is None:
        mean, std = _channel_statistics(images)
    channels = images.shape[-1]
    transform = [T.ToTensor()]
    if images.shape[1:3] != (size, size):
        transform.append(T.Resize((size, size)))
    transform.append(T.Normalize(mean, std))
    _set_transform(train, T.Compose(transform))
    _set_transform(held_out, T.Compose(transform))
    class_names = [str(name) for name in _classes_of(held_out)]
    info = DataInfo(name=spec.dataset, in_channels=channels, image_size=size, class_names=class_names,
                    mean=mean, std=std, data_dir=data_dir, split_seed=spec.seed,
                    grayscale=bool(getattr(spec, "grayscale", False)), notes=notes)
    return train, held_out, info


def augmentation(info: DataInfo):
    """The batch transform of ``--augment``: random shifts (crops of the zero-padded image), plus
    horizontal flips for colour images (a flipped digit is another symbol, a flipped cat is a cat).

    Colour photos get CIFAR's usual 4 pixels in 32 (size / 8); grey digits, which fill their frame,
    half of that (size / 16), so a shift never pushes a stroke out of the picture.
    """
    size = info.image_size
    if info.in_channels == 3:
        return T.Compose([T.RandomCrop(size, padding=max(1, size // 8)), T.RandomHorizontalFlip()])
    return T.RandomCrop(size, padding=max(1, size // 16))


def _set_transform(dataset, transform) -> None:
    while isinstance(dataset, data.Subset):
        dataset = dataset.dataset
    dataset.transform = transform


def _classes_of(dataset):
    while isinstance(dataset, data.Subset):
        dataset = dataset.dataset
    return dataset.classes
