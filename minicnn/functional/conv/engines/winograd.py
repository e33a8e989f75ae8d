"""The engine for 3x3 stride-1 convolutions: Winograd's minimal filtering F(2x2, 3x3), forward and backward.

Why. A 3x3 convolution spends 9 multiplies per input channel on each output pixel. Winograd computes
a 2x2 block of outputs from a 4x4 input patch with 16 multiplies instead of 4*9 = 36: 2.25x fewer.
Most of a ResNet or VGG is 3x3 stride-1 convolutions, and their multiplies are most of its time.

The algorithm, for one tile (4x4 input patch d, 3x3 filter w, 2x2 output y):

    y = A^T [ (G w G^T) * (B^T d B) ] A          (* is elementwise, on 4x4 matrices)

    B^T = [[1,  0, -1,  0],   G = [[1,    0,   0  ],   A^T = [[1, 1,  1,  0],
           [0,  1,  1,  0],        [1/2,  1/2, 1/2],          [0, 1, -1, -1]]
           [0, -1,  1,  0],        [1/2, -1/2, 1/2],
           [0,  1,  0, -1]]        [0,    0,   1  ]]

Summed over input channels c, the elementwise product becomes, for each of the 16 positions p of the
4x4, one matrix product over all tiles t at once:

    V[p, t, c] = (B^T d_{t,c} B)[p]        input transform   (cpu/kernels/winograd_kernels.py)
    U[p, c, k] = (G w_{k,c} G^T)[p]        weight transform  (here, once per call, as U^T)
    M[p]       = V[p] . U[p]               16 products (tiles x C) . (C x K), in BLAS
    y_{t,k}    = A^T M_{t,k} A             output transform

Backward is the adjoint of each linear step, in reverse (X^T of a transform is its adjoint):

    dM_{t,k} = A dY_{t,k} A^T              adjoint output transform
    dU[p]    = V[p]^T . dM[p]              -> dW_{k,c} = G^T dU_{c,k} G
    dV[p]    = dM[p] . U[p]^T              -> dX: B dV_{t,c} B^T added onto each (overlapping) patch

so the gradients are exact for the computation forward did, and they match the im2col convolution's
to rounding: the transforms only add, subtract and halve. Tiles are 2x2 outputs over the 1-padded
image; an odd height or width gets one more zero row or column, and its output is cropped.

It serves, on the CPU, 3x3, stride 1, dilation 1, padding 1, ungrouped convolutions of at least
``MINIMUM_CHANNELS`` input channels that are large enough to split (``split.worth_splitting``), split
across the cores like ``split.py`` (the end of this file).
"""
from __future__ import annotations

import numpy as np

from ....cpu import parallel
from ....cpu.kernels import winograd_kernels
from ....cpu.scratch import scratch
from .nhwc import NhwcEngine
from .split import worth_splitting

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
# (G w G^T)[a, b] = sum over i, j of w[i, j] G[a, i] G[b, j]: as a matrix (16, 9) acting on flat filters
_WEIGHT_TRANSFORM = np.einsum("ai,bj->abij", _G, _G).reshape(16, 9)


# With few input channels the transforms' channel loops are too short to pay: ResNet's 3-channel
# CIFAR stem ran 2.4x slower than by im2col.
MINIMUM_CHANNELS = 16


