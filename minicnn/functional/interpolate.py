"""``interpolate`` (torch's ``F.interpolate``): nearest, nearest-exact, (bi)linear, bicubic and area.

Every mode is separable and linear in the input: along each resized axis, output position ``o`` is a
weighted sum of a few input positions. So each axis is one (out, in) weight matrix ``A`` and

    forward:  y = x ×_axis A          (y[..., o] = sum_i A[o, i] x[..., i])
    backward: dx = g ×_axis A^T       (the adjoint of a linear map is its transpose)

The weights reproduce torch's kernels: source coordinate ``(o + 0.5) * scale - 0.5`` (clamped at 0 for
linear modes) with ``align_corners=False``, ``o * (in - 1) / (out - 1)`` with ``align_corners=True``;
bicubic uses Keys' cubic with a = -0.75 and clamps the four taps to the edge; area averages the
adaptive-pooling bins; nearest reads ``floor(o * scale)``. ``scale`` is in/out, or 1/scale_factor
when a scale factor is given (as torch unless ``recompute_scale_factor=True``).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function, Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "resample_matrix"]

_MODES = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "area": None}


def _cubic_weights(t):
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def resample_matrix(in_size: int, out_size: int, mode: str, align_corners: bool, scale=None) -> np.ndarray:
    """The (out_size, in_size) float64 weights of one axis (see the module docstring)."""
    matrix = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    if mode == "area":
        for o in range(out_size):
            start, stop = (o * in_size) // out_size, -(-((o + 1) * in_size) // out_size)
            matrix[o, start:stop] = 1.0 / (stop - start)
        return matrix
    if align_corners and mode in ("linear", "bilinear", "bicubic"):
        step = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        source = rows * step
    else:
        step = (in_size / out_size) if scale is None else 1.0 / scale
        if mode == "nearest":
            np.add.at(matrix, (rows, np.minimum(np.floor(rows * step).astype(np.int64), in_size - 1)), 1.0)
            return matrix
        if mode == "nearest-exact":
            np.add.at(matrix, (rows, np.minimum(np.floor((rows + 0.5) * step).astype(np.int64), in_size - 1)), 1.0)
            return matrix
        source = (rows + 0.5) * step - 0.5
        if mode != "bicubic":
            source = np.maximum(source, 0.0)
    low = np.floor(source).astype(np.int64)
    t = source - low
    if mode == "bicubic":
        for offset, weight in zip(range(-1, 3), _cubic_weights(t)):
            np.add.at(matrix, (rows, np.clip(low + offset, 0, in_size - 1)), weight)
        return matrix
    high = np.minimum(low + 1, in_size - 1)
    low = np.minimum(low, in_size - 1)
    np.add.at(matrix, (rows, low), 1.0 - t)
    np.add.at(matrix, (rows, high), t)
    return matrix


def _apply_axis(x, matrix, axis):
    xp = backend.get_array_module(x)
    return xp.moveaxis(xp.tensordot(x, matrix, axes=([axis], [1])), -1, axis)


class Resample(Function):
    def forward(self, x, matrices):
        # matrices: one (out, in) matrix per spatial axis, axes 2, 3, ...
        device = backend.device_of(x)
        self.matrices = [backend.to_device(m.astype(x.dtype), device) for m in matrices]
        out = x
        for axis, matrix in enumerate(self.matrices, start=2):
            out = _apply_axis(out, matrix, axis)
        return backend.get_array_module(x).ascontiguousarray(out)

    def backward(self, grad):
        # y = x ×_2 A_h ×_3 A_w  =>  dx = g ×_2 A_h^T ×_3 A_w^T
        for axis, matrix in enumerate(self.matrices, start=2):
            grad = _apply_axis(grad, matrix.T, axis)
        return backend.get_array_module(grad).ascontiguousarray(grad)


def _per_axis(value, count: int, name: str):
    if isinstance(value, (tuple, list)):
        if len(value) != count:
            raise ValueError(f"interpolate: Input and {name} must have the same number of spatial dimensions, but "
                             f"got input with spatial dimensions of {count} and {name} of {tuple(value)}")
        return tuple(value)
    return (value,) * count


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize the spatial dimensions of (N, C, L) / (N, C, H, W) / (N, C, D, H, W) ``input``.

    Exactly one of ``size`` (int or per-axis tuple) and ``scale_factor`` (number or tuple). ``mode``:
    "nearest", "nearest-exact", "linear" (3-D), "bilinear" / "bicubic" (4-D), "trilinear" (5-D), "area".
    ``align_corners`` only for the linear and cubic modes (default False).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: expected a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: unsupported mode {mode!r}; one of {sorted(_MODES)}")
    spatial = input.ndim - 2
    if spatial < 1:
        raise ValueError(f"interpolate: expected a batched input with spatial dimensions, got shape {input.shape}")
    if _MODES[mode] is not None and _MODES[mode] != spatial:
        raise NotImplementedError(f"interpolate: mode {mode!r} expects {_MODES[mode] + 2}-D input, got "
                                  f"{input.ndim}-D input of shape {input.shape}")
    if align_corners is not None and mode not in ("linear", "bilinear", "bicubic", "trilinear"):
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported here; "
                                  "minicnn.data.transforms.Resize antialiases images")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_sizes = input.shape[2:]
    scales = [None] * spatial
    if size is not None:
        out_sizes = tuple(int(s) for s in _per_axis(size, spatial, "output size"))
    else:
        factors = tuple(float(f) for f in _per_axis(scale_factor, spatial, "scale_factor"))
        out_sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, factors))
        if not recompute_scale_factor:
            scales = list(factors)
    if any(s <= 0 for s in out_sizes):
        raise ValueError(f"interpolate: output size must be positive, got {out_sizes} for input {input.shape}")
    matrices = [resample_matrix(n, o, "linear" if mode in ("bilinear", "trilinear") else mode,
                                bool(align_corners), scale)
                for n, o, scale in zip(in_sizes, out_sizes, scales)]
    return Resample.apply(input, matrices=matrices)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


