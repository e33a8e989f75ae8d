"""The engine of direct convolution, without im2col, for stride-1 layers with few channels (CPU, numba).

With few channels the im2col product is a poor matrix product: LeNet's first layer multiplies
(50176, 25) by (25, 6), and its time goes into writing and reading the 5 MB ``cols`` matrix rather
than into arithmetic (0.33 ms to build it, 0.6 ms for the product). Here each output channel is
instead accumulated directly from shifted windows of the zero-padded input plane, one image at a
time, the image's planes staying in the core's cache; the loops and their backward are written out
in ``minicnn/cpu/kernels/direct_conv_kernels.py``. Each thread takes its share of the images.

It serves ungrouped, stride-1 convolutions whose kernel has few multiply-adds per output pixel
(``MAXIMUM_TAPS``) on host float arrays when numba is installed; everything else takes im2col. A 1x1
kernel has no im2col to avoid (``cols`` is the NHWC input itself), so its layers go to the product of
the NHWC rows: MobileNetV3-Large's 16->64 1x1 layer at 112x112, batch 4, took 10.2 ms in these loops on
one thread, and the network's inference went from 135 to 123 ms (median of 6, loaded 2-core machine).
"""
from __future__ import annotations

import numpy as np

from ....cpu import parallel
from ....cpu.kernels import direct_conv_kernels
from ....engines import Engine
from ...layout import channels_last, empty_in_layout
from .. import reference
from ..im2col import output_shape

# C*KH*KW*O, the multiply-adds per output pixel, up to which the direct loops beat im2col and its
# product. Measured on 2 threads, direct against im2col, forward / backward with dX and dW, in ms:
#   LeNet-5 1->6 5x5 (150), batch 64:        0.40 / 0.71 against 1.27 / 11.1
#   LeNet-5 6->16 5x5 (2400), batch 64:      0.53 / 1.15 against 0.84 / 2.00
#   CIFAR stem 3->64 3x3 (1728), batch 32:   1.42 / 3.19 against 2.16 / 6.62
#   16->16 3x3 (2304), batch 32:             1.30 / 2.58 against 2.97 / 5.36
#   16->32 5x5 (12800), batch 64:            2.05 / 4.41 against 1.61 / 3.63  (im2col wins)
# (``python benchmarks/bench_conv.py`` and ``--no-direct`` compare whole layers against torch.)
MAXIMUM_TAPS = 2400
# Below this many multiply-adds (about 0.1 ms of one core) a convolution runs on the calling thread.
MINIMUM_SPLIT_MULTIPLY_ADDS = 1 << 21


class Direct(Engine):
    name = "direct"
    why = ("stride-1 ungrouped layers of at most 2400 multiply-adds per output pixel, where im2col's product "
           "is mostly data movement")

    def applies(self, geometry, x) -> bool:
        out_channels, per_group, kh, kw = geometry.weight_shape
        return (direct_conv_kernels.numba is not None and isinstance(x, np.ndarray)
                and x.dtype in (np.float32, np.float64) and tuple(geometry.stride) == (1, 1)
                and geometry.groups == 1 and out_channels * per_group * kh * kw <= MAXIMUM_TAPS
                and kh * kw > 1)  # a 1x1 layer is one matrix product of the NHWC rows, with no im2col

    def forward(self, x, weight, bias, geometry):
        """(Y, what backward needs); x is read in whatever layout it has, and the bias added here."""
        out = forward(x, weight, bias, geometry.kernel, geometry.dilation, geometry.padding)
        return out, (x, weight, geometry, bias is not None)

    def backward(self, saved, grad_output, needs):
        x, weight, geometry, has_bias = saved
        need_x, need_w, need_b = needs
        grad_weight, grad_x = backward(x, grad_output, weight, geometry.kernel, geometry.dilation, geometry.padding,
                                       need_w, need_x)
        grad_bias = bias_grad(grad_output) if need_b and has_bias else None
        return grad_x, grad_weight, grad_bias


def bias_grad(grad):
    """db[o] = sum over n, oh, ow of dY[n, o, oh, ow], for dY in either memory layout."""
    if channels_last(grad):  # the rows of an (N*OH*OW, O) matrix
        return reference.bias_grad(grad.transpose(0, 2, 3, 1))
    return grad.sum(axis=(0, 2, 3))


