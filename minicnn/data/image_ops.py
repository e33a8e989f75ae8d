"""Pixel arithmetic shared by the transforms and the datasets: padding, resizing and rotating.

Every function works on host numpy arrays whose last two axes are (H, W), so one call handles a
single CHW image or a whole NCHW batch. Coordinates follow the half-pixel convention PyTorch uses
(``align_corners=False``): pixel ``i`` covers [i, i+1) and its centre is at ``i + 0.5``.
"""
from __future__ import annotations

import numpy as np

PADDING_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def pad(images: np.ndarray, left: int, top: int, right: int, bottom: int, mode="constant", fill=0.0):
    """Pad the last two axes: ``(..., H, W) -> (..., top + H + bottom, left + W + right)``."""
    if mode not in PADDING_MODES:
        raise ValueError(f"pad: padding_mode must be one of {sorted(PADDING_MODES)}, got {mode!r}")
    if left == top == right == bottom == 0:
        return images
    if mode == "constant":  # one fill and one copy: several times faster than np.pad's generic path
        height, width = images.shape[-2:]
        out = np.full(images.shape[:-2] + (top + height + bottom, left + width + right), fill, images.dtype)
        out[..., top:top + height, left:left + width] = images
        return out
    widths = [(0, 0)] * (images.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(images, widths, mode=PADDING_MODES[mode])


def _linear_taps(in_size: int, out_size: int, dtype):
    """For each output position, the two source rows and the weight of the second one.

    The source coordinate of output pixel ``o`` is ``(o + 0.5) * in/out - 0.5``, clamped to the
    image, exactly as ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``.
    """
    source = (np.arange(out_size, dtype=np.float64) + 0.5) * (in_size / out_size) - 0.5
    source = np.clip(source, 0.0, in_size - 1)
    low = np.floor(source).astype(np.intp)
    high = np.minimum(low + 1, in_size - 1)
    return low, high, (source - low).astype(dtype)


def _nearest_taps(in_size: int, out_size: int):
    """torch's legacy "nearest": source index ``floor(o * in/out)``."""
    return np.minimum(np.floor(np.arange(out_size) * (in_size / out_size)).astype(np.intp), in_size - 1)


def resize(images: np.ndarray, height: int, width: int, interpolation="bilinear") -> np.ndarray:
    """Resize the last two axes to (height, width); bilinear (no antialiasing) or nearest.

    Bilinear is separable, so it runs as two 1-D interpolations: rows first, then columns.
    """
    in_h, in_w = images.shape[-2:]
    if (in_h, in_w) == (height, width):
        return images
    if interpolation == "nearest":
        rows, cols = _nearest_taps(in_h, height), _nearest_taps(in_w, width)
        return images[..., rows[:, None], cols[None, :]]
    if interpolation != "bilinear":
        raise ValueError(f"resize: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    dtype = images.dtype if images.dtype.kind == "f" else np.float32
    images = images.astype(dtype, copy=False)
    low, high, weight = _linear_taps(in_h, height, dtype)
    weight = weight[:, None]
    images = images[..., low, :] * (1 - weight) + images[..., high, :] * weight
    low, high, weight = _linear_taps(in_w, width, dtype)
    return images[..., low] * (1 - weight) + images[..., high] * weight


def rotate(images: np.ndarray, angles_degrees: np.ndarray, interpolation="nearest", fill=0.0) -> np.ndarray:
    """Rotate each image of an NCHW batch counter-clockwise by its own angle about the image centre.

    images: (N, C, H, W) float; angles_degrees: (N,). The centre is the geometric centre of the image,
    ((W-1)/2, (H-1)/2) in pixel-index coordinates, so a 90 degree turn of a square image is exactly
    ``np.rot90``. Output pixels whose source falls outside the image take ``fill``.
    """
    n, channels, height, width = images.shape
    theta = np.deg2rad(np.asarray(angles_degrees, dtype=np.float64)).reshape(n, 1, 1)
    cos, sin = np.cos(theta), np.sin(theta)
    centre_y, centre_x = (height - 1) / 2.0, (width - 1) / 2.0
    out_y, out_x = np.meshgrid(np.arange(height) - centre_y, np.arange(width) - centre_x, indexing="ij")
    # Inverse map: with y pointing down, a counter-clockwise turn by theta sends (x, y) to
    # (x cos + y sin, -x sin + y cos); each output pixel reads from the inverse of that.
    source_x = out_x * cos - out_y * sin + centre_x
    source_y = out_x * sin + out_y * cos + centre_y
    batch = np.arange(n).reshape(n, 1, 1)

    def gather(rows, cols):
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        values = images[batch, :, np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)]  # (N, H, W, C)
        return np.where(inside[..., None], values, np.asarray(fill, dtype=images.dtype))

    if interpolation == "nearest":
        out = gather(np.rint(source_y).astype(np.intp), np.rint(source_x).astype(np.intp))
    elif interpolation == "bilinear":
        top, left = np.floor(source_y), np.floor(source_x)
        wy = (source_y - top).astype(images.dtype)[..., None]
        wx = (source_x - left).astype(images.dtype)[..., None]
        top, left = top.astype(np.intp), left.astype(np.intp)
        out = ((1 - wy) * ((1 - wx) * gather(top, left) + wx * gather(top, left + 1))
               + wy * ((1 - wx) * gather(top + 1, left) + wx * gather(top + 1, left + 1)))
    else:
        raise ValueError(f"rotate: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))
