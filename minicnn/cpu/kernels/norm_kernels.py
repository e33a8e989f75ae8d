"""numba kernels for batch normalization on the CPU.

Batch norm is a handful of passes over memory, each trivial; in array code every pass is a separate
temporary. These kernels fuse them: the statistics are one read of x, the output one read and one
write, the backward sums one read of dy and x, and dx one more read and write.
Each kernel has an array-code twin in ``functional/norm.py`` (the tests compare them).

Inputs come as C-contiguous "rows" (M, C) (channels innermost) or "planes" (N, C, L). Statistics are
accumulated in float64 on data shifted by the channel's first value, which keeps the one-pass variance
sum((x-s)^2)/M - (sum(x-s)/M)^2 accurate even when the mean is large against the spread.
"""
from __future__ import annotations

import numpy as np

from .. import parallel

try:
    import numba
except ImportError:  # numba is optional: without it the array code runs
    numba = None

# Reassociation lets the compiler vectorise the float reductions; no other fast-math liberty is taken.
_FASTMATH = {"reassoc", "contract", "nsz"}


def usable(array) -> bool:
    """The kernels run on host numpy float32/float64 arrays when numba is installed."""
    return numba is not None and type(array) is np.ndarray and array.dtype in (np.float32, np.float64)


if numba is not None:
    # nogil, and run by the wrappers below in shares of rows (or of images), one per Python thread
    # (``minicnn.cpu.parallel``), the threads the convolutions use. numba's own parallel loops are not
    # used: their OpenMP threads keep spinning for a while after each loop, on the cores the next
    # operation needs.

    @numba.njit(cache=True, fastmath=_FASTMATH, nogil=True)
    def _stats_rows(x, shift):
        # per channel: sum(x - shift) and sum((x - shift)^2), channels innermost
        rows, channels = x.shape
        total = np.zeros(channels)
        squares = np.zeros(channels)
        for m in range(rows):
            for c in range(channels):
                d = x[m, c] - shift[c]
                total[c] += d
                squares[c] += d * d
        return total, squares

    @numba.njit(cache=True, fastmath=_FASTMATH, nogil=True)
    def _stats_planes(x, shift):
        batch, channels, length = x.shape
        total = np.zeros(channels)
        squares = np.zeros(channels)
        for c in range(channels):
            s = shift[c]
            plane_total = 0.0
            plane_squares = 0.0
            for n in range(batch):
                for i in range(length):
                    d = x[n, c, i] - s
                    plane_total += d
                    plane_squares += d * d
            total[c] = plane_total
            squares[c] = plane_squares
        return total, squares

    @numba.njit(cache=True, fastmath=_FASTMATH, nogil=True)
    def _grad_sums_rows(grad, x, mean):
        # per channel: sum(dy) and sum(dy * (x - mean))
        rows, channels = x.shape
        sum_dy = np.zeros(channels)
        sum_dy_centered = np.zeros(channels)
        for m in range(rows):
            for c in range(channels):
                dy = grad[m, c]
                sum_dy[c] += dy
                sum_dy_centered[c] += dy * (x[m, c] - mean[c])
        return sum_dy, sum_dy_centered

    @numba.njit(cache=True, fastmath=_FASTMATH, nogil=True)
    def _grad_sums_planes(grad, x, mean):
        batch, channels, length = x.shape
        sum_dy = np.zeros(channels)
        sum_dy_centered = np.zeros(channels)
        for c in range(channels):
            m = mean[c]
            total = 0.0
            weighted = 0.0
            for n in range(batch):
                for i in range(length):
                    dy = grad[n, c, i]
                    total += dy
                    weighted += dy * (x[n, c, i] - m)
            sum_dy[c] = total
            sum_dy_centered[c] = weighted
        return sum_dy, sum_dy_centered

    @numba.njit(cache=True, nogil=True)
    def _affine_rows(x, dy, mean, x_scale, dy_scale, offset, out):
        # out = (x - mean) * x_scale + dy * dy_scale + offset, per channel
        rows, channels = x.shape
        for m in range(rows):
            for c in range(channels):
                out[m, c] = (x[m, c] - mean[c]) * x_scale[c] + dy[m, c] * dy_scale[c] + offset[c]

    @numba.njit(cache=True, nogil=True)
    def _affine_planes(x, dy, mean, x_scale, dy_scale, offset, out):
        batch, channels, length = x.shape
        for n in range(batch):
            for c in range(channels):
                m, xs, ds, o = mean[c], x_scale[c], dy_scale[c], offset[c]
                for i in range(length):
                    out[n, c, i] = (x[n, c, i] - m) * xs + dy[n, c, i] * ds + o

    @numba.njit(cache=True, nogil=True)
    def _shifted_rows(x, mean, scale, beta, out):
        rows, channels = x.shape
        for m in range(rows):
            for c in range(channels):
                out[m, c] = (x[m, c] - mean[c]) * scale[c] + beta[c]

    @numba.njit(cache=True, nogil=True)
    def _shifted_planes(x, mean, scale, beta, out):
        batch, channels, length = x.shape
        for n in range(batch):
            for c in range(channels):
                m, s, o = mean[c], scale[c], beta[c]
                for i in range(length):
                    out[n, c, i] = (x[n, c, i] - m) * s + o