class Winograd(NhwcEngine):
    name = "winograd"
    why = "3x3 stride-1 padding-1 layers of 16+ channels: 16 multiplies per 2x2 outputs instead of 36"

    def applies(self, geometry, x) -> bool:
        return (winograd_kernels.numba is not None and x.dtype in (np.float32, np.float64)
                and geometry.in_channels >= MINIMUM_CHANNELS and geometry.kernel == (3, 3)
                and geometry.stride == (1, 1) and geometry.dilation == (1, 1)
                and tuple(geometry.padding) == (1, 1, 1, 1) and geometry.groups == 1 and worth_splitting(geometry, x))

    def forward_nhwc(self, x_nhwc, weight, geometry):
        out = np.empty(x_nhwc.shape[:3] + (geometry.out_channels,), dtype=x_nhwc.dtype)
        # the transformed weight (16/9 of the weight's size) is kept for backward
        return out, forward(x_nhwc, weight, out)

    def backward_nhwc(self, x_nhwc, grad_nhwc, weight, geometry, ut, need_w, need_x):
        grad_x = np.empty(x_nhwc.shape, dtype=x_nhwc.dtype) if need_x else None
        return backward(x_nhwc, grad_nhwc, weight, need_w, grad_x, ut=ut), grad_x


def tiles(height, width):
    """(tile rows, tile columns): 2x2 output blocks covering the image, the last ones padded if odd."""
    return (height + 1) // 2, (width + 1) // 2


def weight_transform(weight):
    """U^T (16, K, C): U^T[a*4 + b, k, c] = (G w_{k,c} G^T)[a, b] for ``weight`` (K, C, 3, 3).

    Kept as (K, C) per position, the filters' own order, so both this and its adjoint are one
    product with the flat filters and no transposed copy; BLAS reads U^T transposed for free."""
    out_channels, in_channels = weight.shape[:2]
    flat = weight.reshape(out_channels * in_channels, 9)
    transform = _WEIGHT_TRANSFORM.astype(weight.dtype)
    return _product(transform, flat.T).reshape(16, out_channels, in_channels)


def weight_transform_adjoint(grad_ut):
    """dW (K, C, 3, 3) = G^T dU_{k,c} G, for dU^T (16, K, C)."""
    _, out_channels, in_channels = grad_ut.shape
    flat = grad_ut.reshape(16, out_channels * in_channels)
    transform = _WEIGHT_TRANSFORM.astype(grad_ut.dtype)
    return _product(flat.T, transform).reshape(out_channels, in_channels, 3, 3)


def _product(a, b):
    """The weight transforms' products: they move far more memory than they compute (a 512x512
    layer's reads and writes 26 MB for 75 MFLOP), so large ones are split across the threads."""
    if a.shape[0] * b.shape[1] >= 1 << 20:
        return parallel.matmul(a, b)
    with parallel.single_threaded_blas():
        return np.matmul(a, b)


def input_tiles(x, v=None, first=0):
    """V (16, N*TH*TW, C) of x (N, H, W, C), into this thread's "winograd_v" buffer, or into the tiles of
    ``v`` from ``first`` on (the whole batch's tile array, of which x's images are a chunk)."""
    n, height, width, channels = x.shape
    tiles_h, tiles_w = tiles(height, width)
    if v is None:
        v = scratch(np, (16, n * tiles_h * tiles_w, channels), x.dtype, slot="winograd_v")
    winograd_kernels.input_transform(_padded_input(x), v, first)
    return v


def output_from_tiles(m, out, first=0):
    """out (N, H, W, K) = A^T M A, tile by tile, from the tiles of M (16, T, K) from ``first`` on."""
    n, height, width, channels = out.shape
    tiles_h, tiles_w = tiles(height, width)
    if (height, width) == (2 * tiles_h, 2 * tiles_w):
        winograd_kernels.output_transform(m, out, first)
    else:  # odd sides: the last tile row/column is half outside the image
        whole = scratch(np, (n, 2 * tiles_h, 2 * tiles_w, channels), m.dtype, slot="winograd_out")
        winograd_kernels.output_transform(m, whole, first)
        out[...] = whole[:, :height, :width]


