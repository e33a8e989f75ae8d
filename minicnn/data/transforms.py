"""Image transforms on host numpy arrays, for one image or a whole batch at once.

Layout convention (the same everywhere in ``minicnn.data``):

- datasets keep raw images as uint8 arrays of shape (H, W, C);
- ``ToTensor`` turns (H, W, C) uint8 into (C, H, W) float32 in [0, 1], and a batch (N, H, W, C) into
  (N, C, H, W);
- every other transform takes float arrays, either one (C, H, W) image or an (N, C, H, W) batch, and
  draws its random parameters per image, so ``RandomCrop(32, padding=4)`` on a batch of 128 crops
  each image at its own offset in one vectorized step;
- as in torchvision, transforms also take PIL images, raw uint8 (H, W, C) arrays (treated as the PIL
  image they make) and Tensors, before or after ``ToTensor`` (see ``image_input.py``): a PIL image is
  transformed with Pillow, as torchvision does, and comes back a PIL image; a Tensor comes back a
  Tensor (a uint8 one rounded back to uint8).

Each transform accepts a Tensor or an array and returns a host Tensor (as torchvision's give tensors)
wrapping its result without a copy; inside, the work is numpy on the host array (``apply_batch``).

Random parameters come from ``minicnn.random.host_generator()`` (so ``minicnn.manual_seed``
reproduces them), unless a ``DataLoader`` has installed its own per-epoch generator with
``using_generator``. Each random transform draws one (N, k) block of uniforms per call, so one
transform applied to a batch draws exactly the numbers it would draw for the images one by one.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import Tensor
from . import image_input, image_ops
from .image_input import InterpolationMode
from .resample import resize_antialiased
from .transform_base import (Compose, Transform, _generator, _host, _padding_sides, _pair, supports_batches,
                             using_generator)

__all__ = [
    "Compose", "ToTensor", "PILToTensor", "ToFloat", "Normalize", "Lambda", "RandomCrop", "CenterCrop",
    "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "Resize", "ColorJitter",
    "InterpolationMode", "using_generator", "supports_batches",
]


class Lambda:
    """Wrap a function as a transform; say ``batched=True`` if it also accepts a batch."""

    def __init__(self, function, batched: bool = False):
        if not callable(function):
            raise TypeError(f"Lambda: expected a callable, got {type(function).__name__}")
        self.function = function
        self.batched = batched

    def __call__(self, images):
        return self.function(images)


class ToTensor:
    """uint8 (H, W, C) -> float32 (C, H, W) in [0, 1]; (N, H, W, C) -> (N, C, H, W); (H, W) -> (1, H, W).

    Float input is only transposed, not scaled (as torchvision). The result is a host Tensor.
    """

    batched = True

    def __call__(self, pic):
        if image_input.is_pil(pic):
            return Tensor(self(image_input.pil_to_array(pic)))
        pic = _host(pic)
        if pic.ndim == 2:
            pic = pic[:, :, None]
        if pic.ndim not in (3, 4):
            raise TypeError(f"ToTensor: expected an (H, W), (H, W, C) or (N, H, W, C) array, got shape {pic.shape}")
        chw = np.moveaxis(pic, -1, -3)
        if pic.dtype != np.uint8:
            return Tensor._wrap(np.ascontiguousarray(chw))
        # An explicit C-ordered output: letting numpy keep the input's (H, W, C) memory order would
        # make every later step walk a strided array.
        out = np.empty(chw.shape, dtype=np.float32)
        np.multiply(chw, np.float32(1.0 / 255.0), out=out)
        return Tensor._wrap(out)

    def __repr__(self) -> str:
        return "ToTensor()"


class PILToTensor:
    """A PIL image (or raw uint8 (H, W, C) array) -> uint8 Tensor (C, H, W), values unchanged."""

    batched = False

    def __call__(self, pic):
        pixels = image_input.pil_to_array(pic) if image_input.is_pil(pic) else np.asarray(pic)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if pixels.ndim != 3:
            raise TypeError(f"PILToTensor: expected a PIL image or an (H, W, C) array, got shape {pixels.shape}")
        return Tensor(np.ascontiguousarray(pixels.transpose(2, 0, 1)))

    def __repr__(self) -> str:
        return "PILToTensor()"


class ToFloat:
    """Cast to a float dtype keeping the layout; uint8 is scaled to [0, 1] like ToTensor."""

    batched = True

    def __init__(self, dtype=np.float32):
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"ToFloat: dtype must be a float dtype, got {self.dtype}")

    def __call__(self, images):
        images = _host(images)
        if images.dtype == np.uint8:
            return Tensor._wrap(np.multiply(images, self.dtype.type(1.0 / 255.0), dtype=self.dtype))
        return Tensor._wrap(images.astype(self.dtype, copy=False))

    def __repr__(self) -> str:
        return f"ToFloat(dtype={self.dtype})"


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` per channel (tensor images only, as torchvision)."""

    accepts_pil = False

    def __init__(self, mean, std):
        self.mean = tuple(float(m) for m in np.atleast_1d(mean))
        self.std = tuple(float(s) for s in np.atleast_1d(std))
        if len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has {len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must not contain zeros, got {self.std}")

    def apply_batch(self, images):
        channels = images.shape[1]
        if len(self.mean) not in (1, channels):
            raise ValueError(
                f"Normalize: got {len(self.mean)} mean/std values for images with {channels} channels")
        mean = np.asarray(self.mean, dtype=images.dtype).reshape(-1, 1, 1)
        scale = (1.0 / np.asarray(self.std, dtype=np.float64)).astype(images.dtype).reshape(-1, 1, 1)
        out = images - mean
        out *= scale
        return out


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability p."""

    def __init__(self, p: float = 0.5):
        self.p = float(p)

    def apply_batch(self, images):
        flip = _generator().random(len(images)) < self.p
        out = images.copy()
        out[flip] = images[flip, ..., ::-1]
        return out

    def apply_pil(self, image):
        from PIL import Image

        flip = _generator().random(1)[0] < self.p
        return image.transpose(self._pil_flip(Image)) if flip else image

    @staticmethod
    def _pil_flip(Image):
        return Image.FLIP_LEFT_RIGHT


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each image top-bottom with probability p."""

    def apply_batch(self, images):
        flip = _generator().random(len(images)) < self.p
        out = images.copy()
        out[flip] = images[flip, ..., ::-1, :]
        return out

    @staticmethod
    def _pil_flip(Image):
        return Image.FLIP_TOP_BOTTOM


def _crop_windows(images, tops, lefts, height, width):
    """Each image's own (height, width) window at (tops[n], lefts[n]), gathered in one index."""
    windows = np.lib.stride_tricks.sliding_window_view(images, (height, width), axis=(2, 3))
    return windows[np.arange(len(images)), :, tops, lefts]  # (N, C, height, width)


class RandomCrop(Transform):
    """Pad (optionally), then cut a (h, w) window at a random offset, drawn per image."""

    copies_values = True

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0.0, padding_mode="constant"):
        self.size = _pair(size, "RandomCrop")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self._sides = _padding_sides(padding)

    def apply_batch(self, images):
        height, width = self.size
        images = image_ops.pad(images, *self._sides, mode=self.padding_mode, fill=self.fill)
        if self.pad_if_needed:
            extra_h, extra_w = max(0, height - images.shape[2]), max(0, width - images.shape[3])
            images = image_ops.pad(images, extra_w, extra_h, extra_w, extra_h, self.padding_mode, self.fill)
        in_h, in_w = images.shape[2:]
        if in_h < height or in_w < width:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the (padded) image {(in_h, in_w)}")
        draws = _generator().random((len(images), 2))
        tops = np.floor(draws[:, 0] * (in_h - height + 1)).astype(np.intp)
        lefts = np.floor(draws[:, 1] * (in_w - width + 1)).astype(np.intp)
        return _crop_windows(images, tops, lefts, height, width)


