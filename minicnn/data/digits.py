"""Digits: scikit-learn's bundled 8x8 handwritten digits (1,797 images), no download needed.

The default dataset of minicnn: small enough to train LeNet-5 in seconds on a CPU. The images (values
0..16) are scaled to uint8 0..255 like every other dataset here, optionally upscaled (bilinear) to a
size a CNN expects, e.g. ``Digits(size=32)`` for LeNet-5. The train/test split is stratified and fixed
by ``seed``: the same images are held out every time, whatever else is random.
"""
from __future__ import annotations

import numpy as np

from .dataset import ArrayImageDataset
from . import image_ops

__all__ = ["Digits", "load_digit_arrays"]

_cache: dict = {}


def load_digit_arrays():
    """(images float64 (1797, 8, 8) in [0, 16], labels int64 (1797,)), loaded once per process."""
    if "arrays" not in _cache:
        try:
            from sklearn.datasets import load_digits
        except ImportError as error:
            raise ImportError("Digits needs scikit-learn, which ships the images: pip install scikit-learn") from error
        bunch = load_digits()
        _cache["arrays"] = (bunch.images.astype(np.float64), bunch.target.astype(np.int64))
    return _cache["arrays"]


def split_indices(labels: np.ndarray, test_fraction: float, seed: int):
    """Stratified split: within each class, a seeded shuffle puts round(fraction * count) in test."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.nonzero(labels == label)[0])
        held_out = int(round(test_fraction * len(members)))
        test.append(members[:held_out])
        train.append(members[held_out:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


class Digits(ArrayImageDataset):
    """Handwritten digits 0..9 as uint8 (size, size, channels) images.

    Args:
        train: the training part (about 80%) or the held-out part.
        size: side length of the images; 8 is the original, larger values are bilinear upscales
            (28 or 32 suit LeNet-5).
        test_fraction: share of each class held out for ``train=False``.
        seed: fixes which images are held out (not affected by ``minicnn.manual_seed``).
        transform: default ``ToTensor()`` -> float32 (channels, size, size) in [0, 1].
        channels: 1 (grayscale) or 3 (the gray copied into RGB, for models built for colour).
    """

    classes = [str(digit) for digit in range(10)]

    def __init__(self, train: bool = True, size: int = 8, test_fraction: float = 0.2, seed: int = 0,
                 transform=None, channels: int = 1):
        if not 0 < test_fraction < 1:
            raise ValueError(f"Digits: test_fraction must lie in (0, 1), got {test_fraction}")
        if channels not in (1, 3):
            raise ValueError(f"Digits: channels must be 1 or 3, got {channels}")
        if int(size) < 1:
            raise ValueError(f"Digits: size must be a positive int, got {size}")
        self.train, self.size, self.test_fraction, self.seed = train, int(size), test_fraction, seed
        images, labels = load_digit_arrays()
        train_idx, test_idx = split_indices(labels, test_fraction, seed)
        self.indices = train_idx if train else test_idx
        pixels = image_ops.resize(images[self.indices] / 16.0, self.size, self.size, "bilinear")
        pixels = np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)[..., None]
        if channels == 3:
            pixels = np.repeat(pixels, 3, axis=-1)
        super().__init__(np.ascontiguousarray(pixels), labels[self.indices], transform)
