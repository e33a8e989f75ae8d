"""The engine of depthwise convolutions (one input channel per group): the three passes of ``conv2d`` for it.

With C input channels, M = O / C outputs per channel and x the NHWC input padded by (top, left):

    y[n, oh, ow, c*M + m]  = sum_ij x[n, oh*sh + i*dh, ow*sw + j*dw, c] * w[c*M + m, 0, i, j]
    dW[c*M + m, 0, i, j]   = sum_{n, oh, ow} x[n, oh*sh + i*dh, ow*sw + j*dw, c] * dY[n, oh, ow, c*M + m]
    dX[n, oh*sh + i*dh, ow*sw + j*dw, c] += sum_m dY[n, oh, ow, c*M + m] * w[c*M + m, 0, i, j]

As an im2col product this would be C tiny products of K = KH*KW; instead each pass loops over the
KH*KW kernel positions, each step one broadcast multiply(-add) over the whole batch: kernel position
(i, j) of every window is the strided slice windows[:, :, :, i, j, :] (N, OH, OW, C) of the image.
On the CPU a numba kernel fuses the KH*KW steps into one pass (``minicnn/cpu/kernels/conv_kernels.py``).
All arrays are NHWC and C-contiguous; ``padding`` is (top, bottom, left, right).
"""
from __future__ import annotations

from .... import backend
from ....cpu.kernels import conv_kernels
from ..im2col import output_shape, pad_nhwc, sliding_windows
from .nhwc import NhwcEngine


class Depthwise(NhwcEngine):
    name = "depthwise"
    why = "one input channel per group: im2col would make C products of inner size KH*KW; any device"

    def applies(self, geometry, x) -> bool:
        return geometry.depthwise

    def forward_nhwc(self, x_nhwc, weight, geometry):
        return depthwise_forward(x_nhwc, weight, geometry.stride, geometry.dilation, geometry.padding), None

    def backward_nhwc(self, x_nhwc, grad_nhwc, weight, geometry, reused, need_w, need_x):
        stride, dilation, padding = geometry.stride, geometry.dilation, geometry.padding
        grad_weight = depthwise_weight_grad(x_nhwc, grad_nhwc, weight.shape, stride, dilation, padding) if need_w else None
        grad_x = depthwise_input_grad(grad_nhwc, weight, x_nhwc.shape, stride, dilation, padding) if need_x else None
        return grad_weight, grad_x


def _taps(weight):
    """weight (O, 1, KH, KW) as taps[i, j, o], C-contiguous: kernel position first, channel last."""
    xp = backend.get_array_module(weight)
    return xp.ascontiguousarray(weight[:, 0].transpose(1, 2, 0))


def depthwise_forward(x, weight, stride, dilation, padding):
    """(N, H, W, C) -> (N, OH, OW, O)."""
    xp = backend.get_array_module(x)
    out_channels, _, kh, kw = weight.shape
    oh, ow = output_shape(x.shape, (kh, kw), stride, dilation, padding)
    if conv_kernels.usable(x):
        out = xp.empty((x.shape[0], oh, ow, out_channels), dtype=x.dtype)
        conv_kernels.depthwise_forward_into(x, _taps(weight), out, *stride, *dilation, padding[0], padding[2])
        return out
    windows = sliding_windows(pad_nhwc(x, padding), (kh, kw), stride, dilation)
    n, _, _, _, _, channels = windows.shape
    multiplier = out_channels // channels
    taps = weight.reshape(channels, multiplier, kh, kw)  # taps[c, m, i, j]
    out = xp.zeros((n, oh, ow, channels, multiplier), dtype=x.dtype)
    term = xp.empty((n, oh, ow, channels), dtype=x.dtype)
    # The channel axis innermost in every product: numpy's inner loops then run C long, not M.
    for i in range(kh):
        for j in range(kw):
            for m in range(multiplier):
                xp.multiply(windows[:, :, :, i, j, :], taps[:, m, i, j], out=term)
                out[..., m] += term
    return out.reshape(n, oh, ow, out_channels)


def depthwise_weight_grad(x, grad, weight_shape, stride, dilation, padding):
    """x (N, H, W, C), dY (N, OH, OW, O) -> dW (O, 1, KH, KW)."""
    xp = backend.get_array_module(x)
    out_channels, _, kh, kw = weight_shape
    if conv_kernels.usable(x):
        partial = xp.empty((x.shape[0], kh, kw, out_channels), dtype=x.dtype)
        conv_kernels.depthwise_weight_grad_into(x, grad, partial, *stride, *dilation, padding[0], padding[2])
        return xp.ascontiguousarray(partial.sum(axis=0).transpose(2, 0, 1)).reshape(weight_shape)
    windows = sliding_windows(pad_nhwc(x, padding), (kh, kw), stride, dilation)
    n, oh, ow, _, _, channels = windows.shape
    multiplier = out_channels // channels
    grad = grad.reshape(n, oh, ow, channels, multiplier)
    grad_taps = xp.empty((kh, kw, channels, multiplier), dtype=x.dtype)
    term = xp.empty((n, oh, ow, channels), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            for m in range(multiplier):
                xp.multiply(windows[:, :, :, i, j, :], grad[..., m], out=term)
                grad_taps[i, j, :, m] = term.reshape(-1, channels).sum(axis=0)
    return xp.ascontiguousarray(grad_taps.reshape(kh, kw, out_channels).transpose(2, 0, 1)).reshape(weight_shape)


def depthwise_input_grad(grad, weight, input_shape, stride, dilation, padding):
    """dY (N, OH, OW, O) -> dX (N, H, W, C) for an input of NHWC ``input_shape``."""
    xp = backend.get_array_module(grad)
    out_channels, _, kh, kw = weight.shape
    if conv_kernels.usable(grad):
        grad_input = xp.empty(input_shape, dtype=grad.dtype)
        conv_kernels.depthwise_input_grad_into(grad, _taps(weight), grad_input, *stride, *dilation,
                                               padding[0], padding[2])
        return grad_input
    n, height, width, channels = input_shape
    top, bottom, left, right = padding
    oh, ow = grad.shape[1:3]
    multiplier = out_channels // channels
    grad = grad.reshape(n, oh, ow, channels, multiplier)
    taps = weight.reshape(channels, multiplier, kh, kw)
    grad_image = xp.zeros((n, height + top + bottom, width + left + right, channels), dtype=grad.dtype)
    term = xp.empty((n, oh, ow, channels), dtype=grad.dtype)
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            for m in range(multiplier):
                xp.multiply(grad[..., m], taps[:, m, i, j], out=term)
                grad_image[:, rows, columns, :] += term
    return xp.ascontiguousarray(grad_image[:, top:top + height, left:left + width, :])
