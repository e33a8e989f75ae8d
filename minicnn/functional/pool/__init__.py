"""Pooling: max, average, and their adaptive forms, over the last two axes of (N, C, H, W) input.

A pooling window at output (oh, ow) covers the input rows ``oh*stride - padding + i*dilation`` for
``i < kernel`` (the same for columns). Instead of gathering every window (im2col), the forward pass
walks the kernel positions: for position (i, j) the input values of all windows at once form one
strided view of the (padded) input, ``source[:, :, i*d : ... : stride, j*d : ... : stride]``, of the
output's shape. Max pooling keeps a running maximum over these views (and which position won), average
pooling a running sum. The backward pass walks the same views and adds the gradient into them. On the
CPU, max pooling of large inputs runs numba kernels instead (``kernels/pool_kernels.py``, same result).

Sizes follow torch exactly (``torch.nn.functional`` names, argument order and defaults): stride
defaults to kernel_size, padding is at most half the kernel, and with ceil_mode the last window may
hang off the end but must start inside the input or the left padding.
"""
from __future__ import annotations

import functools

from typing import NamedTuple

import numpy as np

from ... import backend
from ...autograd import Function, Tensor
from .windows import channels_last, empty_in_layout, max_over_windows, padded_source, scatter_window_max

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"]


class PoolGeometry(NamedTuple):
    """Everything that fixes where the windows lie, as (rows, columns) pairs."""

    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    output: tuple  # (OH, OW)

    def rows_spanned(self, axis: int) -> int:
        """How many (padded) input rows/columns the windows reach, from the first window's start."""
        return (self.output[axis] - 1) * self.stride[axis] + self.dilation[axis] * (self.kernel[axis] - 1) + 1

    def windows_overlap(self) -> bool:
        return any(self.stride[a] < self.dilation[a] * (self.kernel[a] - 1) + 1 for a in (0, 1))


# ----------------------------------------------------------------------------------------------
# Argument checking and output sizes
# ----------------------------------------------------------------------------------------------

def _pair(value, name: str, what: str) -> tuple:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return (int(value[0]), int(value[0]))
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    raise TypeError(f"{name}: {what} must be an int or a pair of ints, got {value!r}")


