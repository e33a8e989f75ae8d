"""numba kernels for the four tile transforms of the Winograd convolution (``functional/conv/engines/winograd.py``).

Each kernel walks the 2x2-output tiles of a chunk of NHWC images; for one tile it reads a 4x4 (or 2x2)
patch of every channel and writes the 16 (or 4) transformed values. The channel loop is innermost
and unit-stride in every array. A transform is applied in two stages, along the rows into a small
(16, C) buffer and then along the columns, so each channel loop touches at most 4 arrays for
writing: with the 16 outputs of a tile written in one loop, the compiler did not vectorize it and
the kernel ran 10x slower. The matrices are (see winograd.py)

    B^T = [[1,  0, -1,  0],      A^T = [[1, 1,  1,  0],
           [0,  1,  1,  0],             [0, 1, -1, -1]]
           [0, -1,  1,  0],
           [0,  1,  0, -1]]

Images are padded by the caller so that every tile is whole: the kernels have no bounds checks.
The tile arrays (16, T, C) are the whole batch's, C-contiguous, and a chunk of images writes or reads
its own tiles from ``first`` on: handed a slice ``v[:, first:]`` instead, numba compiles the loops for
an array of any layout, which do not vectorize (1.4x-2x slower, run on 512 channels of 4x4 images).
Tile t = first + (n*tiles_h + ty)*tiles_w + tx covers padded rows 2ty..2ty+3 and columns 2tx..2tx+3 of the
input (4x4), and rows 2ty..2ty+1, columns 2tx..2tx+1 of the output (2x2). There is no array-code
twin: the tests compare the whole Winograd convolution with the im2col one and with torch.
"""
from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:
    numba = None


def _jit(function):
    if numba is None:
        return function
    # nogil: the convolution runs chunks of images on several Python threads at once
    return numba.njit(cache=True, nogil=True)(function)


@_jit
def input_transform(padded, v, first):
    """v[a*4 + b, t, c] = (B^T d B)[a, b] for the 4x4 patch d of channel c under tile t.

    padded: (N, 2*TH + 2, 2*TW + 2, C); v: (16, T, C), these images' tiles from ``first`` on.
    """
    n_images, height, width, channels = padded.shape
    tiles_h, tiles_w = (height - 2) // 2, (width - 2) // 2
    rows = np.empty((16, channels), dtype=padded.dtype)  # rows[a*4 + j] = (B^T d)[a, j]
    for n in range(n_images):
        for ty in range(tiles_h):
            d0, d1, d2, d3 = padded[n, 2 * ty], padded[n, 2 * ty + 1], padded[n, 2 * ty + 2], padded[n, 2 * ty + 3]
            for tx in range(tiles_w):
                t = first + (n * tiles_h + ty) * tiles_w + tx
                for j in range(4):
                    x = 2 * tx + j
                    for c in range(channels):
                        rows[j, c] = d0[x, c] - d2[x, c]
                        rows[4 + j, c] = d1[x, c] + d2[x, c]
                        rows[8 + j, c] = d2[x, c] - d1[x, c]
                        rows[12 + j, c] = d1[x, c] - d3[x, c]
                for a in range(4):
                    u0, u1, u2, u3 = rows[4 * a], rows[4 * a + 1], rows[4 * a + 2], rows[4 * a + 3]
                    v0, v1, v2, v3 = v[4 * a, t], v[4 * a + 1, t], v[4 * a + 2, t], v[4 * a + 3, t]
                    for c in range(channels):  # (u B)[a, b], the same combination along the row
                        v0[c] = u0[c] - u2[c]
                        v1[c] = u1[c] + u2[c]
                        v2[c] = u2[c] - u1[c]
                        v3[c] = u1[c] - u3[c]


