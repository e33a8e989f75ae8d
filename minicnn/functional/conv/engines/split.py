"""The engine that splits conv2d on the CPU into chunks of whole images, which the cores work through side by side.

Why. The whole-batch im2col of ``reference.py`` writes a ``cols`` matrix KH*KW times the input (75 MB for a
64-channel 3x3 layer of a CIFAR ResNet at batch 32) to main memory, and the matrix product reads it
back: the convolution waits on memory more than on arithmetic. Taken a few images at a time, ``cols``
is small enough (a few MB) to stay in the core's cache between being written and being multiplied,
and each core runs its own chunks (``minicnn/cpu/parallel.py``), so the copies run in parallel too. On 2 cores the
forward+backward of that layer went from 86 ms to 52 ms (``benchmarks/bench_conv.py``).

The math is the reference's, chunk by chunk (rows of chunk c: its images' output pixels):

    forward    Y_c = cols_c . W                           (each chunk writes its own rows of Y)
    backward   dW  = sum over chunks of cols_c^T . dY_c   (each thread sums its chunks, then the
                                                           per-thread sums are added)
               dX_c = col2im(dY_c . W^T)                   (images do not share pixels: no overlap)

Images are independent in a convolution, so no chunk reads what another writes. Only ``dW`` is a
sum across chunks; the order of that sum, and thus the last bits of ``dW``, can vary from run to run
with more than one thread, as with a multithreaded BLAS.

3x3 stride-1 convolutions of 16 or more channels go to ``winograd.py`` instead, which splits its work the
same way. 1x1
stride-1 convolutions have no im2col to keep in cache, but are split all the same: with every product
of a network on one BLAS thread, BLAS's own threads never start, and never spin after a product
while these threads want the cores (a ResNet-50 step spent 1.5x longer in its 3x3 convolutions when
the 1x1 ones between them used BLAS's threads).
"""
from __future__ import annotations

import numpy as np

from ....cpu import parallel
from ....cpu.scratch import scratch
from ..im2col import im2col, is_pointwise
from ..weight_layout import group_rows, ungroup, weight_from_rows, weight_matrix
from .col2im import fast_col2im
from .nhwc import NhwcEngine

# Chunks hold about this many bytes of cols. 1-8 MB measured alike on ResNet-18's 64-channel layers
# and the 512-channel ones preferred 4-8 MB; once the elementwise passes ran on both cores too, its
# stride-2 layers ran forward+backward 4-12% faster with 8 MB than with 4 (fewer, larger products).
CHUNK_BYTES = 8 << 20
# Chunks with fewer rows than this give thin products: the whole batch is then done at once.
MINIMUM_CHUNK_ROWS = 256
# Below this many flops (2*M*K*N of the whole batch) the threads cost more than they save.
MINIMUM_FLOPS = 1 << 24


def worth_splitting(geometry, x) -> bool:
    """True when the split pays: a host array of more than one image, and a product large enough. With
    a single thread it pays too, for the cache and Winograd: ResNet-18's 3x3 layers ran fwd+bwd 1.6-2x
    faster than by the whole-batch im2col on one core."""
    if not isinstance(x, np.ndarray) or x.shape[0] < 2:
        return False
    return 2.0 * geometry.multiply_adds >= MINIMUM_FLOPS


class ChunksOfImages(NhwcEngine):
    name = "chunks-of-images"
    why = ("a large host convolution in chunks of images whose cols stays in cache, one chunk per core at a time, "
           "on one BLAS thread each")

    def applies(self, geometry, x) -> bool:
        return worth_splitting(geometry, x)

    def forward_nhwc(self, x_nhwc, weight, geometry):
        n, (oh, ow) = x_nhwc.shape[0], geometry.output_size
        return split_forward(x_nhwc, weight, (n, oh, ow, geometry.out_channels), *geometry.im2col_args), None

    def backward_nhwc(self, x_nhwc, grad_nhwc, weight, geometry, reused, need_w, need_x):
        return split_backward(x_nhwc, grad_nhwc, weight, *geometry.im2col_args, need_w, need_x)


