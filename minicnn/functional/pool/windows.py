"""The reference window machinery max and average pooling share: padding, strided window views, memory layout.

Activations often arrive as (N, C, H, W) *views* of channels-last (N, H, W, C) memory. Every buffer made
here copies the layout of the array it comes from, so elementwise passes walk both in memory order.
"""
from __future__ import annotations

import functools

import numpy as np

from ... import backend
from ..layout import channels_last, empty_in_layout


def window_view(source, i: int, j: int, geometry):
    """Element (i, j) of every window at once: an (N, C, OH, OW) strided view of ``source``.

    Basic slicing, so it is writable whenever ``source`` is (the backward passes add into it)."""
    (stride_h, stride_w), (dil_h, dil_w) = geometry.stride, geometry.dilation
    out_h, out_w = geometry.output
    top, left = i * dil_h, j * dil_w
    return source[:, :, top:top + (out_h - 1) * stride_h + 1:stride_h, left:left + (out_w - 1) * stride_w + 1:stride_w]


def padded_source(x, geometry, fill: float):
    """``x`` surrounded by ``fill`` wherever a window reaches outside it (x itself when none does).

    The buffer starts ``padding`` rows/columns before x and extends as far as the last window reaches
    (with ceil_mode that may be past the right padding)."""
    (pad_h, pad_w), (height, width) = geometry.padding, x.shape[2:]
    rows, cols = geometry.rows_spanned(0), geometry.rows_spanned(1)
    if pad_h == 0 and pad_w == 0 and rows <= height and cols <= width:
        return x
    xp = backend.get_array_module(x)
    rows, cols = max(rows, pad_h + height), max(cols, pad_w + width)
    buffer = empty_in_layout(xp, x.shape[:2] + (rows, cols), x.dtype, channels_last(x))
    buffer[:, :, :pad_h] = fill
    buffer[:, :, pad_h + height:] = fill
    buffer[:, :, pad_h:pad_h + height, :pad_w] = fill
    buffer[:, :, pad_h:pad_h + height, pad_w + width:] = fill
    buffer[:, :, pad_h:pad_h + height, pad_w:pad_w + width] = x
    return buffer


def winner_dtype(window_size: int):
    return np.uint8 if window_size <= 256 else np.int32


def _first_inside(out: int, stride: int, padding: int, dilation: int) -> np.ndarray:
    """Per output row (or column): the index of the window's first element inside the input."""
    start = np.arange(out) * stride - padding
    return np.where(start >= 0, 0, (-start + dilation - 1) // dilation)


def max_over_windows(x, geometry):
    """The maximum of every window of x (N, C, H, W), and which window element held it (its row-major
    position i*KW + j), both (N, C, OH, OW) in x's memory layout.

    torch's rule: start from -inf with the first element inside the input, take every element that
    is larger or NaN. So a tie goes to the first maximum, a NaN wins (the last one), padding never
    wins. A running maximum over the KH*KW window views of a -inf padded copy."""
    xp = backend.get_array_module(x)
    kernel_h, kernel_w = geometry.kernel
    layout = channels_last(x)
    shape = x.shape[:2] + tuple(geometry.output)
    out = empty_in_layout(xp, shape, x.dtype, layout)
    winner = empty_in_layout(xp, shape, winner_dtype(kernel_h * kernel_w), layout)
    source = padded_source(x, geometry, fill=-np.inf)
    out.fill(-np.inf)
    winner[...] = _first_window_positions(geometry, winner.dtype.str, backend.device_of(x))
    better = empty_in_layout(xp, shape, np.bool_, layout)
    is_nan = empty_in_layout(xp, shape, np.bool_, layout)
    for position in range(kernel_h * kernel_w):
        candidate = window_view(source, position // kernel_w, position % kernel_w, geometry)
        xp.greater(candidate, out, out=better)
        xp.not_equal(candidate, candidate, out=is_nan)
        xp.logical_or(better, is_nan, out=better)
        xp.copyto(out, candidate, where=better)
        xp.copyto(winner, position, where=better)
    return out, winner


def scatter_window_max(grad, winner, geometry, input_shape, layout_channels_last: bool):
    """dX (input_shape, in the given layout): each output gradient added at the element that won its
    window: one masked, strided add per window position into a padded buffer, cropped at the end."""
    xp = backend.get_array_module(grad)
    kernel_h, kernel_w = geometry.kernel
    (pad_h, pad_w), (height, width) = geometry.padding, input_shape[2:]
    rows = max(geometry.rows_spanned(0), pad_h + height)
    cols = max(geometry.rows_spanned(1), pad_w + width)
    grad_source = empty_in_layout(xp, input_shape[:2] + (rows, cols), grad.dtype, layout_channels_last)
    grad_source.fill(0)
    hit = empty_in_layout(xp, grad.shape, np.bool_, channels_last(winner))
    overlap = geometry.windows_overlap()
    share = None if not overlap else empty_in_layout(xp, grad.shape, grad.dtype, channels_last(grad))
    # copied where hit, not multiplied by hit: an inf or NaN gradient must reach its winner only
    # (inf * 0 would put NaN on the window's other elements)
    for position in range(kernel_h * kernel_w):
        target = window_view(grad_source, position // kernel_w, position % kernel_w, geometry)
        xp.equal(winner, position, out=hit)
        if overlap:  # several windows may pick the same element: accumulate
            share.fill(0)
            xp.copyto(share, grad, where=hit)
            target += share
        else:  # each element belongs to one window at most: write straight into the zeros
            xp.copyto(target, grad, where=hit)
    if (rows, cols) != (height, width):
        grad_source = grad_source[:, :, pad_h:pad_h + height, pad_w:pad_w + width]
    return grad_source


@functools.lru_cache(maxsize=64)
def _first_window_positions(geometry, dtype: str, device: str):
    """Index, within each window, of its first position inside the input: where a running maximum
    starts. It depends on the geometry alone, so it is made once per geometry and device: a fresh
    host-to-device copy in every forward pass would make a GPU wait for the queued work."""
    kernel_w = geometry.kernel[1]
    first_row = _first_inside(geometry.output[0], geometry.stride[0], geometry.padding[0], geometry.dilation[0])
    first_col = _first_inside(geometry.output[1], geometry.stride[1], geometry.padding[1], geometry.dilation[1])
    first = (first_row[:, None] * kernel_w + first_col[None, :]).astype(dtype)
    return backend.to_device(first, device)
