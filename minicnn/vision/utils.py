"""``make_grid`` and ``save_image``: a batch of images tiled into one picture, as torchvision's utils."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Tensor

__all__ = ["make_grid", "save_image"]


def _host_batch(tensor) -> np.ndarray:
    if isinstance(tensor, (list, tuple)):
        return np.stack([_host_batch(item) for item in tensor])
    if isinstance(tensor, Tensor):
        return backend.to_host(tensor.array)
    return np.asarray(tensor)


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False, value_range=None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile (N, C, H, W) images (or a list of (C, H, W)) into one (C', rows * (H + padding) + padding,
    cols * (W + padding) + padding) image, ``nrow`` images per row. One-channel images become three
    channels. ``normalize`` maps ``value_range`` (default: the min and max, per image with ``scale_each``)
    to [0, 1]. A single image is returned without a border, as torchvision does.
    """
    images = _host_batch(tensor)
    if images.ndim == 2:
        images = images[None]
    if images.ndim == 3:
        images = np.concatenate([images] * 3) if images.shape[0] == 1 else images
        images = images[None]
    if images.ndim != 4:
        raise ValueError(f"make_grid: expected a (N, C, H, W) batch or a list of (C, H, W) images, got shape "
                         f"{images.shape}")
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, axis=1)
    if normalize:
        images = images.astype(np.float32 if images.dtype.kind != "f" else images.dtype, copy=True)

        def rescale(block, low, high):
            block[...] = (np.clip(block, low, high) - low) / max(high - low, 1e-5)

        if scale_each:
            for image in images:
                rescale(image, *(value_range if value_range is not None else (image.min(), image.max())))
        else:
            rescale(images, *(value_range if value_range is not None else (images.min(), images.max())))
    if len(images) == 1:
        return Tensor(images[0])
    count, channels, height, width = images.shape
    columns = min(nrow, count)
    rows = int(math.ceil(count / columns))
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, cell_h * rows + padding, cell_w * columns + padding), pad_value, dtype=images.dtype)
    for k in range(count):
        y, x = divmod(k, columns)
        grid[:, y * cell_h + padding:(y + 1) * cell_h, x * cell_w + padding:(x + 1) * cell_w] = images[k]
    return Tensor(grid)


def save_image(tensor, fp, format=None, **kwargs) -> None:
    """Save ``make_grid(tensor, **kwargs)`` as an image file: values in [0, 1] scaled to 0..255 and rounded."""
    from PIL import Image

    grid = backend.to_host(make_grid(tensor, **kwargs).array)
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(fp, format=format)
