"""ImageFolder: images sorted into one sub-folder per class, read with Pillow.

    root/cat/0001.png
    root/cat/0002.jpg
    root/dog/a.jpeg

Classes are the sub-folder names in sorted order (``classes``, ``class_to_idx``); ``samples`` is the
sorted list of (path, class index). Images are read when asked for, or all at once with
``preload=True`` (which needs ``image_size`` or images of one size), after which batches take the
array fast path like MNIST.
"""
from __future__ import annotations

import numbers
import zlib
from pathlib import Path

import numpy as np

from .dataset import ArrayImageDataset, Dataset, _as_index_array
from . import transforms as T

__all__ = ["ImageFolder", "IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


class ImageFolder(Dataset):
    """A classification dataset from a folder tree.

    Args:
        root: the folder holding one sub-folder per class.
        transform: applied to the uint8 (H, W, C) image; default ``ToTensor()`` -> float32 (C, H, W).
        image_size: None keeps each image's size; an int s means (s, s); or (height, width).
            Resizing is Pillow's bilinear.
        mode: "RGB" (3 channels) or "L" (1 channel, grayscale).
        preload: read every image into memory now (uint8 array) so batches are one fancy-index.
    """

    def __init__(self, root, transform=None, image_size=None, mode: str = "RGB", preload: bool = False,
                 extensions=IMAGE_EXTENSIONS):
        if mode not in ("RGB", "L"):
            raise ValueError(f"ImageFolder: mode must be 'RGB' or 'L', got {mode!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"ImageFolder: {self.root} is not a directory")
        self.mode = mode
        if isinstance(image_size, numbers.Integral):
            image_size = (int(image_size), int(image_size))
        self.image_size = tuple(image_size) if image_size is not None else None
        self.transform = T.ToTensor() if transform is None else transform
        self.classes = sorted(entry.name for entry in self.root.iterdir() if entry.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"ImageFolder: {self.root} has no class sub-folders")
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}
        extensions = tuple(e.lower() for e in extensions)
        self.samples = []
        for name in self.classes:
            files = sorted(p for p in (self.root / name).rglob("*") if p.is_file() and p.suffix.lower() in extensions)
            if not files:
                raise FileNotFoundError(f"ImageFolder: class folder {self.root / name} holds no images "
                                        f"(looked for {', '.join(extensions)})")
            self.samples.extend((path, self.class_to_idx[name]) for path in files)
        self.targets = np.asarray([label for _, label in self.samples], dtype=np.int64)
        self._arrays = self._preload() if preload else None

    def load_image(self, path) -> np.ndarray:
        """One image as uint8 (H, W, C), converted to ``mode`` and resized to ``image_size``."""
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                image = image.convert(self.mode)
                if self.image_size is not None and image.size != self.image_size[::-1]:
                    image = image.resize(self.image_size[::-1], Image.BILINEAR)
                pixels = np.asarray(image, dtype=np.uint8)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, zlib.error,
                Image.DecompressionBombError) as error:  # what Pillow raises for damaged files, by format
            raise ValueError(f"ImageFolder: cannot read image {path}: {error}") from None
        return pixels[:, :, None] if pixels.ndim == 2 else pixels

    def _preload(self) -> ArrayImageDataset:
        images = [self.load_image(path) for path, _ in self.samples]
        shapes = {image.shape for image in images}
        if len(shapes) != 1:
            raise ValueError(f"ImageFolder: preload needs images of one size, found {sorted(shapes)}; "
                             "pass image_size=")
        return ArrayImageDataset(np.stack(images), self.targets, self.transform)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index):
        if self._arrays is not None:
            return self._arrays[index]
        path, label = self.samples[index]
        return self.transform(self.load_image(path)), label

    def get_batch(self, indices) -> tuple:
        if self._arrays is not None:
            return self._arrays.get_batch(indices)
        return super().get_batch(_as_index_array(indices))

    def __repr__(self) -> str:
        return f"ImageFolder(root={str(self.root)!r}, n={len(self)}, classes={len(self.classes)})"