@_jit
def output_transform(m, out, first):
    """out[n, 2ty + i, 2tx + j, k] = (A^T m_t A)[i, j], m_t the 4x4 of channel k for tile t.

    m: (16, T, K), these images' tiles from ``first`` on; out: (N, 2*TH, 2*TW, K).
    """
    n_images, height, width, channels = out.shape
    tiles_h, tiles_w = height // 2, width // 2
    rows = np.empty((8, channels), dtype=m.dtype)  # rows[i*4 + b] = (A^T m)[i, b]
    for n in range(n_images):
        for ty in range(tiles_h):
            for tx in range(tiles_w):
                t = first + (n * tiles_h + ty) * tiles_w + tx
                for b in range(4):
                    m0, m1, m2, m3 = m[b, t], m[4 + b, t], m[8 + b, t], m[12 + b, t]
                    top, bottom = rows[b], rows[4 + b]
                    for k in range(channels):
                        top[k] = m0[k] + m1[k] + m2[k]
                        bottom[k] = m1[k] - m2[k] - m3[k]
                for i in range(2):
                    s0, s1, s2, s3 = rows[4 * i], rows[4 * i + 1], rows[4 * i + 2], rows[4 * i + 3]
                    left, right = out[n, 2 * ty + i, 2 * tx], out[n, 2 * ty + i, 2 * tx + 1]
                    for k in range(channels):
                        left[k] = s0[k] + s1[k] + s2[k]
                        right[k] = s1[k] - s2[k] - s3[k]


@_jit
def output_transform_adjoint(grad, m, first):
    """The adjoint of ``output_transform``: m_t = A g A^T for the 2x2 gradient g of tile t.

    grad: (N, 2*TH, 2*TW, K); m: (16, T, K), these images' tiles from ``first`` on.
    """
    n_images, height, width, channels = grad.shape
    tiles_h, tiles_w = height // 2, width // 2
    rows = np.empty((8, channels), dtype=grad.dtype)  # rows[a*2 + j] = (A g)[a, j]
    for n in range(n_images):
        for ty in range(tiles_h):
            for tx in range(tiles_w):
                t = first + (n * tiles_h + ty) * tiles_w + tx
                for j in range(2):
                    g0, g1 = grad[n, 2 * ty, 2 * tx + j], grad[n, 2 * ty + 1, 2 * tx + j]
                    q0, q1, q2, q3 = rows[j], rows[2 + j], rows[4 + j], rows[6 + j]
                    for k in range(channels):  # A = [[1, 0], [1, 1], [1, -1], [0, -1]]
                        q0[k] = g0[k]
                        q1[k] = g0[k] + g1[k]
                        q2[k] = g0[k] - g1[k]
                        q3[k] = -g1[k]
                for a in range(4):
                    q0, q1 = rows[2 * a], rows[2 * a + 1]
                    m0, m1, m2, m3 = m[4 * a, t], m[4 * a + 1, t], m[4 * a + 2, t], m[4 * a + 3, t]
                    for k in range(channels):  # (q A^T)[a, b], the same combination along the row
                        m0[k] = q0[k]
                        m1[k] = q0[k] + q1[k]
                        m2[k] = q0[k] - q1[k]
                        m3[k] = -q1[k]


@_jit
def input_transform_adjoint(v, padded, first):
    """The adjoint of ``input_transform``: padded[n, 2ty + i, 2tx + j, c] += (B v_t B^T)[i, j], summed
    over the tiles whose 4x4 patches overlap there. ``padded`` is zeroed here first.

    v: (16, T, C), these images' tiles from ``first`` on; padded: (N, 2*TH + 2, 2*TW + 2, C).
    """
    n_images, height, width, channels = padded.shape
    tiles_h, tiles_w = (height - 2) // 2, (width - 2) // 2
    padded[...] = 0.0
    rows = np.empty((16, channels), dtype=v.dtype)  # rows[i*4 + b] = (B v)[i, b]
    for n in range(n_images):
        for ty in range(tiles_h):
            for tx in range(tiles_w):
                t = first + (n * tiles_h + ty) * tiles_w + tx
                for b in range(4):
                    v0, v1, v2, v3 = v[b, t], v[4 + b, t], v[8 + b, t], v[12 + b, t]
                    e0, e1, e2, e3 = rows[b], rows[4 + b], rows[8 + b], rows[12 + b]
                    for c in range(channels):  # B's rows are B^T's columns
                        e0[c] = v0[c]
                        e1[c] = v1[c] - v2[c] + v3[c]
                        e2[c] = v1[c] + v2[c] - v0[c]
                        e3[c] = -v3[c]
                for i in range(4):
                    e0, e1, e2, e3 = rows[4 * i], rows[4 * i + 1], rows[4 * i + 2], rows[4 * i + 3]
                    row = padded[n, 2 * ty + i]
                    x = 2 * tx
                    for c in range(channels):  # (e B^T)[i, j], added onto the overlapping patch
                        row[x, c] += e0[c]
                        row[x + 1, c] += e1[c] - e2[c] + e3[c]
                        row[x + 2, c] += e1[c] + e2[c] - e0[c]
                        row[x + 3, c] -= e3[c]
