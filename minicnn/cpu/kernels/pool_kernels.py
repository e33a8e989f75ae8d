"""numba kernels for max pooling on the CPU.

The array code in ``functional/pool/windows.py`` pads the input and walks the KH*KW window views with
several full passes each (compare, select, record the winner); these kernels visit every window element
once, skip the elements that fall in the padding instead of copying the input into a padded buffer, and
write the gradient straight into an input-shaped array. They compute exactly what the array code does
(the tests compare them). Two loop orders serve the two common layouts: channels innermost for
channels-last memory, output columns innermost for (N, C, H, W) memory; any strides are accepted.
"""
from __future__ import annotations

import numpy as np

from .. import parallel

try:
    import numba
except ImportError:  # numba is optional: without it the array code runs
    numba = None


# Below this many output elements the array code is as fast: waking the worker threads costs tens
# of microseconds, far more on a loaded machine.
MIN_ELEMENTS = 1 << 14

# From this many channels the channels-last loops run over the channels in vector instructions; below
# it, a vector holds more lanes than there are channels: the backward jumps straight to each winner
# (64x6x28x28 2x2: 364 against 540 us in _gather_nhwc), and 2x2 windows at stride 2 take the forward
# with the output columns innermost (_max_2x2_few_channels_nhwc).
VECTOR_CHANNELS = 8


def usable(array, elements: int | None = None) -> bool:
    """True when ``array`` is a host numpy float32/float64 array, numba is installed and (when
    ``elements``, the number of outputs, is given) the work is large enough to pay for the thread start."""
    if numba is None or type(array) is not np.ndarray or array.dtype not in (np.float32, np.float64):
        return False
    return elements is None or elements >= MIN_ELEMENTS


def _channels_last(array) -> bool:
    return array.ndim == 4 and array.shape[1] > 1 and array.strides[1] < array.strides[3]