class CenterCrop(Transform):
    """Cut the central (h, w) window; an image smaller than that is zero-padded first (as torchvision)."""

    copies_values = True

    def __init__(self, size):
        self.size = _pair(size, "CenterCrop")

    def apply_batch(self, images):
        height, width = self.size
        in_h, in_w = images.shape[2:]
        if in_h < height or in_w < width:
            pad_h, pad_w = max(0, height - in_h), max(0, width - in_w)
            images = image_ops.pad(images, pad_w // 2, pad_h // 2, (pad_w + 1) // 2, (pad_h + 1) // 2)
            in_h, in_w = images.shape[2:]
        top, left = int(round((in_h - height) / 2.0)), int(round((in_w - width) / 2.0))
        return images[:, :, top:top + height, left:left + width]


class Resize(Transform):
    """Resize to ``size``: an (h, w) pair exactly, or an int that the shorter side becomes (aspect kept).

    As torchvision: ``antialias=True`` (the default) filters a downscale like Pillow and torch's
    ``interpolate(..., antialias=True)``; ``antialias=False`` is plain ``interpolate(mode="bilinear",
    align_corners=False)``. PIL images are resized by Pillow. ``max_size`` caps the longer side when
    ``size`` is an int.
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        self.interpolation = image_input.interpolation_name(interpolation, ("bilinear", "nearest"), "Resize")
        self.size = size if isinstance(size, numbers.Integral) else _pair(size, "Resize")
        if max_size is not None and not isinstance(self.size, numbers.Integral):
            raise ValueError("Resize: max_size is only supported when size is an int")
        self.max_size = max_size
        self.antialias = bool(antialias)

    def output_size(self, height: int, width: int) -> tuple:
        if not isinstance(self.size, numbers.Integral):
            return self.size
        short, long = (height, width) if height <= width else (width, height)
        new_short, new_long = int(self.size), int(self.size * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), int(self.max_size)
        return (new_short, new_long) if height <= width else (new_long, new_short)

    def apply_batch(self, images):
        height, width = self.output_size(*images.shape[2:])
        if self.interpolation == "bilinear" and self.antialias and (height, width) != images.shape[2:]:
            return resize_antialiased(images, height, width)
        return image_ops.resize(images, height, width, interpolation=self.interpolation)

    def apply_pil(self, image):
        height, width = self.output_size(image.size[1], image.size[0])
        if (width, height) == image.size:
            return image
        return image.resize((width, height), image_input.pil_resample(self.interpolation))


class RandomRotation(Transform):
    """Rotate each image counter-clockwise by an angle drawn uniformly from ``degrees`` (per image).

    ``degrees``: a number d (range [-d, d]) or a (min, max) pair. The centre is the image centre (as
    torchvision's default); corners that come from outside the image take ``fill``.
    """

    def __init__(self, degrees, interpolation="nearest", fill=0.0):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"RandomRotation: a single degrees value must be >= 0, got {degrees}")
            degrees = (-float(degrees), float(degrees))
        self.degrees = tuple(float(d) for d in degrees)
        if len(self.degrees) != 2:
            raise ValueError(f"RandomRotation: degrees must be a number or a (min, max) pair, got {degrees!r}")
        self.interpolation = image_input.interpolation_name(interpolation, ("nearest", "bilinear"), "RandomRotation")
        self.fill = fill

    def apply_batch(self, images):
        low, high = self.degrees
        angles = low + _generator().random(len(images)) * (high - low)
        return image_ops.rotate(images, angles, self.interpolation, self.fill)

    def apply_pil(self, image):
        low, high = self.degrees
        angle = low + _generator().random(1)[0] * (high - low)
        fill = self.fill if len(image.getbands()) == 1 else (int(self.fill),) * len(image.getbands())
        return image.rotate(angle, image_input.pil_resample(self.interpolation), fillcolor=fill)


from .transforms_color import ColorJitter, Grayscale, RandomGrayscale  # noqa: E402 - these build on Transform
from .transforms_geometry import Pad, RandomAffine, RandomPerspective, RandomResizedCrop  # noqa: E402
from .transforms_extra import (ConvertImageDtype, GaussianBlur, RandomApply, RandomChoice, RandomErasing,  # noqa: E402
                               RandomOrder, ToPILImage)

__all__ += ["Grayscale", "RandomGrayscale", "Pad", "RandomAffine", "RandomPerspective", "RandomResizedCrop",
            "ConvertImageDtype", "GaussianBlur", "RandomApply", "RandomChoice", "RandomErasing", "RandomOrder",
            "ToPILImage"]
