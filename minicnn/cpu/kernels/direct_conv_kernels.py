"""numba kernels for the direct stride-1 convolution of few channels (``functional/conv/engines/direct.py``).

Each image is first copied into zero-padded channel planes, flattened: plane[c, y*Wp + x] is padded
pixel (y, x) of channel c, Wp the padded width, with a few zeros after the last row. On that flat
grid, kernel position t = (i, j) is a constant offset ``off[t] = i*dh*Wp + j*dw``, so for output
pixel p = oh*Wp + ow

    y[o, p] = b[o] + sum over c and t of w[o, c, t] * plane[c, p + off[t]]

is, for each (o, c, t), one multiply-add of two contiguous vectors of length OH*Wp: a loop the
compiler vectorizes. Columns ow >= OW of that grid wrap into the next row; they are computed and
thrown away (Wp/OW - 1 extra work: 14% for LeNet's first layer). The loops run over ``span`` entries,
OH*Wp rounded up to a multiple of 16: the compiled loop takes 16 entries a turn (two vectors of 8
float32) and does what is left over one entry at a time, 16 multiply-adds each, and for LeNet's
second layer (OH*Wp = 140) that remainder took a third of the time (one image, one core: 21.2 us
at 140 entries, 14.3 us at 144). The gradients, with dY copied onto the same grid and zero in the
thrown-away columns:

    dW[o, c, t] = sum over images and p of dY[o, p] * plane[c, p + off[t]]
    d(plane)[c, q] = sum over o and t of w[o, c, t] * dY[o, q - off[t]]      (then cropped: dX)

The second is the forward's loop again, over dY with ``M`` zeros in front (M = the largest offset),
at offsets M - off[t]; written as a gather, every output entry is written by one loop only.

All three are two loops (``_correlate``, ``_window_dots``) over the windows of one flat array that
holds every channel's plane end to end: window s = (c, t) starts at c*plane_length + off[t].
Images are indexed like NCHW, in either memory layout (NCHW, or channels-last as the other
convolutions leave them); each call handles the images it is given, one after the other, so the
caller runs shares of the images on several threads (``nogil``).
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
    # contract: multiply-adds as FMA; reassoc: the dW dot products summed in vector lanes
    return numba.njit(cache=True, nogil=True, fastmath={"contract", "reassoc"})(function)


@_jit
def _correlate(out, source, starts, weights):
    """out[r, p] += sum over s of weights[r, s] * source[starts[s] + p], for p < out.shape[1].

    Blocks of 4 rows of ``out`` by 4 windows of ``source``: each pass over p loads 4 windows and
    updates 4 rows with 16 multiply-adds, where one window per pass (1 load, 1 load + store of the
    row per multiply-add) ran LeNet-5's second layer 1.5x slower."""
    rows, span = out.shape
    count = starts.shape[0]
    r = 0
    while r + 4 <= rows:
        a0, a1, a2, a3 = out[r], out[r + 1], out[r + 2], out[r + 3]
        s = 0
        while s + 4 <= count:
            x0 = source[starts[s]:starts[s] + span]
            x1 = source[starts[s + 1]:starts[s + 1] + span]
            x2 = source[starts[s + 2]:starts[s + 2] + span]
            x3 = source[starts[s + 3]:starts[s + 3] + span]
            w00, w01, w02, w03 = weights[r, s], weights[r, s + 1], weights[r, s + 2], weights[r, s + 3]
            w10, w11, w12, w13 = weights[r + 1, s], weights[r + 1, s + 1], weights[r + 1, s + 2], weights[r + 1, s + 3]
            w20, w21, w22, w23 = weights[r + 2, s], weights[r + 2, s + 1], weights[r + 2, s + 2], weights[r + 2, s + 3]
            w30, w31, w32, w33 = weights[r + 3, s], weights[r + 3, s + 1], weights[r + 3, s + 2], weights[r + 3, s + 3]
            for p in range(span):
                v0, v1, v2, v3 = x0[p], x1[p], x2[p], x3[p]
                a0[p] += w00 * v0 + w01 * v1 + w02 * v2 + w03 * v3
                a1[p] += w10 * v0 + w11 * v1 + w12 * v2 + w13 * v3
                a2[p] += w20 * v0 + w21 * v1 + w22 * v2 + w23 * v3
                a3[p] += w30 * v0 + w31 * v1 + w32 * v2 + w33 * v3
            s += 4
        while s < count:
            x0 = source[starts[s]:starts[s] + span]
            w00, w10, w20, w30 = weights[r, s], weights[r + 1, s], weights[r + 2, s], weights[r + 3, s]
            for p in range(span):
                v0 = x0[p]
                a0[p] += w00 * v0
                a1[p] += w10 * v0
                a2[p] += w20 * v0
                a3[p] += w30 * v0
            s += 1
        r += 4
    while r < rows:  # the last rows one at a time, 4 windows per pass
        a0 = out[r]
        s = 0
        while s + 4 <= count:
            x0 = source[starts[s]:starts[s] + span]
            x1 = source[starts[s + 1]:starts[s + 1] + span]
            x2 = source[starts[s + 2]:starts[s + 2] + span]
            x3 = source[starts[s + 3]:starts[s + 3] + span]
            w00, w01, w02, w03 = weights[r, s], weights[r, s + 1], weights[r, s + 2], weights[r, s + 3]
            for p in range(span):
                a0[p] += w00 * x0[p] + w01 * x1[p] + w02 * x2[p] + w03 * x3[p]
            s += 4
        while s < count:
            x0 = source[starts[s]:starts[s] + span]
            w00 = weights[r, s]
            for p in range(span):
                a0[p] += w00 * x0[p]
            s += 1
        r += 1