def split_forward(x_nhwc, weight, out_shape, kernel, stride, dilation, padding, groups):
    """Y (N, OH, OW, O) = conv of ``x_nhwc`` (N, H, W, C) with ``weight`` (O, C/G, KH, KW)."""
    out = np.empty(out_shape, dtype=x_nhwc.dtype)
    matrix = weight_matrix(weight, groups)  # (G, KH*KW*C/G, O/G)
    geometry = (kernel, stride, dilation, padding, groups)
    image_rows = out_shape[1] * out_shape[2]
    per_chunk = _images_per_chunk(x_nhwc, image_rows, matrix.shape[1] * groups, geometry)
    if not per_chunk:  # the whole batch, its products split across the threads
        cols = im2col(x_nhwc, *geometry, out=_cols_buffer(x_nhwc, len(x_nhwc) * image_rows, matrix, geometry))
        _product_into(cols, matrix, out.reshape(-1, out_shape[3]), parallel.matmul)
        return out

    def chunk(start, stop):
        cols = im2col(x_nhwc[start:stop], *geometry,
                      out=_cols_buffer(x_nhwc, (stop - start) * image_rows, matrix, geometry))
        _product_into(cols, matrix, out[start:stop].reshape(-1, out_shape[3]), np.matmul)

    parallel.run_chunks(chunk, len(x_nhwc), per_chunk)
    return out


def split_backward(x_nhwc, grad_nhwc, weight, kernel, stride, dilation, padding, groups, need_w, need_x):
    """(dW (O, C/G, KH, KW) or None, dX (N, H, W, C) or None) of the convolution above, for
    dY ``grad_nhwc`` (N, OH, OW, O)."""
    grad_x = np.empty(x_nhwc.shape, dtype=x_nhwc.dtype) if need_x else None
    matrix = weight_matrix(weight, groups)  # (G, KH*KW*C/G, O/G)
    geometry = (kernel, stride, dilation, padding, groups)
    image_rows = grad_nhwc.shape[1] * grad_nhwc.shape[2]
    pointwise = _pointwise(geometry)  # cols is the input, d(cols) is dX

    def gradients(start, stop, product):
        """This chunk's share of dW^T, dY_c^T . cols_c (None unless need_w); dX_c written into grad_x."""
        buffer = _cols_buffer(x_nhwc, (stop - start) * image_rows, matrix, geometry)
        grad_rows = group_rows(grad_nhwc[start:stop].reshape(-1, grad_nhwc.shape[3]), groups)
        share = None
        if need_w:
            cols = im2col(x_nhwc[start:stop], *geometry, out=buffer)
            share = product(grad_rows.transpose(0, 2, 1), cols)
        if need_x:
            # cols is dead once its share of dW is made: d(cols) takes over the same buffer
            grad_cols = product(grad_rows, matrix.transpose(0, 2, 1),
                                out=grad_x[start:stop].reshape(matrix.shape[0], -1, matrix.shape[1])
                                if pointwise else buffer)
            if not pointwise:
                fast_col2im(grad_cols, grad_x[start:stop].shape, *geometry[:4], out=grad_x[start:stop])
        return share

    per_chunk = _images_per_chunk(x_nhwc, image_rows, matrix.shape[1] * groups, geometry)
    if per_chunk:
        chunks = parallel.sum_of_chunks if need_w else parallel.run_chunks
        grad_matrix = chunks(lambda start, stop: gradients(start, stop, np.matmul), len(x_nhwc), per_chunk)
    else:  # the whole batch, its products split across the threads
        grad_matrix = gradients(0, len(x_nhwc), parallel.matmul)
    grad_weight = weight_from_rows(grad_matrix, weight.shape) if need_w else None
    return grad_weight, grad_x


def _product_into(cols, matrix, out_rows, product):
    """out_rows (M, O) = the per-group products cols (G, M, K) . matrix (G, K, O/G), side by side."""
    if matrix.shape[0] == 1:
        product(cols[0], matrix[0], out=out_rows)
    else:
        out_rows[...] = ungroup(product(cols, matrix))


def _cols_buffer(x_nhwc, rows, matrix, geometry):
    """This thread's scratch buffer for ``rows`` rows of cols; None for a pointwise convolution,
    whose cols is the input itself."""
    if _pointwise(geometry):
        return None
    return scratch(np, (matrix.shape[0], rows, matrix.shape[1]), x_nhwc.dtype)


def _images_per_chunk(x, image_rows, cols_width, geometry):
    """Images per chunk, or 0 for the whole batch at once with its products split instead: when
    cols is the input itself (pointwise: nothing to keep in cache), or when chunks small enough for
    the cache would have too few rows for BLAS to run them well (small images, many channels)."""
    if _pointwise(geometry):
        return 0
    by_cache = max(1, CHUNK_BYTES // max(1, image_rows * cols_width * x.dtype.itemsize))
    per_chunk = parallel.chunk_size(len(x), by_cache)
    return per_chunk if per_chunk * image_rows >= MINIMUM_CHUNK_ROWS else 0


def _pointwise(geometry):
    """geometry = (kernel, stride, dilation, padding, groups) of a 1x1 stride-1 unpadded convolution."""
    kernel, stride, _, padding, groups = geometry
    return is_pointwise(kernel, stride, padding, groups)
