"""GaussianBlur, RandomErasing, ToPILImage, ConvertImageDtype and the random compositions
(RandomApply, RandomChoice, RandomOrder), with torchvision's parameters and semantics."""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import Tensor
from . import image_input, image_ops
from .transform_base import Compose, Transform, _generator, _pair

__all__ = ["GaussianBlur", "RandomErasing", "ToPILImage", "ConvertImageDtype", "RandomApply", "RandomChoice",
           "RandomOrder"]


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """torchvision's 1-D kernel: exp(-x^2 / 2 sigma^2) at x = -(size-1)/2 .. (size-1)/2, summing to 1."""
    x = np.linspace(-(size - 1) * 0.5, (size - 1) * 0.5, size)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


class GaussianBlur(Transform):
    """Blur with a Gaussian of a random sigma in ``sigma`` (min, max), per image; reflect padding."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        self.kernel_size = _pair(kernel_size, "GaussianBlur")
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError("GaussianBlur: kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("GaussianBlur: if sigma is a single number, it must be positive.")
            sigma = (float(sigma), float(sigma))
        if not 0 < sigma[0] <= sigma[1]:
            raise ValueError("GaussianBlur: sigma values should be positive and of the form (min, max).")
        self.sigma = tuple(float(s) for s in sigma)

    def apply_batch(self, images):
        sigmas = self.sigma[0] + _generator().random(len(images)) * (self.sigma[1] - self.sigma[0])
        kx, ky = self.kernel_size  # torchvision's kernel_size is (x, y)
        padded = image_ops.pad(images, kx // 2, ky // 2, kx // 2, ky // 2, mode="reflect")
        height, width = images.shape[2:]
        out = np.empty_like(images)
        for n, sigma in enumerate(sigmas):  # separable: rows, then columns
            rows = sum(w * padded[n, :, t:t + height, :] for t, w in enumerate(gaussian_kernel(ky, sigma)))
            out[n] = sum(w * rows[:, :, t:t + width] for t, w in enumerate(gaussian_kernel(kx, sigma)))
        return out


class RandomErasing(Transform):
    """With probability ``p``, overwrite a random rectangle (area ``scale``, aspect ``ratio``) with ``value``
    (a number, one per channel, or "random" for normal noise). Tensor images only."""

    accepts_pil = False

    def __init__(self, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace: bool = False):
        if not 0 <= p <= 1:
            raise ValueError("RandomErasing: probability should be between 0 and 1")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError("RandomErasing: scale and ratio should be of kind (min, max)")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("RandomErasing: scale should be between 0 and 1")
        if not isinstance(value, (numbers.Number, str, tuple, list)) or (isinstance(value, str) and value != "random"):
            raise ValueError("RandomErasing: if value is str, it should be 'random'")
        self.p, self.scale, self.ratio, self.value, self.inplace = float(p), tuple(scale), tuple(ratio), value, inplace

    def apply_batch(self, images):
        generator = _generator()
        draws = generator.random((len(images), 1 + 10 * 4))
        out = images if self.inplace else images.copy()
        channels, height, width = images.shape[1:]
        log_ratio = np.log(self.ratio)
        for n, row in enumerate(draws):
            if row[0] >= self.p:
                continue
            for u_area, u_ratio, u_top, u_left in row[1:].reshape(10, 4):
                area = height * width * (self.scale[0] + u_area * (self.scale[1] - self.scale[0]))
                aspect = np.exp(log_ratio[0] + u_ratio * (log_ratio[1] - log_ratio[0]))
                h, w = int(round(np.sqrt(area * aspect))), int(round(np.sqrt(area / aspect)))
                if not (h < height and w < width):
                    continue
                top, left = int(u_top * (height - h + 1)), int(u_left * (width - w + 1))
                if self.value == "random":
                    fill = generator.standard_normal((channels, h, w)).astype(images.dtype)
                else:
                    fill = np.asarray(self.value, images.dtype).reshape(-1, 1, 1)
                out[n, :, top:top + h, left:left + w] = fill
                break
        return out


class ToPILImage:
    """A CHW Tensor (float in [0, 1] or uint8) or an HWC array -> PIL image, as torchvision's to_pil_image
    (float values are scaled by 255 and truncated)."""

    batched = False

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        from PIL import Image

        if isinstance(pic, Tensor):
            values = image_input.tensor_to_host(pic)
            if values.ndim == 2:
                values = values[None]
            if values.ndim != 3:
                raise ValueError(f"ToPILImage: pic should be 2/3 dimensional, got {values.ndim} dimensions")
            values = values.transpose(1, 2, 0)
        else:
            values = np.asarray(pic)
            if values.ndim == 2:
                values = values[:, :, None]
            if values.ndim != 3:
                raise ValueError(f"ToPILImage: pic should be 2/3 dimensional, got {values.ndim} dimensions")
        if values.dtype.kind == "f" and self.mode != "F":
            values = (values * 255).astype(np.uint8)
        image = image_input.array_to_pil(values.astype(np.uint8, copy=False))
        return image if self.mode is None or self.mode == image.mode else image.convert(self.mode)

    def __repr__(self) -> str:
        return f"ToPILImage(mode={self.mode})" if self.mode else "ToPILImage()"


class ConvertImageDtype:
    """Cast a tensor image, rescaling values: uint8 [0, 255] <-> float [0, 1] (torchvision's rule:
    float -> uint8 multiplies by 255.999 and truncates)."""

    batched = True

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def _convert(self, values: np.ndarray) -> np.ndarray:
        if values.dtype == self.dtype:
            return values
        if values.dtype.kind == "f" and self.dtype.kind == "f":
            return values.astype(self.dtype)
        if values.dtype.kind == "f":
            top = np.iinfo(self.dtype).max
            return (values * (top + 1.0 - 1e-3)).astype(self.dtype)
        top = np.iinfo(values.dtype).max
        if self.dtype.kind == "f":
            return (values / top).astype(self.dtype)
        return (values.astype(np.float64) * (np.iinfo(self.dtype).max + 1) / (top + 1)).astype(self.dtype)

    def __call__(self, image):
        if isinstance(image, Tensor):
            return Tensor(backend.to_device(self._convert(image_input.tensor_to_host(image)), image.device))
        return self._convert(np.asarray(image))

    def __repr__(self) -> str:
        return f"ConvertImageDtype({self.dtype})"


class RandomApply(Compose):
    """Apply every transform in order with probability ``p`` (one decision per call), else none."""

    def __init__(self, transforms, p: float = 0.5):
        super().__init__(transforms)
        self.p, self.batched = float(p), False

    def __call__(self, image):
        if _generator().random() >= self.p:
            return image
        return super().__call__(image)

    def __repr__(self) -> str:
        return f"RandomApply(p={self.p}, {super().__repr__()})"


class RandomChoice(Compose):
    """Apply one transform picked at random (with probabilities ``p`` if given)."""

    def __init__(self, transforms, p=None):
        super().__init__(transforms)
        if p is not None and len(p) != len(self.transforms):
            raise ValueError(f"RandomChoice: length of p doesn't match the number of transforms: "
                             f"{len(p)} != {len(self.transforms)}")
        self.p, self.batched = (None if p is None else [float(v) for v in p]), False

    def __call__(self, image):
        weights = None if self.p is None else np.asarray(self.p) / np.sum(self.p)
        return self.transforms[int(_generator().choice(len(self.transforms), p=weights))](image)


class RandomOrder(Compose):
    """Apply every transform, in a random order."""

    def __init__(self, transforms):
        super().__init__(transforms)
        self.batched = False

    def __call__(self, image):
        for index in _generator().permutation(len(self.transforms)):
            image = self.transforms[int(index)](image)
        return image