@_jit
def _window_dots(grads, source, starts, totals):
    """totals[r, s] += sum over p of grads[r, p] * source[starts[s] + p], for p < grads.shape[1].

    Blocked like ``_correlate``: 4 rows of ``grads`` by 4 windows, 16 sums kept in vector lanes."""
    rows, span = grads.shape
    count = starts.shape[0]
    zero = grads.dtype.type(0)
    r = 0
    while r + 4 <= rows:
        g0, g1, g2, g3 = grads[r], grads[r + 1], grads[r + 2], grads[r + 3]
        s = 0
        while s + 4 <= count:
            x0 = source[starts[s]:starts[s] + span]
            x1 = source[starts[s + 1]:starts[s + 1] + span]
            x2 = source[starts[s + 2]:starts[s + 2] + span]
            x3 = source[starts[s + 3]:starts[s + 3] + span]
            t00 = t01 = t02 = t03 = t10 = t11 = t12 = t13 = zero
            t20 = t21 = t22 = t23 = t30 = t31 = t32 = t33 = zero
            for p in range(span):
                v0, v1, v2, v3 = x0[p], x1[p], x2[p], x3[p]
                h0, h1, h2, h3 = g0[p], g1[p], g2[p], g3[p]
                t00 += h0 * v0
                t01 += h0 * v1
                t02 += h0 * v2
                t03 += h0 * v3
                t10 += h1 * v0
                t11 += h1 * v1
                t12 += h1 * v2
                t13 += h1 * v3
                t20 += h2 * v0
                t21 += h2 * v1
                t22 += h2 * v2
                t23 += h2 * v3
                t30 += h3 * v0
                t31 += h3 * v1
                t32 += h3 * v2
                t33 += h3 * v3
            totals[r, s] += t00
            totals[r, s + 1] += t01
            totals[r, s + 2] += t02
            totals[r, s + 3] += t03
            totals[r + 1, s] += t10
            totals[r + 1, s + 1] += t11
            totals[r + 1, s + 2] += t12
            totals[r + 1, s + 3] += t13
            totals[r + 2, s] += t20
            totals[r + 2, s + 1] += t21
            totals[r + 2, s + 2] += t22
            totals[r + 2, s + 3] += t23
            totals[r + 3, s] += t30
            totals[r + 3, s + 1] += t31
            totals[r + 3, s + 2] += t32
            totals[r + 3, s + 3] += t33
            s += 4
        while s < count:
            x0 = source[starts[s]:starts[s] + span]
            t00 = t10 = t20 = t30 = zero
            for p in range(span):
                v0 = x0[p]
                t00 += g0[p] * v0
                t10 += g1[p] * v0
                t20 += g2[p] * v0
                t30 += g3[p] * v0
            totals[r, s] += t00
            totals[r + 1, s] += t10
            totals[r + 2, s] += t20
            totals[r + 3, s] += t30
            s += 1
        r += 4
    while r < rows:
        g0 = grads[r]
        for s in range(count):
            x0 = source[starts[s]:starts[s] + span]
            t00 = zero
            for p in range(span):
                t00 += g0[p] * x0[p]
            totals[r, s] += t00
        r += 1


@_jit
def _to_planes(image, planes, top, left, padded_w, channels_last):
    """planes[c, (y + top)*Wp + x + left] = image[c, y, x]; every other entry 0."""
    planes[:] = 0.0
    _to_grid(image, planes, padded_w, top * padded_w + left, channels_last)