def pooled_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """Output length along one axis (torch's rule). With ceil_mode a last, partial window is kept only
    if it starts inside the input or the left padding."""
    reach = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (reach + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _geometry(input: Tensor, name: str, kernel_size, stride, padding, dilation, ceil_mode) -> PoolGeometry:
    kernel = _pair(kernel_size, name, "kernel_size")
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _pair(
        stride, name, "stride")
    padding = _pair(padding, name, "padding")
    dilation = _pair(dilation, name, "dilation")
    for what, pair in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if min(pair) <= 0:
            raise ValueError(f"{name}: {what} must be positive, got {pair}")
    if min(padding) < 0:
        raise ValueError(f"{name}: padding must be non-negative, got {padding}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(
            f"{name}: padding must be at most half of kernel_size, got padding={padding}, kernel_size={kernel}")
    height, width = input.shape[2:]
    output = tuple(
        pooled_size(size, kernel[a], stride[a], padding[a], dilation[a], ceil_mode)
        for a, size in enumerate((height, width))
    )
    if min(output) < 1:
        raise ValueError(
            f"{name}: input of spatial size {(height, width)} is too small for kernel_size={kernel}, "
            f"padding={padding}, dilation={dilation}: the output size would be {output}")
    return PoolGeometry(kernel, stride, padding, dilation, output)


def _batched(input: Tensor, name: str):
    """Pooling accepts (C, H, W) as one sample; returns the 4-D input and whether to drop the batch axis."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (3, 4):
        raise ValueError(f"{name}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point input, got dtype {input.dtype}")
    return (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)


# ----------------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------------

class MaxPool2d(Function):
    """out[n,c,oh,ow] = max over the window; the gradient goes to the element that was the max."""

    def forward(self, x, geometry: PoolGeometry, indices_out: list | None = None):
        out, winner = max_over_windows(x, geometry)
        self.input_shape, self.geometry, self.layout_channels_last = x.shape, geometry, channels_last(x)
        self.save_for_backward(winner)
        if indices_out is not None:
            indices_out.append(window_winner_to_flat_index(winner, geometry, x.shape[3]))
        return out

    def backward(self, grad):
        # d out[n,c,oh,ow] / d x[n,c,h,w] = 1 if (h, w) won the window, else 0:
        # dX[n,c,h,w] = sum of dY[n,c,oh,ow] over the windows (oh, ow) that (h, w) won
        (winner,) = self.saved
        return scatter_window_max(grad, winner, self.geometry, self.input_shape, self.layout_channels_last)


def window_winner_to_flat_index(winner, geometry: PoolGeometry, width: int):
    """torch's return_indices: the winner's position as h * W + w within its (n, c) plane, int64."""
    xp = backend.get_array_module(winner)
    (_, kernel_w), (stride_h, stride_w) = geometry.kernel, geometry.stride
    (pad_h, pad_w), (dil_h, dil_w) = geometry.padding, geometry.dilation
    out_h, out_w = geometry.output
    winner = winner.astype(xp.int64)
    row = xp.arange(out_h, dtype=xp.int64).reshape(out_h, 1) * stride_h - pad_h + (winner // kernel_w) * dil_h
    col = xp.arange(out_w, dtype=xp.int64) * stride_w - pad_w + (winner % kernel_w) * dil_w
    return row * width + col


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW), with
    OH = floor((H + 2*padding - dilation*(kernel-1) - 1) / stride) + 1 (ceil with ceil_mode, see
    ``pooled_size``). Padding counts as -inf. On ties the first maximum in row-major window order wins
    (as torch); a NaN in a window wins over any number. With ``return_indices`` also returns the int64
    positions h*W + w of the maxima (for ``max_unpool2d``).
    """
    input, unbatched = _batched(input, "max_pool2d")
    geometry = _geometry(input, "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode)
    indices = [] if return_indices else None
    out = MaxPool2d.apply(input, geometry=geometry, indices_out=indices)
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    index = Tensor(indices[0])
    return out, (Tensor(index.array[0]) if unbatched else index)


# ----------------------------------------------------------------------------------------------
# Average pooling
# ----------------------------------------------------------------------------------------------

def _divisor_along(size, kernel, stride, padding, out, count_include_pad) -> np.ndarray:
    """Per output row (or column): how many rows the window divides by (host integers).

    torch clips a window first to the padded input (so a ceil_mode window hanging past the right
    padding is shorter), then, without count_include_pad, to the input itself."""
    start = np.arange(out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


class AvgPool2d(Function):
    """out = (sum over the window) / divisor; the gradient spreads dY / divisor over the window."""

    def forward(self, x, geometry: PoolGeometry, divisor):
        xp = backend.get_array_module(x)
        source = padded_source(x, geometry, fill=0.0)
        window_sum = _sum_over_windows(source, geometry, xp)
        window_sum /= divisor
        self.geometry, self.divisor = geometry, divisor
        self.source_shape, self.input_shape = source.shape, x.shape
        self.layout_channels_last = channels_last(x)
        return window_sum

    def backward(self, grad):
        # out = (1/div) * sum_{i,j} x_pad[oh*s + i, ow*s + j]  =>  dX_pad[oh*s + i, ow*s + j] += dY / div
        xp = backend.get_array_module(grad)
        geometry, divisor = self.geometry, self.divisor
        share = grad / divisor
        grad_source = _spread_over_windows(share, geometry, self.source_shape, self.layout_channels_last, xp)
        (pad_h, pad_w), (height, width) = geometry.padding, self.input_shape[2:]
        if grad_source.shape[2:] != (height, width):
            grad_source = grad_source[:, :, pad_h:pad_h + height, pad_w:pad_w + width]
        return grad_source


def _sum_over_windows(source, geometry: PoolGeometry, xp):
    """Window sums, separably: first along the columns of each window, then along its rows."""
    (kernel_h, kernel_w), (stride_h, stride_w) = geometry.kernel, geometry.stride
    out_h, out_w = geometry.output
    n, c = source.shape[:2]
    rows = geometry.rows_spanned(0)
    by_columns = empty_in_layout(xp, (n, c, rows, out_w), source.dtype, channels_last(source))
    span_w = (out_w - 1) * stride_w + 1
    xp.copyto(by_columns, source[:, :, :rows, 0:span_w:stride_w])
    for j in range(1, kernel_w):
        by_columns += source[:, :, :rows, j:j + span_w:stride_w]
    span_h = (out_h - 1) * stride_h + 1
    total = empty_in_layout(xp, (n, c, out_h, out_w), source.dtype, channels_last(source))
    xp.copyto(total, by_columns[:, :, 0:span_h:stride_h])
    for i in range(1, kernel_h):
        total += by_columns[:, :, i:i + span_h:stride_h]
    return total


def _spread_over_windows(share, geometry: PoolGeometry, source_shape, layout_channels_last: bool, xp):
    """Adjoint of ``_sum_over_windows``: add each output's share to every element of its window."""
    (kernel_h, kernel_w), (stride_h, stride_w) = geometry.kernel, geometry.stride
    out_h, out_w = geometry.output
    n, c = source_shape[:2]
    rows = geometry.rows_spanned(0)
    span_h, span_w = (out_h - 1) * stride_h + 1, (out_w - 1) * stride_w + 1
    by_columns = xp.zeros((n, c, rows, out_w), dtype=share.dtype)
    if layout_channels_last:
        by_columns = by_columns.reshape(n, rows, out_w, c).transpose(0, 3, 1, 2)
    for i in range(kernel_h):
        by_columns[:, :, i:i + span_h:stride_h] += share
    grad_source = empty_in_layout(xp, source_shape, share.dtype, layout_channels_last)
    grad_source.fill(0)
    for j in range(kernel_w):
        grad_source[:, :, :rows, j:j + span_w:stride_w] += by_columns
    return grad_source


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW). Padding counts as zero. Each window sum is divided
    by ``divisor_override`` when given, else by the window's size clipped to the padded input (with
    count_include_pad) or to the input (without).
    """
    input, unbatched = _batched(input, "avg_pool2d")
    geometry = _geometry(input, "avg_pool2d", kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if int(divisor_override) == 0:
            raise ValueError("avg_pool2d: divisor_override must be non-zero, got 0")
        divisor = float(divisor_override)
    else:
        height, width = input.shape[2:]
        per_row = _divisor_along(height, geometry.kernel[0], geometry.stride[0], geometry.padding[0],
                                 geometry.output[0], count_include_pad)
        per_col = _divisor_along(width, geometry.kernel[1], geometry.stride[1], geometry.padding[1],
                                 geometry.output[1], count_include_pad)
        if per_row.min() == per_row.max() and per_col.min() == per_col.max():
            divisor = float(per_row[0] * per_col[0])  # the common case: one python scalar
        else:
            divisor = _divisor_grid(tuple(per_row.tolist()), tuple(per_col.tolist()), input.dtype.str, input.device)
    out = AvgPool2d.apply(input, geometry=geometry, divisor=divisor)
    return out.squeeze(0) if unbatched else out


# The adaptive forms reuse MaxPool2d and AvgPool2d when the bins are ordinary windows.
from .adaptive import adaptive_avg_pool2d, adaptive_max_pool2d  # noqa: E402


@functools.lru_cache(maxsize=64)
def _divisor_grid(per_row: tuple, per_col: tuple, dtype: str, device: str):
    """The per-window divisors of avg_pool2d as a device array, made once per geometry and device
    (a host-to-device copy in every forward pass would make a GPU wait for the queued work)."""
    return backend.to_device(np.outer(per_row, per_col).astype(dtype), device)