def _first_values(x, layout: str):
    return (x[0] if layout == "rows" else x[0, :, 0]).astype(np.float64)


def _sums(kernel, arrays, vector):
    """Per-channel sums of ``kernel`` over shares of the leading axis, added up: (2, C) float64."""
    def chunk(start, stop):
        return np.stack(kernel(*(array[start:stop] for array in arrays), vector))

    return parallel.sum_over_leading_axis(chunk, len(arrays[0]), arrays[0].size)


def _elementwise(kernel, arrays, vectors, like):
    """A new array shaped and laid out like ``like``, filled by ``kernel`` share by share."""
    out = np.empty_like(like)

    def chunk(start, stop):
        kernel(*(array[start:stop] for array in arrays), *vectors, out[start:stop])

    parallel.over_leading_axis(chunk, len(like), like.size)
    return out


def channel_mean_var(x, layout: str):
    """Per-channel mean and biased variance, in x's dtype (twin of ``norm.channel_mean_var``)."""
    shift = _first_values(x, layout)
    total, squares = _sums(_stats_rows if layout == "rows" else _stats_planes, (x,), shift)
    count = x.size // x.shape[1]
    shifted_mean = total / count
    var = np.maximum(squares / count - shifted_mean * shifted_mean, 0.0)
    return (shift + shifted_mean).astype(x.dtype), var.astype(x.dtype)


def normalize(x, layout: str, mean, scale, beta):
    """(x - mean) * scale + beta per channel (twin of ``norm.normalize``)."""
    vectors = [np.ascontiguousarray(v, dtype=x.dtype) for v in (mean, scale, beta)]
    return _elementwise(_shifted_rows if layout == "rows" else _shifted_planes, (x,), vectors, x)


def grad_sums(grad, x, layout: str, mean):
    """Per channel sum(dy) and sum(dy * (x - mean)) (twin of ``norm.grad_sums``)."""
    mean64 = mean.astype(np.float64)
    sum_dy, sum_dy_centered = _sums(_grad_sums_rows if layout == "rows" else _grad_sums_planes, (grad, x), mean64)
    return sum_dy.astype(x.dtype), sum_dy_centered.astype(x.dtype)


def input_grad(grad, x, layout: str, mean, dy_scale, x_scale, offset):
    """dx = dy * dy_scale - (x - mean) * x_scale - offset per channel (twin of ``norm.input_grad``)."""
    vectors = [np.ascontiguousarray(v, dtype=x.dtype) for v in (mean, -x_scale, dy_scale, -offset)]
    return _elementwise(_affine_rows if layout == "rows" else _affine_planes, (x, grad), vectors, x)
