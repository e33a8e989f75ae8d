"""The three kinds of image a transform accepts, and the conversions between them.

- a PIL image (what torchvision's datasets hand to their transforms);
- a uint8 NumPy array laid out (H, W), (H, W, C) or a batch (N, H, W, C): the raw images minicnn's
  datasets hold, treated exactly like the PIL image they would make;
- a "tensor image": a float NumPy array (C, H, W) / (N, C, H, W), or a minicnn Tensor (C, H, W) /
  (N, C, H, W) of any dtype (a uint8 Tensor is a uint8 CHW tensor image, as in torchvision).

A transform computes PIL images with Pillow (which is what torchvision does for them), so the
results match torchvision's; tensor images take the vectorized NumPy path.
"""
from __future__ import annotations

import enum

import numpy as np

from .. import backend
from ..autograd import Tensor

__all__ = ["InterpolationMode", "is_pil", "pil_to_array", "array_to_pil", "interpolation_name", "pil_resample"]


class InterpolationMode(str, enum.Enum):
    """torchvision's interpolation names; each also compares equal to its string."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def interpolation_name(value, allowed, owner: str) -> str:
    name = value.value if isinstance(value, InterpolationMode) else str(value)
    if name not in allowed:
        raise ValueError(f"{owner}: interpolation must be one of {sorted(allowed)}, got {value!r}")
    return name


def pil_resample(name: str) -> int:
    from PIL import Image

    return {"nearest": Image.NEAREST, "nearest-exact": Image.NEAREST, "bilinear": Image.BILINEAR,
            "bicubic": Image.BICUBIC, "box": Image.BOX, "hamming": Image.HAMMING,
            "lanczos": Image.LANCZOS}[name]


def is_pil(image) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return False
    return isinstance(image, Image.Image)


def is_raw_uint8(image) -> bool:
    """A uint8 NumPy array in the datasets' (H, W), (H, W, C) or (N, H, W, C) layout."""
    return isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim in (2, 3, 4)


def pil_to_array(image) -> np.ndarray:
    """uint8 (H, W, C) from a PIL image (C = 1 for one-band images)."""
    pixels = np.asarray(image)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def array_to_pil(pixels: np.ndarray):
    """A PIL image from uint8 (H, W) or (H, W, C) with C in 1, 3, 4."""
    from PIL import Image

    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(pixels))


def on_raw_images(images: np.ndarray, function) -> np.ndarray:
    """Apply a PIL-image ``function`` to raw uint8 arrays, one image at a time, keeping the layout."""
    if images.ndim == 4:
        return np.stack([on_raw_images(image, function) for image in images])
    out = pil_to_array(function(array_to_pil(images)))
    return out[:, :, 0] if images.ndim == 2 and out.shape[2] == 1 else out


def tensor_to_host(image: Tensor) -> np.ndarray:
    return backend.to_host(image.array)
