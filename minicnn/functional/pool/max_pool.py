"""Max pooling: the maximum of each window; its gradient goes to the element that held the maximum.

The reference walks the KH*KW window positions as strided views (``windows.py``); on the CPU, large
enough inputs take the numba engine of ``engines.py`` instead (same maxima, same winners).
"""
from __future__ import annotations

from ... import backend
from ...autograd import Function, Tensor
from .engines import MAX_POOL_ENGINES
from .geometry import PoolGeometry, batched, max_result, pool_geometry
from ..layout import channels_last
from .windows import max_over_windows, scatter_window_max

__all__ = ["max_pool2d"]


class MaxPool2d(Function):
    """out[n,c,oh,ow] = max over the window; the gradient goes to the element that was the max."""

    def forward(self, x, geometry: PoolGeometry, indices_out: list | None = None):
        self.input_shape, self.geometry, self.layout_channels_last = x.shape, geometry, channels_last(x)
        self.engine = MAX_POOL_ENGINES.choose(geometry, x)
        if self.engine is not None:
            out, winner = self.engine.forward(x, geometry, self.layout_channels_last)
        else:
            out, winner = max_over_windows(x, geometry)
        self.save_for_backward(winner)
        if indices_out is not None:
            indices_out.append(window_winner_to_flat_index(winner, geometry, x.shape[3]))
        return out

    def backward(self, grad):
        # d out[n,c,oh,ow] / d x[n,c,h,w] = 1 if (h, w) won the window, else 0:
        # dX[n,c,h,w] = sum of dY[n,c,oh,ow] over the windows (oh, ow) that (h, w) won
        (winner,) = self.saved
        if self.engine is not None:
            return self.engine.backward(grad, winner, self.geometry, self.input_shape, self.layout_channels_last)
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
    input, unbatched = batched(input, "max_pool2d")
    geometry = pool_geometry(input, "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode)
    indices = [] if return_indices else None
    out = MaxPool2d.apply(input, geometry=geometry, indices_out=indices)
    return max_result(out, indices, unbatched)
