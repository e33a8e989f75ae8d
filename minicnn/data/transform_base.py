"""What every image transform builds on: the ``Transform`` base class, ``Compose``, the random generator
the transforms draw from (``using_generator``) and the small argument helpers they share."""
from __future__ import annotations

import contextlib
import numbers
import threading

import numpy as np

from .. import backend
from .. import random as _random
from ..autograd import Tensor
from . import image_input

_local = threading.local()


@contextlib.contextmanager
def using_generator(generator: np.random.Generator):
    """Within this block (and this thread), random transforms draw from ``generator``."""
    previous = getattr(_local, "generator", None)
    _local.generator = generator
    try:
        yield generator
    finally:
        _local.generator = previous


def _generator() -> np.random.Generator:
    return getattr(_local, "generator", None) or _random.host_generator()


def supports_batches(transform) -> bool:
    """True when ``transform`` accepts an (N, ...) batch as well as one image."""
    return transform is None or bool(getattr(transform, "batched", False))


def _host(images) -> np.ndarray:
    """A host numpy array from an array or a Tensor (transforms run on the host)."""
    if isinstance(images, Tensor):
        return backend.to_host(images.array)
    return np.asarray(images)


def _pair(value, name: str) -> tuple:
    """An (h, w) pair from an int or a sequence of one or two ints."""
    if isinstance(value, numbers.Integral):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) in (1, 2):
        return (int(value[0]), int(value[-1]))
    raise TypeError(f"{name}: size must be an int or a (height, width) pair, got {value!r}")


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(values), 0, 255).astype(np.uint8)


class Transform:
    """Base class: ``__call__`` accepts (C, H, W) or (N, C, H, W) float arrays and calls
    ``apply_batch`` on an (N, C, H, W) batch; PIL images go to ``apply_pil``, raw uint8 arrays to
    ``apply_pil`` one image at a time, Tensors through the array path and back."""

    batched = True
    accepts_pil = True  # False: only tensor images, as torchvision's Normalize
    copies_values = False  # True: the op only moves pixels (crops, pads), so it runs on uint8 as is

    def __call__(self, images):
        if image_input.is_pil(images) or image_input.is_raw_uint8(images):
            if not self.accepts_pil:
                kind = "PIL image" if image_input.is_pil(images) else f"uint8 array of shape {images.shape}"
                raise TypeError(f"{type(self).__name__}: expected a float tensor image (apply ToTensor() "
                                f"first), got a {kind}")
            if image_input.is_pil(images):
                return self.apply_pil(images)
            return image_input.on_raw_images(images, self.apply_pil)
        if isinstance(images, Tensor):
            return self._on_tensor(images)
        return self._on_float(np.asarray(images))

    def _on_tensor(self, tensor: Tensor) -> Tensor:
        values = image_input.tensor_to_host(tensor)
        if values.dtype.kind == "f":
            out = self._on_float(values)
        else:  # an integer tensor image: computed in float, rounded back (torchvision)
            out = _to_uint8(self._on_float(values.astype(np.float32) / 255) * 255).astype(values.dtype)
        return Tensor(backend.to_device(np.ascontiguousarray(out), tensor.device))

    def apply_pil(self, image):
        """A PIL image through the float path, rounded back to uint8 (overridden where Pillow has the op)."""
        pixels = image_input.pil_to_array(image)
        if self.copies_values:  # fill values are then pixel values, as for PIL in torchvision
            return image_input.array_to_pil(self.apply_batch(pixels.transpose(2, 0, 1)[None])[0].transpose(1, 2, 0))
        out = self._on_float(pixels.transpose(2, 0, 1).astype(np.float32) / 255)
        return image_input.array_to_pil(_to_uint8(out * 255).transpose(1, 2, 0))

    def _on_float(self, images):
        if images.dtype.kind != "f" or images.ndim not in (3, 4):
            raise TypeError(
                f"{type(self).__name__}: expected a float (C, H, W) image or (N, C, H, W) batch (apply "
                f"ToTensor() first), got a {images.dtype} array of shape {images.shape}")
        if images.ndim == 3:
            return Tensor._wrap(self.apply_batch(images[None])[0])
        return Tensor._wrap(self.apply_batch(images))

    def apply_batch(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class Compose:
    """Apply transforms in order. It handles batches when every member does."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        self.batched = all(supports_batches(t) for t in self.transforms)

    def __call__(self, images):
        for transform in self.transforms:
            images = transform(images)
        return images

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"


def _padding_sides(padding) -> tuple:
    """(left, top, right, bottom) from torchvision's int / (lr, tb) / (l, t, r, b) forms."""
    if padding is None:
        return 0, 0, 0, 0
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(f"RandomCrop: padding must be an int or a sequence of 2 or 4 ints, got {padding!r}")
