"""numba kernels for the data movement of conv2d on the CPU (the matrix products stay in BLAS).

Each kernel does in one pass what its array-code twin in ``functional/conv/im2col.py`` or
``functional/conv/engines/depthwise.py`` does in KH*KW vectorized passes over a padded copy; the kernels read the
padding as bounds checks instead (``top``, ``left``: the zeros before the first row and column).
``tests/test_conv.py`` compares each pair. All images are C-contiguous NHWC. The outer loops are
``prange`` over image (or output) rows, each writing only its own row, so ``PARALLEL = True`` is safe.
"""
from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:  # the array-code twins serve instead
    numba = None


def usable(array) -> bool:
    """True when ``array`` is a host float32/float64 numpy array and numba is installed."""
    return numba is not None and isinstance(array, np.ndarray) and array.dtype in (np.float32, np.float64)


# Single-threaded on purpose. These kernels are memory-bound copies that finish in 1-30 ms; with
# parallel=True, each call on a busy 2-core machine (numba's OpenMP threads competing with BLAS's
# spinning ones and other processes) took 10-15 ms longer than the serial loop, e.g. 15 ms instead
# of 0.9 ms for the im2col of a ResNet 1x1 projection. The matrix products keep all cores busy.
PARALLEL = False


def _jit(function):
    if numba is None:
        return function
    return numba.njit(parallel=PARALLEL, cache=True, nogil=True)(function)


@_jit
def col2im_into(cols, image, kh, kw, sh, sw, dh, dw, top, left, out_w):
    """image[n, h, w, g*Cg + c] = sum of cols[g, row, (i*KW + j)*Cg + c] over the windows covering (h, w).

    Gathers instead of scattering: pixel (h, w) is read by kernel position i of output row
    oh = (h + top - i*dh) / sh when that division is exact and in range; each pixel is written once.
    """
    groups, rows = cols.shape[0], cols.shape[1]
    batch, height, width, channels = image.shape
    per_group = channels // groups
    out_h = rows // (batch * out_w)
    for image_row in numba.prange(batch * height):
        n, h = image_row // height, image_row % height
        for w in range(width):
            pixel = image[n, h, w]
            pixel[:] = 0.0
            for i in range(kh):
                yy = h + top - i * dh
                if yy < 0 or yy % sh != 0 or yy // sh >= out_h:
                    continue
                for j in range(kw):
                    xx = w + left - j * dw
                    if xx < 0 or xx % sw != 0 or xx // sw >= out_w:
                        continue
                    row = (n * out_h + yy // sh) * out_w + xx // sw
                    k = (i * kw + j) * per_group
                    for g in range(groups):
                        field = cols[g, row]
                        for c in range(per_group):
                            pixel[g * per_group + c] += field[k + c]


@_jit
def depthwise_forward_into(image, taps, out, sh, sw, dh, dw, top, left):
    """out[n, oh, ow, c*M + m] = sum_ij image[n, oh*sh + i*dh - top, ow*sw + j*dw - left, c] * taps[i, j, c*M + m]."""
    batch, out_h, out_w, out_channels = out.shape
    kh, kw = taps.shape[0], taps.shape[1]
    height, width, channels = image.shape[1], image.shape[2], image.shape[3]
    multiplier = out_channels // channels
    for row in numba.prange(batch * out_h):
        n, y = row // out_h, row % out_h
        for x in range(out_w):
            pixel = out[n, y, x]
            pixel[:] = 0.0
            for i in range(kh):
                yy = y * sh + i * dh - top
                if yy < 0 or yy >= height:
                    continue
                for j in range(kw):
                    xx = x * sw + j * dw - left
                    if xx < 0 or xx >= width:
                        continue
                    source = image[n, yy, xx]
                    tap = taps[i, j]
                    if multiplier == 1:  # the common case, as a loop the compiler vectorizes
                        for c in range(channels):
                            pixel[c] += source[c] * tap[c]
                    else:
                        for c in range(channels):
                            for m in range(multiplier):
                                pixel[c * multiplier + m] += source[c] * tap[c * multiplier + m]


@_jit
def depthwise_weight_grad_into(image, grad, partial, sh, sw, dh, dw, top, left):
    """partial[n, i, j, o] = sum_{oh, ow} image[n, oh*sh + i*dh - top, ow*sw + j*dw - left, o // M]
    * grad[n, oh, ow, o].

    One partial sum per batch element so parallel iterations never write the same memory; the caller
    sums over n.
    """
    batch, out_h, out_w, out_channels = grad.shape
    kh, kw = partial.shape[1], partial.shape[2]
    height, width, channels = image.shape[1], image.shape[2], image.shape[3]
    multiplier = out_channels // channels
    for n in numba.prange(batch):
        partial[n] = 0.0
        for y in range(out_h):
            for x in range(out_w):
                upstream = grad[n, y, x]
                for i in range(kh):
                    yy = y * sh + i * dh - top
                    if yy < 0 or yy >= height:
                        continue
                    for j in range(kw):
                        xx = x * sw + j * dw - left
                        if xx < 0 or xx >= width:
                            continue
                        source = image[n, yy, xx]
                        target = partial[n, i, j]
                        if multiplier == 1:
                            for c in range(channels):
                                target[c] += source[c] * upstream[c]
                        else:
                            for c in range(channels):
                                for m in range(multiplier):
                                    target[c * multiplier + m] += source[c] * upstream[c * multiplier + m]


@_jit
def depthwise_input_grad_into(grad, taps, grad_image, sh, sw, dh, dw, top, left):
    """grad_image[n, h, w, c] = sum over the windows (oh, ow, i, j) covering (h, w) and over m of
    grad[n, oh, ow, c*M + m] * taps[i, j, c*M + m]."""
    batch, out_h, out_w, out_channels = grad.shape
    kh, kw = taps.shape[0], taps.shape[1]
    height, width, channels = grad_image.shape[1], grad_image.shape[2], grad_image.shape[3]
    multiplier = out_channels // channels
    for row in numba.prange(batch * height):
        n, h = row // height, row % height
        for w in range(width):
            pixel = grad_image[n, h, w]
            pixel[:] = 0.0
            for i in range(kh):
                yy = h + top - i * dh
                if yy < 0 or yy % sh != 0 or yy // sh >= out_h:
                    continue
                y = yy // sh
                for j in range(kw):
                    xx = w + left - j * dw
                    if xx < 0 or xx % sw != 0 or xx // sw >= out_w:
                        continue
                    upstream = grad[n, y, xx // sw]
                    tap = taps[i, j]
                    if multiplier == 1:
                        for c in range(channels):
                            pixel[c] += upstream[c] * tap[c]
                    else:
                        for c in range(channels):
                            for m in range(multiplier):
                                pixel[c] += upstream[c * multiplier + m] * tap[c * multiplier + m]