def gradient_tiles(grad, grad_m=None, first=0):
    """dM (16, N*TH*TW, K) = A dY A^T, tile by tile, from dY (N, H, W, K), into this thread's
    "winograd_m" buffer or into the tiles of ``grad_m`` from ``first`` on."""
    n, height, width, channels = grad.shape
    tiles_h, tiles_w = tiles(height, width)
    if (height, width) != (2 * tiles_h, 2 * tiles_w):  # odd sides: zeros outside the image
        whole = scratch(np, (n, 2 * tiles_h, 2 * tiles_w, channels), grad.dtype, slot="winograd_out")
        whole[...] = 0
        whole[:, :height, :width] = grad
        grad = whole
    if grad_m is None:
        grad_m = scratch(np, (16, n * tiles_h * tiles_w, channels), grad.dtype, slot="winograd_m")
    winograd_kernels.output_transform_adjoint(grad, grad_m, first)
    return grad_m


def input_grad_from_tiles(grad_v, grad_x, first=0):
    """dX (N, H, W, C): B dV B^T of every tile (those of ``grad_v`` from ``first`` on) added onto its
    patch, written into ``grad_x``."""
    n, height, width, channels = grad_x.shape
    tiles_h, tiles_w = tiles(height, width)
    padded = scratch(np, (n, 2 * tiles_h + 2, 2 * tiles_w + 2, channels), grad_v.dtype, slot="winograd_in")
    winograd_kernels.input_transform_adjoint(grad_v, padded, first)
    grad_x[...] = padded[:, 1:height + 1, 1:width + 1]


def _padded_input(x):
    """x (N, H, W, C) in a 1-padded buffer whose sides are 2*tiles + 2 (this thread's "winograd_in")."""
    n, height, width, channels = x.shape
    tiles_h, tiles_w = tiles(height, width)
    padded = scratch(np, (n, 2 * tiles_h + 2, 2 * tiles_w + 2, channels), x.dtype, slot="winograd_in")
    # zero only the border: the interior is overwritten
    padded[:, 0] = 0
    padded[:, height + 1:] = 0
    padded[:, :, 0] = 0
    padded[:, :, width + 1:] = 0
    padded[:, 1:height + 1, 1:width + 1] = x
    return padded


# ----------------------------------------------------------------------------------------------
# Splitting the work across threads
# ----------------------------------------------------------------------------------------------
#
# Large images: each thread takes a chunk of whole images through all steps (transform, 16 products,
# transform) while its tiles are still in its cache. Small images (ResNet's last stages), where a
# chunk that fits the cache would hold too few tiles for the products to run well in BLAS: the
# calling thread transforms the whole batch and the threads split the 16 products between them.

# Tile arrays (V and M) of a chunk fit in about this many bytes. 8 MB ran ResNet-18's 64- and
# 128-channel layers forward+backward 5% and 9% faster than 4 MB (4 and 8 images per chunk at batch 32).
CHUNK_BYTES = 8 << 20
# Chunks with fewer tiles than this give thin products; the batch is then split by position.
MINIMUM_CHUNK_TILES = 256


def forward(x, weight, out):
    """out (N, H, W, K) = conv3x3(x (N, H, W, C), weight (K, C, 3, 3), padding 1) on every thread.
    Returns the transformed weight U^T, which backward needs again."""
    ut = weight_transform(weight)
    per_chunk = _images_per_chunk(x, out.shape[3])
    if per_chunk:
        def chunk(start, stop):
            v = input_tiles(x[start:stop])
            m = scratch(np, (16, v.shape[1], ut.shape[1]), x.dtype, slot="winograd_m")
            np.matmul(v, ut.transpose(0, 2, 1), out=m)  # M[p] = V[p] . U[p]
            output_from_tiles(m, out[start:stop])

        parallel.run_chunks(chunk, len(x), per_chunk)
        return ut
    images = _ImageSplit(x)
    v = images.tile_array(x.shape[3])
    images.run(lambda start, stop, first: input_tiles(x[start:stop], v, first))
    m = images.tile_array(ut.shape[1], slot="winograd_m")

    def positions(first, stop):
        np.matmul(v[first:stop], ut[first:stop].transpose(0, 2, 1), out=m[first:stop])

    parallel.run_chunks(positions, 16, parallel.chunk_size(16, 16))
    images.run(lambda start, stop, first: output_from_tiles(m, out[start:stop], first))
    return ut


