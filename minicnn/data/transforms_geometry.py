"""Geometric transforms beyond crops and flips: Pad, RandomResizedCrop, RandomAffine, RandomPerspective.

Each draws its parameters per image as torchvision's ``get_params`` does (uniforms from the
transform generator, so ``manual_seed`` and the DataLoader's per-batch generators reproduce them).
PIL images are warped by Pillow (``Image.transform`` with torchvision's inverse matrix); tensor images
by ``warp``, which samples like ``grid_sample(align_corners=False)`` and blends ``fill`` in with a
warped validity mask, as torchvision's tensor path does.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import image_input, image_ops
from .image_input import InterpolationMode
from .resample import resize_antialiased
from .transform_base import Transform, _generator, _padding_sides, _pair

__all__ = ["Pad", "RandomResizedCrop", "RandomAffine", "RandomPerspective", "warp", "inverse_affine_matrix",
           "perspective_coefficients"]


class Pad(Transform):
    """Pad every side: ``padding`` is an int, (left/right, top/bottom) or (left, top, right, bottom)."""

    copies_values = True

    def __init__(self, padding, fill=0, padding_mode: str = "constant"):
        if padding_mode not in image_ops.PADDING_MODES:
            raise ValueError(f"Pad: padding_mode should be constant, edge, reflect or symmetric, got {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode
        self._sides = _padding_sides(padding)

    def apply_batch(self, images):
        return image_ops.pad(images, *self._sides, mode=self.padding_mode, fill=self.fill)


def warp(images: np.ndarray, coefficients: np.ndarray, interpolation: str = "nearest", fill=0.0) -> np.ndarray:
    """Resample (N, C, H, W) images through per-image inverse maps.

    ``coefficients`` (N, 8) = (a, b, c, d, e, f, g, h): the output pixel centred at (x, y) (pixel j spans
    [j, j+1)) reads the input at ((a x + b y + c) / (g x + h y + 1), (d x + e y + f) / (g x + h y + 1)),
    Pillow's PERSPECTIVE convention (an affine map has g = h = 0).
    """
    n, channels, height, width = images.shape
    y, x = np.meshgrid(np.arange(height) + 0.5, np.arange(width) + 0.5, indexing="ij")
    k = coefficients.reshape(n, 8, 1, 1).astype(np.float64)
    denominator = k[:, 6] * x + k[:, 7] * y + 1.0
    cols = (k[:, 0] * x + k[:, 1] * y + k[:, 2]) / denominator - 0.5
    rows = (k[:, 3] * x + k[:, 4] * y + k[:, 5]) / denominator - 0.5
    batch = np.arange(n).reshape(n, 1, 1)

    def tap(r, c):
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        values = images[batch, :, np.clip(r, 0, height - 1), np.clip(c, 0, width - 1)]  # (N, H, W, C)
        return values * inside[..., None], inside[..., None].astype(images.dtype)

    if interpolation == "nearest":
        values, mask = tap(np.rint(rows).astype(np.intp), np.rint(cols).astype(np.intp))
        out = np.where(mask < 0.5, np.asarray(fill, images.dtype), values)
    else:
        top, left = np.floor(rows), np.floor(cols)
        wy, wx = (rows - top)[..., None].astype(images.dtype), (cols - left)[..., None].astype(images.dtype)
        top, left = top.astype(np.intp), left.astype(np.intp)
        values = np.zeros((n, height, width, channels), images.dtype)
        mask = np.zeros((n, height, width, 1), images.dtype)
        for dr, dc, weight in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx), (1, 0, wy * (1 - wx)),
                               (1, 1, wy * wx)):
            v, m = tap(top + dr, left + dc)
            values += weight * v
            mask += weight * m
        out = values * mask + (1 - mask) * np.asarray(fill, images.dtype)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def inverse_affine_matrix(center, angle, translate, scale, shear) -> list:
    """torchvision's inverse of rotate(angle) * shear * scale about ``center``, then translate: the
    (a, b, c, d, e, f) that maps output coordinates back to input coordinates."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [value / scale for value in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty) + cx
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty) + cy
    return matrix