if numba is not None:
    # nogil: the images are split in chunks across Python threads (``minicnn.cpu.parallel``), as for the
    # convolutions. numba's own parallel loops (OpenMP) were used here before; their threads kept
    # spinning on the cores for a while after each pooling and slowed the next operation down
    # (LeNet-5's training step ran 8.3 instead of 9.9 ms once they were told not to spin).
    # Window elements outside the input are skipped (padding counts as -inf): no padded copy is made.
    # Each window starts from -inf with the winner at its first element inside the input, then takes
    # every element that is larger or NaN, in row-major order: torch's loop exactly.
    # The take is written without a branch: ``mask`` is all ones (take) or all zeros in the winner's
    # dtype, and the winner is blended through it. With ``if value > best: best, won = value, position``
    # the compiled loop branches on every element, and on real activations (half of them zero after
    # a ReLU) that branch is a coin toss the CPU mispredicts half the time; the blend compiles to
    # compares and selects over many channels at once (2x2 pooling of a channels-last 32x64x32x32
    # on one core: 7.1 -> 0.57 ms; ResNet's 3x3 stride-2 pooling of 8x64x112x112: 48 -> 3.1 ms).

    @numba.njit(cache=True)
    def _first_inside(start, dilation):
        """Index of the first window element at or after position 0 of the input."""
        return 0 if start >= 0 else (-start + dilation - 1) // dilation

    @numba.njit(cache=True)
    def _inside_range(offset, stride, size, count):
        """The outputs o in [lo, hi) whose element o*stride + offset lies inside [0, size)."""
        lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
        hi = 0 if size - 1 - offset < 0 else min(count, (size - 1 - offset) // stride + 1)
        return lo, hi

    @numba.njit(cache=True, nogil=True)
    def _max_windows_nhwc(x, out, winner, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w):
        # x (N, H, W, C), out/winner (N, OH, OW, C): channels innermost, so each window element is
        # one contiguous run of C values compared against the running maxima
        batch, height, width, channels = x.shape
        out_h, out_w = out.shape[1], out.shape[2]
        for row in range(batch * out_h):
            n, oh = row // out_h, row % out_h
            top = oh * stride_h - pad_h
            first_i = _first_inside(top, dil_h)
            for ow in range(out_w):
                left = ow * stride_w - pad_w
                first = first_i * kernel_w + _first_inside(left, dil_w)
                best, won = out[n, oh, ow], winner[n, oh, ow]
                for c in range(channels):
                    best[c] = -np.inf
                    won[c] = first
                for i in range(kernel_h):
                    h = top + i * dil_h
                    if h < 0 or h >= height:
                        continue
                    for j in range(kernel_w):
                        w = left + j * dil_w
                        if w < 0 or w >= width:
                            continue
                        values = x[n, h, w]
                        position = winner.dtype.type(i * kernel_w + j)
                        for c in range(channels):
                            value = values[c]
                            old = best[c]
                            mask = position - position - winner.dtype.type((value > old) | (value != value))
                            best[c] = max(old, value) if value == value else value
                            won[c] = (won[c] & ~mask) | (position & mask)

    @numba.njit(cache=True, nogil=True)
    def _max_2x2_few_channels_nhwc(x, out, winner):
        # 2x2 windows at stride 2, all inside the input, channels-last with fewer channels than a vector
        # has lanes (LeNet-5's first pooling: 6). The loop over the channels is too short to vectorize,
        # so here the output columns are innermost, each window's four elements read at a stride of 2C
        # and its maximum kept in registers: 64x6x28x28 on one core, 1.0 ms in _max_windows_nhwc, 0.4 ms
        # here. The same takes in the same order as there (the first element taken as it is, as
        # -inf followed by a take gives).
        batch, out_h, out_w, channels = out.shape
        one, two, three = winner.dtype.type(1), winner.dtype.type(2), winner.dtype.type(3)
        for row in range(batch * out_h):
            n, oh = row // out_h, row % out_h
            upper, lower = x[n, 2 * oh], x[n, 2 * oh + 1]
            best_row, won_row = out[n, oh], winner[n, oh]
            for c in range(channels):
                for ow in range(out_w):
                    best = upper[2 * ow, c]
                    won = one - one
                    value = upper[2 * ow + 1, c]
                    mask = one - one - winner.dtype.type((value > best) | (value != value))
                    best = max(best, value) if value == value else value
                    won = (won & ~mask) | (one & mask)
                    value = lower[2 * ow, c]
                    mask = one - one - winner.dtype.type((value > best) | (value != value))
                    best = max(best, value) if value == value else value
                    won = (won & ~mask) | (two & mask)
                    value = lower[2 * ow + 1, c]
                    mask = one - one - winner.dtype.type((value > best) | (value != value))
                    best = max(best, value) if value == value else value
                    won = (won & ~mask) | (three & mask)
                    best_row[ow, c] = best
                    won_row[ow, c] = won

    @numba.njit(cache=True)
    def _inside_range(offset, stride, size, count):
        """The outputs o in [lo, hi) whose element o*stride + offset lies inside [0, size)."""
        lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
        hi = 0 if size - 1 - offset < 0 else min(count, (size - 1 - offset) // stride + 1)
        return lo, max(lo, hi)

    @numba.njit(cache=True, nogil=True)
    def _max_windows_nchw(x, out, winner, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w):
        # x (N, C, H, W), out/winner (N, C, OH, OW): the windows of one output row advance together,
        # one window element at a time, over the output columns [lo, hi) where that element lies
        # inside the input. The loop runs over 1-D slices from index 0: numba then knows the index
        # is non-negative and emits a tight loop (6x faster than indexing out[n, c, oh, lo + k]).
        batch, channels, height, width = x.shape
        out_h, out_w = out.shape[2], out.shape[3]
        first_col = np.empty(out_w, dtype=np.int64)
        for ow in range(out_w):
            first_col[ow] = _first_inside(ow * stride_w - pad_w, dil_w)
        for plane in range(batch * channels):
            n, c = plane // channels, plane % channels
            for oh in range(out_h):
                top = oh * stride_h - pad_h
                first_row = _first_inside(top, dil_h) * kernel_w
                for ow in range(out_w):
                    out[n, c, oh, ow] = -np.inf
                    winner[n, c, oh, ow] = first_row + first_col[ow]
                for i in range(kernel_h):
                    h = top + i * dil_h
                    if h < 0 or h >= height:
                        continue
                    for j in range(kernel_w):
                        offset = j * dil_w - pad_w
                        lo, hi = _inside_range(offset, stride_w, width, out_w)
                        if lo >= hi:
                            continue
                        start = lo * stride_w + offset
                        values = x[n, c, h, start:start + (hi - lo - 1) * stride_w + 1:stride_w]
                        best = out[n, c, oh, lo:hi]
                        won = winner[n, c, oh, lo:hi]
                        position = winner.dtype.type(i * kernel_w + j)
                        for k in range(hi - lo):
                            value = values[k]
                            old = best[k]
                            mask = position - position - winner.dtype.type((value > old) | (value != value))
                            best[k] = max(old, value) if value == value else value
                            won[k] = (won[k] & ~mask) | (position & mask)

    @numba.njit(cache=True, nogil=True)
    def _scatter_nhwc(grad, winner, grad_input, row_offset, col_offset, stride_h, stride_w, pad_h, pad_w):
        # row_offset[p], col_offset[p]: where window element p lies from the window's corner (a table
        # lookup instead of an integer division per element). Windows of a sample may overlap,
        # samples never do: chunks of samples can run side by side.
        batch, out_h, out_w, channels = grad.shape
        height, width = grad_input.shape[1], grad_input.shape[2]
        for n in range(batch):
            for oh in range(out_h):
                for ow in range(out_w):
                    for c in range(channels):
                        position = winner[n, oh, ow, c]
                        h = oh * stride_h - pad_h + row_offset[position]
                        w = ow * stride_w - pad_w + col_offset[position]
                        if 0 <= h < height and 0 <= w < width:
                            grad_input[n, h, w, c] += grad[n, oh, ow, c]

    @numba.njit(cache=True, nogil=True)
    def _gather_nhwc(grad, winner, grad_input, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w):
        # The same sums as _scatter_nhwc, in the forward's loop order: each window element inside the
        # input adds, channel by channel, the window's dY where that element won and 0 elsewhere. No
        # branch and no table lookup: the loop over the channels runs in vector registers, which pays
        # for visiting every window element (2x2 pooling of 32x64x32x32: 2.0 -> 0.6 ms). Each input
        # element receives its additions in the same window order as in _scatter_nhwc, so the two
        # give the same bits.
        batch, out_h, out_w, channels = grad.shape
        height, width = grad_input.shape[1], grad_input.shape[2]
        for n in range(batch):
            for oh in range(out_h):
                for ow in range(out_w):
                    dy, won = grad[n, oh, ow], winner[n, oh, ow]
                    zero = grad_input.dtype.type(0)
                    for i in range(kernel_h):
                        h = oh * stride_h - pad_h + i * dil_h
                        if h < 0 or h >= height:
                            continue
                        for j in range(kernel_w):
                            w = ow * stride_w - pad_w + j * dil_w
                            if w < 0 or w >= width:
                                continue
                            target = grad_input[n, h, w]
                            position = winner.dtype.type(i * kernel_w + j)
                            for c in range(channels):
                                target[c] += dy[c] if won[c] == position else zero

    @numba.njit(cache=True, nogil=True)
    def _scatter_nchw(grad, winner, grad_input, row_offset, col_offset, stride_h, stride_w, pad_h, pad_w):
        batch, channels, out_h, out_w = grad.shape
        height, width = grad_input.shape[2], grad_input.shape[3]
        for plane in range(batch * channels):
            n, c = plane // channels, plane % channels
            for oh in range(out_h):
                for ow in range(out_w):
                    position = winner[n, c, oh, ow]
                    h = oh * stride_h - pad_h + row_offset[position]
                    w = ow * stride_w - pad_w + col_offset[position]
                    if 0 <= h < height and 0 <= w < width:
                        grad_input[n, c, h, w] += grad[n, c, oh, ow]


def _to_nhwc(array):
    return array.transpose(0, 2, 3, 1)


def _on_chunks_of_samples(kernel, arrays, args, zero_last=False):
    """kernel(*(a[start:stop] for a in arrays), *args) over shares of the samples, one per thread
    (split by the size of the largest array). ``zero_last``: each share zeroes its part of the last
    array first, so that filling the output with zeros is split across the threads too."""
    def chunk(start, stop):
        if zero_last:
            arrays[-1][start:stop] = 0
        kernel(*(array[start:stop] for array in arrays), *args)

    parallel.over_leading_axis(chunk, len(arrays[0]), max(array.size for array in arrays))


def _plain_2x2(geometry, input_shape) -> bool:
    """2x2 windows at stride 2, undilated, every window inside the unpadded input."""
    return (geometry.kernel == (2, 2) and geometry.stride == (2, 2) and geometry.dilation == (1, 1)
            and geometry.padding == (0, 0) and 2 * geometry.output[0] <= input_shape[2]
            and 2 * geometry.output[1] <= input_shape[3])


def max_over_windows(x, out, winner, geometry) -> None:
    """Fill ``out`` with each window's maximum over the unpadded input ``x`` and ``winner`` with its
    row-major position in the window. Twin of the array code in ``functional.pool.windows``."""
    args = geometry.kernel + geometry.stride + geometry.padding + geometry.dilation
    if _channels_last(out) and x.shape[1] < VECTOR_CHANNELS and _plain_2x2(geometry, x.shape):
        _on_chunks_of_samples(_max_2x2_few_channels_nhwc, (_to_nhwc(x), _to_nhwc(out), _to_nhwc(winner)), ())
    elif _channels_last(out):
        _on_chunks_of_samples(_max_windows_nhwc, (_to_nhwc(x), _to_nhwc(out), _to_nhwc(winner)), args)
    else:
        _on_chunks_of_samples(_max_windows_nchw, (x, out, winner), args)


def scatter_window_max(grad, winner, grad_input, geometry) -> None:
    """Fill ``grad_input`` (its values on entry do not matter) with zeros and each ``grad`` element
    added at its window's winning element. Twin of the array code in ``functional.pool.windows``."""
    (kernel_h, kernel_w), (dil_h, dil_w) = geometry.kernel, geometry.dilation
    position = np.arange(kernel_h * kernel_w)
    args = ((position // kernel_w) * dil_h, (position % kernel_w) * dil_w) + geometry.stride + geometry.padding
    nhwc = (_to_nhwc(grad), _to_nhwc(winner), _to_nhwc(grad_input))
    if _channels_last(grad_input) and grad.shape[1] >= VECTOR_CHANNELS:
        window = geometry.kernel + geometry.stride + geometry.padding + geometry.dilation
        _on_chunks_of_samples(_gather_nhwc, nhwc, window, zero_last=True)
    elif _channels_last(grad_input):
        _on_chunks_of_samples(_scatter_nhwc, nhwc, args, zero_last=True)
    else:
        _on_chunks_of_samples(_scatter_nchw, (grad, winner, grad_input), args, zero_last=True)
