"""Adaptive pooling: the caller names the output size, the windows ("bins") follow from it.

Output row i pools input rows ``floor(i*H/OH) <= h < ceil((i+1)*H/OH)`` (torch's rule; the same for
columns). When OH divides H the bins are ordinary non-overlapping windows of size H/OH and the ordinary
pooling code serves. Otherwise bins differ in length and may overlap by one row:

- average: a bin mean is separable, so out = R . x . K^T with R[i, h] = 1/len(bin i) on bin i (an
  (OH, H) matrix) and K likewise for columns; the backward pass is dX = R^T . dY . K.
- max: every bin is gathered (padded to the longest bin by repeating its last element, which cannot
  change a maximum), then reduced with argmax.
Output size 1 (global pooling, the head of every ResNet) is a plain mean or max over H and W.
"""
from __future__ import annotations

import numpy as np

from ... import backend
from ...autograd import Function, Tensor
from .avg_pool import AvgPool2d
from .geometry import PoolGeometry, batched, max_result
from .max_pool import MaxPool2d


def _output_pair(output_size, input_hw, name: str) -> tuple:
    given = output_size
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size, output_size)
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2:
        raise TypeError(f"{name}: output_size must be an int, None or a pair of them, got {given!r}")
    pair = tuple(int(size) if size is not None else int(full) for size, full in zip(output_size, input_hw))
    if min(pair) < 1:
        raise ValueError(f"{name}: output_size must be positive, got {given!r}")
    return pair


def _bins(size: int, out: int):
    """(start, end) of each of the ``out`` bins over ``size`` elements, as host integer arrays."""
    index = np.arange(out)
    return (index * size) // out, -((-(index + 1) * size) // out)


class GlobalAvgPool2d(Function):
    def forward(self, x):
        xp = backend.get_array_module(x)
        self.input_shape = n, c, height, width = x.shape
        # sum along the memory order: over rows of (N, HW, C) for channels-last memory, along the
        # contiguous planes of (N, C, HW) otherwise (numpy's own multi-axis sum is 3x slower there)
        as_rows = xp.moveaxis(x, 1, -1)
        if as_rows.flags.c_contiguous:
            total = as_rows.reshape(n, height * width, c).sum(axis=1)
        elif x.flags.c_contiguous:
            total = xp.einsum("ncl->nc", x.reshape(n, c, height * width))
        else:
            total = x.sum(axis=(2, 3))
        total /= height * width
        return total.reshape(n, c, 1, 1)

    def backward(self, grad):
        # out = (1/HW) sum_hw x  =>  dX[n,c,h,w] = dY[n,c] / HW (a broadcast view, no copy)
        xp = backend.get_array_module(grad)
        height, width = self.input_shape[2:]
        return xp.broadcast_to(grad / (height * width), self.input_shape)


def _bin_matrix(size: int, out: int, dtype, device):
    """(out, size) matrix averaging each bin: row i holds 1/len(bin i) on the bin."""
    start, end = _bins(size, out)
    position = np.arange(size)
    inside = (position >= start[:, None]) & (position < end[:, None])
    return backend.to_device((inside / (end - start)[:, None]).astype(dtype), device)


