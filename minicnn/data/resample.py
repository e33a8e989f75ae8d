"""Antialiased resizing as separable weight matrices: ``out = Wh @ image @ Ww.T`` on the last two axes.

The weights are those of torch's ``interpolate(mode="bilinear", antialias=True)`` (and of Pillow's
resize, which it mirrors): output pixel ``o`` of a downscale by ``scale = in/out`` averages the input
pixels under a triangle filter stretched to half-width ``scale``, centred at ``(o + 0.5) * scale``,
weights normalized to sum to 1. For an upscale the filter keeps half-width 1, which is plain
bilinear interpolation with half-pixel centres.
"""
from __future__ import annotations

import functools

import numpy as np

__all__ = ["antialias_weights", "resize_antialiased"]


@functools.lru_cache(maxsize=64)
def antialias_weights(in_size: int, out_size: int) -> np.ndarray:
    """(out_size, in_size) float64 matrix whose rows are the normalized filter taps."""
    scale = in_size / out_size
    support = scale if scale >= 1.0 else 1.0
    inverse = 1.0 / scale if scale >= 1.0 else 1.0
    weights = np.zeros((out_size, in_size))
    for o in range(out_size):
        centre = scale * (o + 0.5)
        low = max(int(centre - support + 0.5), 0)  # int() truncates toward zero, as the C++ cast
        high = min(int(centre + support + 0.5), in_size)
        taps = np.maximum(0.0, 1.0 - np.abs((np.arange(low, high) - centre + 0.5) * inverse))
        total = taps.sum()
        weights[o, low:high] = taps / total if total else taps
    weights.setflags(write=False)
    return weights


def resize_antialiased(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize the last two axes of a float array (one image or a batch) with antialiasing."""
    dtype = images.dtype if images.dtype.kind == "f" else np.dtype(np.float32)
    rows = antialias_weights(images.shape[-2], height).astype(dtype)
    cols = antialias_weights(images.shape[-1], width).astype(dtype)
    return np.matmul(np.matmul(rows, images.astype(dtype, copy=False)), cols.T)