def _range(value, name: str, owner: str):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{owner}: if {name} is a single number, it must be positive, got {value}")
        return (-float(value), float(value))
    value = tuple(float(v) for v in value)
    if len(value) not in (2, 4):
        raise ValueError(f"{owner}: {name} should be a number or a sequence of 2 (or 4) numbers, got {value}")
    return value


class RandomAffine(Transform):
    """A random rotation, translation, scale and shear about the image centre (torchvision's parameters)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None):
        self.degrees = _range(degrees, "degrees", "RandomAffine")[:2]
        if translate is not None and not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError("RandomAffine: translation values should be between 0 and 1")
        if scale is not None and any(s <= 0 for s in scale):
            raise ValueError("RandomAffine: scale values should be positive")
        self.translate, self.scale = translate, scale
        self.shear = None if shear is None else _range(shear, "shear", "RandomAffine")
        self.interpolation = image_input.interpolation_name(interpolation, ("nearest", "bilinear"), "RandomAffine")
        self.fill, self.center = fill, center

    def _matrices(self, count: int, width: int, height: int) -> np.ndarray:
        draws = _generator().random((count, 6))
        center = (width * 0.5, height * 0.5) if self.center is None else tuple(self.center)
        matrices = np.zeros((count, 8))
        for n, (u_angle, u_tx, u_ty, u_scale, u_sx, u_sy) in enumerate(draws):
            angle = self.degrees[0] + u_angle * (self.degrees[1] - self.degrees[0])
            tx = ty = 0
            if self.translate is not None:
                max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
                tx, ty = int(round(-max_dx + u_tx * 2 * max_dx)), int(round(-max_dy + u_ty * 2 * max_dy))
            scale = 1.0 if self.scale is None else self.scale[0] + u_scale * (self.scale[1] - self.scale[0])
            shear = (0.0, 0.0)
            if self.shear is not None:
                shear = (self.shear[0] + u_sx * (self.shear[1] - self.shear[0]),
                         self.shear[2] + u_sy * (self.shear[3] - self.shear[2]) if len(self.shear) == 4 else 0.0)
            matrices[n, :6] = inverse_affine_matrix(center, angle, (tx, ty), scale, shear)
        return matrices

    def apply_batch(self, images):
        return warp(images, self._matrices(len(images), images.shape[3], images.shape[2]), self.interpolation,
                    self.fill)

    def apply_pil(self, image):
        from PIL import Image

        matrix = self._matrices(1, *image.size)[0, :6]
        fill = self.fill if len(image.getbands()) == 1 else (int(self.fill),) * len(image.getbands())
        return image.transform(image.size, Image.AFFINE, tuple(matrix), image_input.pil_resample(self.interpolation),
                               fillcolor=fill)


def perspective_coefficients(startpoints, endpoints) -> np.ndarray:
    """The 8 coefficients mapping ``endpoints`` (output corners) back to ``startpoints`` (input corners)."""
    rows = []
    for (x, y), (u, v) in zip(endpoints, startpoints):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return np.linalg.lstsq(np.asarray(rows, np.float64), np.asarray(startpoints, np.float64).reshape(8),
                           rcond=None)[0]


class RandomPerspective(Transform):
    """With probability ``p``, move each corner inward by up to ``distortion_scale`` of half the image."""

    def __init__(self, distortion_scale: float = 0.5, p: float = 0.5, interpolation=InterpolationMode.BILINEAR,
                 fill=0):
        self.distortion_scale, self.p = float(distortion_scale), float(p)
        self.interpolation = image_input.interpolation_name(interpolation, ("nearest", "bilinear"),
                                                            "RandomPerspective")
        self.fill = fill

    def _coefficients(self, count: int, width: int, height: int):
        draws = _generator().random((count, 9))
        dx, dy = int(self.distortion_scale * (width // 2)), int(self.distortion_scale * (height // 2))

        def randint(u, low, high):
            return int(low + math.floor(u * (high - low)))

        start = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        out, apply = np.zeros((count, 8)), draws[:, 0] < self.p
        out[:, [0, 4]] = 1.0  # the identity map for images left alone
        for n in np.nonzero(apply)[0]:
            u = draws[n, 1:]
            end = [[randint(u[0], 0, dx + 1), randint(u[1], 0, dy + 1)],
                   [randint(u[2], width - dx - 1, width), randint(u[3], 0, dy + 1)],
                   [randint(u[4], width - dx - 1, width), randint(u[5], height - dy - 1, height)],
                   [randint(u[6], 0, dx + 1), randint(u[7], height - dy - 1, height)]]
            out[n] = perspective_coefficients(start, end)
        return out, apply

    def apply_batch(self, images):
        coefficients, apply = self._coefficients(len(images), images.shape[3], images.shape[2])
        out = images.copy()
        if apply.any():
            out[apply] = warp(images[apply], coefficients[apply], self.interpolation, self.fill)
        return out

    def apply_pil(self, image):
        from PIL import Image

        coefficients, apply = self._coefficients(1, *image.size)
        if not apply[0]:
            return image
        fill = self.fill if len(image.getbands()) == 1 else (int(self.fill),) * len(image.getbands())
        return image.transform(image.size, Image.PERSPECTIVE, tuple(coefficients[0]),
                               image_input.pil_resample(self.interpolation), fillcolor=fill)


class RandomResizedCrop(Transform):
    """Crop a random area (``scale`` of the image) and aspect ratio (``ratio``, log-uniform), resize to ``size``."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        self.size = _pair(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError("RandomResizedCrop: scale and ratio should be of kind (min, max)")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation = image_input.interpolation_name(interpolation, ("bilinear", "nearest"),
                                                            "RandomResizedCrop")
        self.antialias = bool(antialias)

    def _windows(self, count: int, height: int, width: int) -> list:
        """torchvision's ``get_params`` per image: ten tries, then a centre crop of the clamped ratio."""
        draws = _generator().random((count, 10, 4))
        area, log_ratio = height * width, (math.log(self.ratio[0]), math.log(self.ratio[1]))
        windows = []
        for tries in draws:
            for u_area, u_ratio, u_top, u_left in tries:
                target = area * (self.scale[0] + u_area * (self.scale[1] - self.scale[0]))
                aspect = math.exp(log_ratio[0] + u_ratio * (log_ratio[1] - log_ratio[0]))
                w, h = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
                if 0 < w <= width and 0 < h <= height:
                    windows.append((int(u_top * (height - h + 1)), int(u_left * (width - w + 1)), h, w))
                    break
            else:
                in_ratio = width / height
                if in_ratio < min(self.ratio):
                    w, h = width, int(round(width / min(self.ratio)))
                elif in_ratio > max(self.ratio):
                    h, w = height, int(round(height * max(self.ratio)))
                else:
                    w, h = width, height
                windows.append(((height - h) // 2, (width - w) // 2, h, w))
        return windows

    def apply_batch(self, images):
        height, width = self.size
        out = np.empty(images.shape[:2] + (height, width), dtype=images.dtype)
        for n, (top, left, h, w) in enumerate(self._windows(len(images), *images.shape[2:])):
            crop = images[n, :, top:top + h, left:left + w]
            if self.interpolation == "bilinear" and self.antialias:
                out[n] = resize_antialiased(crop, height, width)
            else:
                out[n] = image_ops.resize(crop, height, width, self.interpolation)
        return out

    def apply_pil(self, image):
        top, left, h, w = self._windows(1, image.size[1], image.size[0])[0]
        return image.crop((left, top, left + w, top + h)).resize(self.size[::-1],
                                                                 image_input.pil_resample(self.interpolation))
