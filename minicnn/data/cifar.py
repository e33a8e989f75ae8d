"""CIFAR-10 from its binary version (no pickle involved).

``cifar-10-batches-bin/`` holds ``data_batch_1.bin`` .. ``data_batch_5.bin`` (training) and
``test_batch.bin``. Each record is 3,073 bytes: one label byte (0..9), then 1,024 red, 1,024 green and
1,024 blue pixel bytes, each plane row by row.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset import ArrayImageDataset
from .download import default_data_dir, download_from_mirrors, extract_archive

__all__ = ["CIFAR10", "read_cifar_binary"]

_RECORD = 1 + 3 * 32 * 32


def read_cifar_binary(path, num_classes: int = 10):
    """One CIFAR binary batch file -> (images uint8 (N, 32, 32, 3), labels int64 (N,))."""
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise ValueError(f"read_cifar_binary: {path} holds {raw.size} bytes, not a whole number of "
                         f"{_RECORD}-byte records (truncated or not a CIFAR-10 binary batch)")
    records = raw.reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= num_classes:
        raise ValueError(f"read_cifar_binary: {path} holds label {labels.max()}, expected 0..{num_classes - 1}")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class CIFAR10(ArrayImageDataset):
    """CIFAR-10: 50,000 training and 10,000 test images, (32, 32, 3) uint8, ten classes.

    ``ds[i]`` is ``(transform(image), label)``; the default transform gives float32 (3, 32, 32) in [0, 1].
    ``root`` (default ``default_data_dir()/CIFAR10``) may be the folder holding the .bin files or
    the one holding ``cifar-10-batches-bin``. ``download=True`` fetches and verifies the tarball.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    folder = "cifar-10-batches-bin"
    train_files = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_files = ["test_batch.bin"]
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root=None, train: bool = True, transform=None, download: bool = False):
        self.root = Path(root) if root is not None else default_data_dir() / "CIFAR10"
        self.train = train
        names = self.train_files if train else self.test_files
        folder = self._find_folder(names)
        if folder is None and download:
            archive = download_from_mirrors([self.url], self.root, md5=self.md5)
            extract_archive(archive, self.root)
            folder = self._find_folder(names)
        if folder is None:
            raise FileNotFoundError(
                f"CIFAR10: {', '.join(names)} not found in {self.root} or {self.root / self.folder}; "
                "pass download=True to fetch the binary version")
        parts = [read_cifar_binary(folder / name) for name in names]
        images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        labels = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        super().__init__(images, labels, transform)

    def _find_folder(self, names):
        for folder in (self.root, self.root / self.folder):
            if all((folder / name).is_file() for name in names):
                return folder
        return None
