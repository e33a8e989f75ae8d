"""conv2d on the CPU, split into chunks of whole images that the cores work through side by side.

Why. The whole-batch im2col of ``conv.py`` writes a ``cols`` matrix KH*KW times the input (75 MB for a
64-channel 3x3 layer of a CIFAR ResNet at batch 32) to main memory, and the matrix product reads it
back: the convolution waits on memory more than on arithmetic. Taken a few images at a time, ``cols``
is small enough (a few MB) to stay in the core's cache between being written and being multiplied,
and each core runs its own chunks (``parallel.py``), so the copies run in parallel too. On 2 cores the
forward+backward of that layer went from 86 ms to 52 ms (``benchmarks/bench_conv.py``).

The math is the one of ``conv.py``, chunk by chunk (rows of chunk c: its images' output pixels):

    forward    Y_c = cols_c . W                           (each chunk writes its own rows of Y)
    backward   dW  = sum over chunks of cols_c^T . dY_c   (each thread sums its chunks, then the
                                                           per-thread sums are added)
               dX_c = col2im(dY_c . W^T)                   (images do not share pixels: no overlap)

Images are independent in a convolution, so no chunk reads what another writes. Only ``dW`` is a
sum across chunks; the order of that sum, and thus the last bits of ``dW``, can vary from run to run
with more than one thread, as with a multithreaded BLAS.

3x3 stride-1 convolutions go to ``winograd.py`` instead, which splits its work the same way.
"""
from __future__ import annotations

import numpy as np

from . import parallel, winograd
from .im2col import col2im, im2col
from .scratch import scratch
from .weight_layout import group_rows, ungroup, weight_from_matrix, weight_matrix

# Chunks hold about this many bytes of cols: with the product's output they fit a core's cache.
# 1-8 MB measured alike on ResNet-18's 64-channel layers; the 512-channel ones preferred 4-8 MB.
CHUNK_BYTES = 4 << 20
# Below this many flops (2*M*K*N of the whole batch) the threads cost more than they save.
MINIMUM_FLOPS = 1 << 24


def worth_splitting(x, weight_shape, rows: int, pointwise: bool) -> bool:
    """True when the split path should run: a host array, more than one image and one thread, and a
    product large enough. 1x1 stride-1 convolutions need no im2col, so there is nothing to split."""
    if pointwise or not isinstance(x, np.ndarray) or x.shape[0] < 2:
        return False
    out_channels, per_group, kh, kw = weight_shape
    flops = 2.0 * rows * kh * kw * per_group * out_channels
    return flops >= MINIMUM_FLOPS and parallel.workers() > 1


def split_forward(x_nhwc, weight, out_shape, kernel, stride, dilation, padding, groups):
    """Y (N, OH, OW, O) = conv of ``x_nhwc`` (N, H, W, C) with ``weight`` (O, C/G, KH, KW)."""
    out = np.empty(out_shape, dtype=x_nhwc.dtype)
    if winograd.applies(x_nhwc, kernel, stride, dilation, padding, groups):
        winograd.forward(x_nhwc, weight, out)
        return out
    matrix = weight_matrix(weight, groups)  # (G, KH*KW*C/G, O/G)
    cols_width = matrix.shape[1]
    image_rows = out_shape[1] * out_shape[2]

    def task(start, stop):
        cols = im2col(x_nhwc[start:stop], kernel, stride, dilation, padding, groups,
                      out=scratch(np, (groups, (stop - start) * image_rows, cols_width), x_nhwc.dtype))
        rows = out[start:stop].reshape(-1, out_shape[3])
        if groups == 1:
            np.matmul(cols[0], matrix[0], out=rows)
        else:
            rows[...] = ungroup(np.matmul(cols, matrix))

    parallel.run_chunks(task, len(x_nhwc), _images_per_chunk(image_rows * groups * cols_width, x_nhwc))
    return out


def split_backward(x_nhwc, grad_nhwc, weight, kernel, stride, dilation, padding, groups, need_w, need_x):
    """(dW (O, C/G, KH, KW) or None, dX (N, H, W, C) or None) of the convolution above, for
    dY ``grad_nhwc`` (N, OH, OW, O)."""
    grad_x = np.empty(x_nhwc.shape, dtype=x_nhwc.dtype) if need_x else None
    if winograd.applies(x_nhwc, kernel, stride, dilation, padding, groups):
        return winograd.backward(x_nhwc, grad_nhwc, weight, need_w, grad_x), grad_x
    matrix = weight_matrix(weight, groups)  # (G, KH*KW*C/G, O/G)
    cols_width = matrix.shape[1]
    image_rows = grad_nhwc.shape[1] * grad_nhwc.shape[2]

    def task(start, stop):
        buffer = scratch(np, (groups, (stop - start) * image_rows, cols_width), x_nhwc.dtype)
        grad_rows = group_rows(grad_nhwc[start:stop].reshape(-1, grad_nhwc.shape[3]), groups)
        share = None
        if need_w:
            cols = im2col(x_nhwc[start:stop], kernel, stride, dilation, padding, groups, out=buffer)
            share = np.matmul(cols.transpose(0, 2, 1), grad_rows)  # this chunk's cols_c^T . dY_c
        if need_x:
            # cols is dead once its share of dW is made: d(cols) takes over the same buffer
            grad_cols = np.matmul(grad_rows, matrix.transpose(0, 2, 1), out=buffer)
            col2im(grad_cols, grad_x[start:stop].shape, kernel, stride, dilation, padding, out=grad_x[start:stop])
        return share

    per_chunk = _images_per_chunk(image_rows * groups * cols_width, x_nhwc)
    shares = parallel.run_chunks(task, len(x_nhwc), per_chunk)
    grad_weight = None
    if need_w:
        grad_weight = weight_from_matrix(parallel.total_of(shares), weight.shape)
    return grad_weight, grad_x


def _images_per_chunk(items_per_image, x):
    return parallel.chunk_size(len(x), max(1, CHUNK_BYTES // max(1, items_per_image * x.dtype.itemsize)))