class AdaptiveAvgPool2d(Function):
    def forward(self, x, rows, cols):
        xp = backend.get_array_module(x)
        self.rows, self.cols = rows, cols
        return xp.matmul(xp.matmul(rows, x), cols.T)

    def backward(self, grad):
        # out = R . x . K^T (per sample and channel)  =>  dX = R^T . dY . K
        xp = backend.get_array_module(grad)
        return xp.matmul(xp.matmul(self.rows.T, grad), self.cols)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over adaptive bins, as ``torch.nn.functional.adaptive_avg_pool2d``.

    input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW); ``output_size`` is an int, or a pair whose None
    entries keep the input's size.
    """
    input, unbatched = batched(input, "adaptive_avg_pool2d")
    height, width = input.shape[2:]
    out_h, out_w = _output_pair(output_size, (height, width), "adaptive_avg_pool2d")
    if (out_h, out_w) == (1, 1):
        out = GlobalAvgPool2d.apply(input)
    elif height % out_h == 0 and width % out_w == 0:
        kernel = (height // out_h, width // out_w)
        geometry = PoolGeometry(kernel, kernel, (0, 0), (1, 1), (out_h, out_w))
        out = AvgPool2d.apply(input, geometry=geometry, divisor=float(kernel[0] * kernel[1]))
    else:
        rows = _bin_matrix(height, out_h, input.dtype, input.device)
        cols = _bin_matrix(width, out_w, input.dtype, input.device)
        out = AdaptiveAvgPool2d.apply(input, rows=rows, cols=cols)
    return out.squeeze(0) if unbatched else out


def _bin_members(size: int, out: int):
    """(out, longest bin) positions of each bin's elements, the short bins padded with their last one."""
    start, end = _bins(size, out)
    longest = int((end - start).max())
    return np.minimum(start[:, None] + np.arange(longest), (end - 1)[:, None])


class AdaptiveMaxPool2d(Function):
    """Max over gathered bins; the gradient goes to the position that won each bin."""

    def forward(self, x, row_members, col_members, indices_out: list | None = None):
        xp = backend.get_array_module(x)
        n, c, height, width = x.shape
        out_h, bin_h = row_members.shape
        out_w, bin_w = col_members.shape
        # (N, C, OH, bin_h, OW, bin_w) -> (N, C, OH, OW, bin_h*bin_w): each bin's elements row-major
        gathered = x[:, :, row_members[:, :, None, None], col_members[None, None, :, :]]
        gathered = gathered.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, out_h, out_w, bin_h * bin_w)
        winner = xp.argmax(gathered, axis=-1)  # the first maximum, like torch
        out = xp.take_along_axis(gathered, winner[..., None], axis=-1)[..., 0]
        self.flat_index = (
            row_members[xp.arange(out_h)[:, None], winner // bin_w] * width
            + col_members[xp.arange(out_w), winner % bin_w]
        )
        self.input_shape = x.shape
        if indices_out is not None:
            indices_out.append(self.flat_index.astype(xp.int64))
        return out

    def backward(self, grad):
        # dX[n,c,h,w] = sum of dY[n,c,i,j] over the bins (i, j) whose maximum sat at (h, w)
        # (bins can overlap, so two may send gradient to one element: a scatter-add)
        xp = backend.get_array_module(grad)
        n, c, height, width = self.input_shape
        grad_input = xp.zeros((n * c, height * width), dtype=grad.dtype)
        plane = xp.arange(n * c).reshape(n * c, 1)
        backend.scatter_add(grad_input, (plane, self.flat_index.reshape(n * c, -1)), grad.reshape(n * c, -1))
        return grad_input.reshape(self.input_shape)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over adaptive bins, as ``torch.nn.functional.adaptive_max_pool2d``.

    input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW); with ``return_indices`` also the int64 positions
    h*W + w of the maxima. Ties go to the first maximum in row-major order.
    """
    input, unbatched = batched(input, "adaptive_max_pool2d")
    height, width = input.shape[2:]
    out_h, out_w = _output_pair(output_size, (height, width), "adaptive_max_pool2d")
    indices = [] if return_indices else None
    if height % out_h == 0 and width % out_w == 0:
        kernel = (height // out_h, width // out_w)
        geometry = PoolGeometry(kernel, kernel, (0, 0), (1, 1), (out_h, out_w))
        out = MaxPool2d.apply(input, geometry=geometry, indices_out=indices)
    else:
        device = input.device
        rows = backend.to_device(_bin_members(height, out_h), device)
        cols = backend.to_device(_bin_members(width, out_w), device)
        out = AdaptiveMaxPool2d.apply(input, row_members=rows, col_members=cols, indices_out=indices)
    return max_result(out, indices, unbatched)
