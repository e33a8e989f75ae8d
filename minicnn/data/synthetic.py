"""SyntheticImages: random but learnable images, for tests and benchmarks that must not download.

Each class has its own smooth mean pattern (a random low-resolution image upscaled); a sample is its
class pattern plus independent per-pixel noise, clipped and stored as uint8 like a real dataset. A
small CNN learns it well above chance in a few steps; with more noise it gets harder.
"""
from __future__ import annotations

import numpy as np

from .dataset import ArrayImageDataset
from . import image_ops

__all__ = ["SyntheticImages"]


class SyntheticImages(ArrayImageDataset):
    """``num_samples`` images of ``image_shape`` (C, H, W) in ``num_classes`` balanced classes.

    Everything is drawn from ``seed`` (independent of ``minicnn.manual_seed``), so equal arguments give
    equal datasets. ``ds[i]`` is ``(transform(image), label)``; default float32 (C, H, W) in [0, 1].
    ``noise`` is the standard deviation of the per-pixel noise on the [0, 1] scale.
    """

    def __init__(self, num_samples: int = 1000, image_shape=(3, 32, 32), num_classes: int = 10, seed: int = 0,
                 noise: float = 0.2, transform=None):
        channels, height, width = (int(d) for d in image_shape)
        if num_samples < 1 or num_classes < 1 or min(channels, height, width) < 1:
            raise ValueError(f"SyntheticImages: need positive sizes, got num_samples={num_samples}, "
                             f"image_shape={tuple(image_shape)}, num_classes={num_classes}")
        rng = np.random.default_rng(seed)
        coarse = rng.random((num_classes, channels, 4, 4))
        patterns = image_ops.resize(coarse, height, width, "bilinear")  # (K, C, H, W), smooth
        labels = rng.permutation(np.arange(num_samples) % num_classes).astype(np.int64)
        images = np.empty((num_samples, height, width, channels), dtype=np.uint8)
        for start in range(0, num_samples, 1024):  # in chunks to bound the float64 temporaries
            stop = min(start + 1024, num_samples)
            noisy = patterns[labels[start:stop]] + noise * rng.standard_normal((stop - start, channels, height, width))
            images[start:stop] = np.clip(np.rint(noisy * 255.0), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
        super().__init__(images, labels, transform, classes=[f"class_{k}" for k in range(num_classes)])
        self.num_classes = num_classes