def backward(x, grad, weight, need_w, grad_x, ut=None):
    """dW (K, C, 3, 3) when ``need_w`` (else None), and dX written into ``grad_x`` unless it is None,
    for dY ``grad`` (N, H, W, K). ``ut``: the transformed weight forward returned (else remade)."""
    need_x = grad_x is not None
    if need_x and ut is None:
        ut = weight_transform(weight)
    per_chunk = _images_per_chunk(x, grad.shape[3])
    if per_chunk:
        def chunk(start, stop):
            grad_m = gradient_tiles(grad[start:stop])
            share = None
            if need_w:
                v = input_tiles(x[start:stop])  # rebuilt, not kept from forward
                share = np.matmul(grad_m.transpose(0, 2, 1), v)  # this chunk's dU[p]^T = dM[p]^T . V[p]
            if need_x:
                count = grad_m.shape[1]
                grad_v = scratch(np, (16, count, x.shape[3]), x.dtype, slot="winograd_v")  # V is dead now
                np.matmul(grad_m, ut, out=grad_v)  # dV[p] = dM[p] . U[p]^T
                input_grad_from_tiles(grad_v, grad_x[start:stop])
            return share

        grad_ut = (parallel.sum_of_chunks if need_w else parallel.run_chunks)(chunk, len(x), per_chunk)
    else:
        images = _ImageSplit(x)
        grad_m = images.tile_array(grad.shape[3], slot="winograd_m")
        images.run(lambda start, stop, first: gradient_tiles(grad[start:stop], grad_m, first))
        v = images.tile_array(x.shape[3])
        if need_w:
            images.run(lambda start, stop, first: input_tiles(x[start:stop], v, first))
        grad_ut = np.empty((16, grad.shape[3], x.shape[3]), dtype=x.dtype) if need_w else None

        def positions(first, stop):
            if need_w:
                np.matmul(grad_m[first:stop].transpose(0, 2, 1), v[first:stop], out=grad_ut[first:stop])
            if need_x:  # V[p] is dead once dU[p] is made
                np.matmul(grad_m[first:stop], ut[first:stop], out=v[first:stop])

        parallel.run_chunks(positions, 16, parallel.chunk_size(16, 16))
        if need_x:
            images.run(lambda start, stop, first: input_grad_from_tiles(v, grad_x[start:stop], first))
    return weight_transform_adjoint(grad_ut) if need_w else None


class _ImageSplit:
    """The split by position: tile arrays for the whole batch, in the calling thread's buffers, and
    their transforms run by image chunks on every thread (each writing its images' tiles)."""

    def __init__(self, x):
        self.batch = len(x)
        self.tiles_per_image = tiles(x.shape[1], x.shape[2])[0] * tiles(x.shape[1], x.shape[2])[1]
        self.dtype = x.dtype

    def tile_array(self, channels, slot="winograd_v"):
        return scratch(np, (16, self.batch * self.tiles_per_image, channels), self.dtype, slot=slot)

    def run(self, task):
        """task(start, stop, first): images start..stop, whose tiles begin at tile ``first``."""
        per_image = self.tiles_per_image
        parallel.run_chunks(lambda start, stop: task(start, stop, start * per_image),
                            self.batch, parallel.chunk_size(self.batch, self.batch))


def _images_per_chunk(x, out_channels):
    """Images per chunk for the chunked split, or 0 when the split by position serves better."""
    n, height, width, channels = x.shape
    tiles_h, tiles_w = tiles(height, width)
    tile_bytes = 16 * (channels + out_channels) * x.dtype.itemsize  # one tile's share of V and M
    per_chunk = parallel.chunk_size(n, max(1, CHUNK_BYTES // (tile_bytes * tiles_h * tiles_w)))
    return per_chunk if per_chunk * tiles_h * tiles_w >= MINIMUM_CHUNK_TILES else 0