class _Grid:
    """Where the kernels find things on the flat padded planes of one image (see the kernels' docstring)."""

    def __init__(self, input_shape, weight_shape, dilation, padding):
        _, _, height, width = input_shape
        out_channels, channels, kh, kw = weight_shape
        (dh, dw), (top, bottom, left, right) = dilation, padding
        self.top, self.left = top, left
        self.padded_w = width + left + right
        offsets = np.array([i * dh * self.padded_w + j * dw for i in range(kh) for j in range(kw)], dtype=np.int64)
        out_h = height + top + bottom - (kh - 1) * dh
        # the grid entries the loops run over, and the plane that holds every window of that length
        self.span = _multiple_of_16(out_h * self.padded_w)
        self.plane_length = _multiple_of_16((height + top + bottom) * self.padded_w + (kw - 1) * dw
                                            + self.span - out_h * self.padded_w)
        # window (c, t) of the input planes; window (o, t) of dY for the dX gather
        self.starts = (np.arange(channels)[:, None] * self.plane_length + offsets).reshape(-1)
        self.front = int(offsets[-1])
        grad_plane = self.front + self.plane_length
        self.grad_starts = (np.arange(out_channels)[:, None] * grad_plane + self.front - offsets).reshape(-1)


def _multiple_of_16(length: int) -> int:
    """``length`` rounded up to whole turns of the kernels' vectorized loops (see their docstring)."""
    return -(-length // 16) * 16


def _taps(weight):
    """The weight (O, C, KH, KW) as (O, C*KH*KW), C-contiguous."""
    return np.ascontiguousarray(weight.reshape(weight.shape[0], -1))


def forward(x, weight, bias, kernel, dilation, padding):
    """Y (N, O, OH, OW): the convolution of ``x`` (N, C, H, W), plus ``bias``.

    x may be NCHW or channels-last memory; it is read as it is. Y is channels-last memory (an NCHW
    view), as the other convolution paths return it. (Written as plain NCHW, LeNet-5's first layer
    saved 0.09 ms, but the max pooling after it took 0.3 ms longer on that layout.)"""
    n = x.shape[0]
    out_channels = weight.shape[0]
    oh, ow = output_shape((n, x.shape[2], x.shape[3], x.shape[1]), kernel, (1, 1), dilation, padding)
    out = empty_in_layout(np, (n, out_channels, oh, ow), x.dtype, True)
    grid = _Grid(x.shape, weight.shape, dilation, padding)
    taps = _taps(weight)
    bias = np.zeros(out_channels, dtype=x.dtype) if bias is None else bias
    layouts = (channels_last(x), channels_last(out))

    def chunk(start, stop):
        direct_conv_kernels.forward_into(x[start:stop], taps, grid.starts, bias, out[start:stop],
                                         grid.top, grid.left, grid.padded_w, grid.plane_length, grid.span,
                                         *layouts)

    _on_threads(chunk, n, weight.shape, oh * ow)
    return out


def backward(x, grad, weight, kernel, dilation, padding, need_w, need_x):
    """(dW (O, C, KH, KW) or None, dX (N, C, H, W) in x's memory layout, or None) for dY ``grad``
    (N, O, OH, OW) in either layout."""
    n = x.shape[0]
    grid = _Grid(x.shape, weight.shape, dilation, padding)
    taps = _taps(weight)
    out_channels, channels = weight.shape[:2]
    taps_by_input = np.ascontiguousarray(weight.transpose(1, 0, 2, 3).reshape(channels, -1))
    grad_x = empty_in_layout(np, x.shape, x.dtype, channels_last(x)) if need_x else None
    unused = np.empty((n, 0, 0, 0), dtype=x.dtype)  # stands for dX when it is not wanted
    layouts = (channels_last(x), channels_last(grad))

    def chunk(start, stop):
        grad_taps = np.zeros(taps.shape, dtype=taps.dtype)  # this share of dW
        direct_conv_kernels.backward_into(x[start:stop], grad[start:stop], taps, grid.starts,
                                          taps_by_input, grid.grad_starts, grad_taps,
                                          (grad_x if need_x else unused)[start:stop],
                                          grid.top, grid.left, grid.padded_w, grid.plane_length, grid.span,
                                          grid.front,
                                          need_w, need_x, *layouts)
        return grad_taps

    shares = _on_threads(chunk, n, weight.shape, grad.shape[2] * grad.shape[3])
    grad_weight = parallel.add_up(shares).reshape(weight.shape) if need_w else None
    return grad_weight, grad_x


def _on_threads(chunk, n, weight_shape, output_pixels):
    """chunk(start, stop) once per thread on its share of the images (``parallel.per_thread``: the same
    images on the same core as in the passes before and after), or once over all of them when the
    work is too small to pay for waking the other threads. Returns what the calls returned."""
    multiply_adds = n * output_pixels * int(np.prod(weight_shape))
    if multiply_adds < MINIMUM_SPLIT_MULTIPLY_ADDS:
        with parallel.single_threaded_blas():
            return [chunk(0, n)]
    return parallel.per_thread(chunk, n)
