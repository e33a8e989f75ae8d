"""Colour transforms: ColorJitter (brightness, contrast, saturation, hue), Grayscale, RandomGrayscale.

Tensor images follow torchvision's tensor functions (blends clipped to [0, 1], luma
0.2989 R + 0.587 G + 0.114 B, hue through HSV); PIL images use Pillow's ``ImageEnhance`` and HSV
mode, as torchvision does for them.
"""
from __future__ import annotations

import numbers

import numpy as np

from .transform_base import Transform, _generator

__all__ = ["ColorJitter", "Grayscale", "RandomGrayscale", "rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb",
           "adjust_hue"]


def rgb_to_grayscale(images: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of (..., 3, H, W) -> (..., 1, H, W); a one-channel image is its own gray."""
    if images.shape[-3] == 1:
        return images
    weights = np.asarray([0.2989, 0.587, 0.114], dtype=images.dtype).reshape(3, 1, 1)
    return (images[..., :3, :, :] * weights).sum(axis=-3, keepdims=True)


def rgb_to_hsv(images: np.ndarray) -> np.ndarray:
    """(..., 3, H, W) RGB in [0, 1] -> HSV with every channel in [0, 1] (hue as a fraction of a turn)."""
    r, g, b = images[..., 0, :, :], images[..., 1, :, :], images[..., 2, :, :]
    maxc, minc = images.max(axis=-3), images.min(axis=-3)
    grey = maxc == minc
    spread = maxc - minc
    saturation = spread / np.where(grey, 1, maxc)
    divisor = np.where(grey, 1, spread)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    # The hue sector is the channel holding the maximum (red first, then green, then blue).
    hue = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = np.fmod(hue / 6.0 + 1.0, 1.0)
    return np.stack([hue, saturation, maxc], axis=-3).astype(images.dtype, copy=False)


def hsv_to_rgb(images: np.ndarray) -> np.ndarray:
    """The inverse of ``rgb_to_hsv``."""
    h, s, v = images[..., 0, :, :], images[..., 1, :, :], images[..., 2, :, :]
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]  # (r, g, b) per sector
    out = np.zeros(images.shape, dtype=images.dtype)
    for index, channels in enumerate(table):
        inside = sector == index
        for c in range(3):
            out[..., c, :, :] = np.where(inside, channels[c], out[..., c, :, :])
    return out


def adjust_hue(images: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Rotate the hue of (N, 3, H, W) images by ``factors`` (N,) turns in [-0.5, 0.5]."""
    if images.shape[1] == 1:
        return images
    hsv = rgb_to_hsv(images)
    hsv[:, 0] = np.mod(hsv[:, 0] + factors.reshape(-1, 1, 1).astype(images.dtype), 1.0)
    return hsv_to_rgb(hsv)


def _check_range(value, name: str, center: float = 1.0, bound=(0.0, float("inf")), clip_first_on_zero=True):
    """torchvision's ``_check_input``: v -> [center - v, center + v]; a (lo, hi) pair is taken as is.
    Returns None when the range is the single value ``center`` (the adjustment is then skipped)."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"ColorJitter: if {name} is a single number, it must be non negative, got {value}")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"ColorJitter: {name} should be a single number or a list/tuple with length 2, got {value!r}")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"ColorJitter: {name} values should be between {bound}, got {value}")
    return None if value[0] == value[1] == center else tuple(value)


def _blend(images, other, factor):
    return np.clip(factor * images + (1 - factor) * other, 0, 1)


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue, applied in a random order per image (torchvision).

    Factors are drawn uniformly from [max(0, 1 - v), 1 + v] (hue: [-v, v] turns, v <= 0.5) or from a
    given (min, max). Brightness scales, contrast blends toward the mean gray level, saturation toward
    the grayscale image, hue rotates through HSV; float results are clipped to [0, 1].
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _check_range(brightness, "brightness")
        self.contrast = _check_range(contrast, "contrast")
        self.saturation = _check_range(saturation, "saturation")
        self.hue = _check_range(hue, "hue", center=0.0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    def _draws(self, count: int):
        """Per image: the order of the four adjustments (argsort of four uniforms) and four factors."""
        draws = _generator().random((count, 8))
        order = np.argsort(draws[:, :4], axis=1)
        factors = []
        for column, bounds in enumerate((self.brightness, self.contrast, self.saturation, self.hue)):
            factors.append(None if bounds is None else bounds[0] + draws[:, 4 + column] * (bounds[1] - bounds[0]))
        return order, factors

    def apply_batch(self, images):
        order, factors = self._draws(len(images))
        out = images.copy()
        for position in range(4):
            for op, factor in enumerate(factors):
                chosen = np.nonzero(order[:, position] == op)[0]
                if factor is None or not len(chosen):
                    continue
                out[chosen] = self._adjust(op, out[chosen], factor[chosen].astype(images.dtype))
        return out

    @staticmethod
    def _adjust(op: int, images, factor):
        shaped = factor.reshape(-1, 1, 1, 1)
        if op == 0:
            return np.clip(images * shaped, 0, 1)
        if op == 1:
            return _blend(images, rgb_to_grayscale(images).mean(axis=(1, 2, 3), keepdims=True), shaped)
        if op == 2:
            return images if images.shape[1] == 1 else _blend(images, rgb_to_grayscale(images), shaped)
        return adjust_hue(images, factor)

    def apply_pil(self, image):
        from PIL import Image, ImageEnhance

        order, factors = self._draws(1)
        enhancers = (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color)
        for op in order[0]:
            if factors[op] is None:
                continue
            factor = float(factors[op][0])
            if op < 3:
                image = enhancers[op](image).enhance(factor)
            elif image.mode not in ("L", "1", "I", "F"):
                mode = image.mode
                h, s, v = image.convert("HSV").split()
                shifted = np.asarray(h, dtype=np.uint8) + np.uint8(np.int32(factor * 255) % 256)  # wraps around
                image = Image.merge("HSV", (Image.fromarray(shifted.astype(np.uint8), "L"), s, v)).convert(mode)
        return image

    def __repr__(self) -> str:
        return (f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, saturation={self.saturation}, "
                f"hue={self.hue})")


class Grayscale(Transform):
    """Luma as 1 channel, or repeated to 3 (``num_output_channels``)."""

    def __init__(self, num_output_channels: int = 1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels should be either 1 or 3, got {num_output_channels}")
        self.num_output_channels = num_output_channels

    def apply_batch(self, images):
        gray = rgb_to_grayscale(images)
        return np.repeat(gray, self.num_output_channels, axis=1) if self.num_output_channels == 3 else gray

    def apply_pil(self, image):
        from PIL import Image

        gray = image.convert("L")
        if self.num_output_channels == 1:
            return gray
        return Image.fromarray(np.dstack([np.asarray(gray)] * 3), "RGB")


class RandomGrayscale(Transform):
    """With probability ``p``, the image's grayscale with as many channels as it had."""

    def __init__(self, p: float = 0.1):
        self.p = float(p)

    def apply_batch(self, images):
        chosen = _generator().random(len(images)) < self.p
        out = images.copy()
        if chosen.any():
            out[chosen] = np.repeat(rgb_to_grayscale(images[chosen]), images.shape[1], axis=1)
        return out

    def apply_pil(self, image):
        if _generator().random(1)[0] >= self.p:
            return image
        return Grayscale(3 if len(image.getbands()) == 3 else 1).apply_pil(image)