@_jit
def _from_grid(grid, image, padded_w, first, channels_last):
    """image[c, y, x] = grid[c, first + y*Wp + x]: the inverse walk, for (C, H, W) outputs indexed
    like NCHW whatever their memory."""
    channels, height, width = image.shape
    if channels_last:
        for y in range(height):
            row = first + y * padded_w
            for x in range(width):
                for c in range(channels):
                    image[c, y, x] = grid[c, row + x]
    else:
        for c in range(channels):
            for y in range(height):
                row = first + y * padded_w
                source = grid[c, row:row + width]
                target = image[c, y]
                for x in range(width):
                    target[x] = source[x]


@_jit
def _to_grid(image, grid, padded_w, first, channels_last):
    """grid[c, first + y*Wp + x] = image[c, y, x], the entries between rows left as they are.
    ``image`` (C, H, W) is indexed like NCHW whatever its memory; ``channels_last`` picks the loop
    order that reads it in memory order."""
    channels, height, width = image.shape
    if channels_last:
        for y in range(height):
            row = first + y * padded_w
            for x in range(width):
                for c in range(channels):
                    grid[c, row + x] = image[c, y, x]
    else:
        for c in range(channels):
            for y in range(height):
                row = first + y * padded_w
                source = image[c, y]
                target = grid[c, row:row + width]
                for x in range(width):
                    target[x] = source[x]


@_jit
def forward_into(x, taps, starts, bias, out, top, left, padded_w, plane_length, span, x_channels_last,
                 out_channels_last):
    """out[n, o, oh, ow] = bias[o] + the stride-1 convolution of x[n, c, h, w].

    x (N, C, H, W) and out (N, O, OH, OW) are indexed like NCHW whatever their memory (the two flags
    say which is channels-last). taps: the weight as (O, C*KH*KW); starts[c*KH*KW + t] =
    c*plane_length + offset of kernel position t: where each (channel, kernel position) window
    starts in the image's flat planes. plane_length: entries per padded plane (padded rows * Wp + the
    zeros after them, at least ``span`` + the largest offset). span: the grid entries computed, at
    least OH*Wp.
    """
    channels = x.shape[1]
    out_c = taps.shape[0]
    planes = np.empty((channels, plane_length), dtype=x.dtype)
    flat = planes.reshape(channels * plane_length)
    acc = np.empty((out_c, span), dtype=x.dtype)
    for n in range(x.shape[0]):
        _to_planes(x[n], planes, top, left, padded_w, x_channels_last)
        for o in range(out_c):
            acc[o] = bias[o]
        _correlate(acc, flat, starts, taps)
        _from_grid(acc, out[n], padded_w, 0, out_channels_last)


@_jit
def backward_into(x, grad, taps, starts, taps_by_input, grad_starts, grad_taps, grad_x,
                  top, left, padded_w, plane_length, span, front, need_w, need_x,
                  x_channels_last, grad_channels_last):
    """For the images given: dW added into ``grad_taps`` (O, C*KH*KW) when need_w; dX written into
    ``grad_x`` (N, C, H, W, the memory layout of x) when need_x. grad: dY (N, O, OH, OW). Arrays are
    indexed like NCHW whatever their memory; the flags say which are channels-last.

    taps, starts, span: as in ``forward_into``; front: the largest kernel offset; taps_by_input (C, O*KH*KW)
    the same weights grouped by input channel, and grad_starts[o*KH*KW + t] = o*(front + plane_length)
    + front - offset of t: where the gather for dX reads dY of output channel o.
    """
    channels = x.shape[1]
    out_c = taps.shape[0]
    planes = np.empty((channels, plane_length), dtype=x.dtype)
    flat = planes.reshape(channels * plane_length)
    grad_planes = np.empty((channels, plane_length), dtype=x.dtype)
    # dY on the padded grid with `front` zeros before it and enough after; thrown-away columns stay 0
    extended = np.zeros((out_c, front + plane_length), dtype=x.dtype)
    extended_flat = extended.reshape(out_c * (front + plane_length))
    on_grid = np.zeros((out_c, span), dtype=x.dtype)  # the same dY without the margins, contiguous
    for n in range(x.shape[0]):
        _to_grid(grad[n], on_grid, padded_w, 0, grad_channels_last)
        if need_w:
            _to_planes(x[n], planes, top, left, padded_w, x_channels_last)
            _window_dots(on_grid, flat, starts, grad_taps)
        if need_x:
            for o in range(out_c):
                extended[o, front:front + span] = on_grid[o]
            grad_planes[:] = 0.0
            _correlate(grad_planes, extended_flat, grad_starts, taps_by_input)
            _from_grid(grad_planes, grad_x[n], padded_w, top * padded_w + left, x_channels_last)
