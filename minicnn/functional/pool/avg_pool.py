"""Average pooling: each window's sum over its divisor; the gradient spreads dY / divisor over the window."""
from __future__ import annotations

import functools

import numpy as np

from ... import backend
from ...autograd import Function, Tensor
from .geometry import PoolGeometry, batched, pool_geometry
from ..layout import channels_last, empty_in_layout
from .windows import padded_source

__all__ = ["avg_pool2d"]


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
    input, unbatched = batched(input, "avg_pool2d")
    geometry = pool_geometry(input, "avg_pool2d", kernel_size, stride, padding, 1, ceil_mode)
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


@functools.lru_cache(maxsize=64)
def _divisor_grid(per_row: tuple, per_col: tuple, dtype: str, device: str):
    """The per-window divisors of avg_pool2d as a device array, made once per geometry and device
    (a host-to-device copy in every forward pass would make a GPU wait for the queued work)."""
    return backend.to_device(np.outer(per_row, per_col).astype(dtype), device)
