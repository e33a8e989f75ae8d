"""Pooling layers: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``, ``AdaptiveMaxPool2d``.

Each takes (N, C, H, W) or unbatched (C, H, W) and calls the matching ``functional`` op.
"""
from __future__ import annotations

from .. import argcheck
from .. import functional as F
from ._utils import check_rank
from .module import Module


def _check_window(layer: str, kernel_size, stride, padding, dilation=1) -> None:
    """kernel_size, stride and dilation positive, padding at most half the (dilated) kernel, as torch requires."""
    kernel = argcheck.int_pair(layer, "kernel_size", kernel_size, 1)
    if stride is not None:
        argcheck.int_pair(layer, "stride", stride, 1)
    dilation = argcheck.int_pair(layer, "dilation", dilation, 1)
    padding = argcheck.int_pair(layer, "padding", padding, 0)
    for pad, size, spread in zip(padding, kernel, dilation):
        if pad > (spread * (size - 1) + 1) // 2:
            raise ValueError(f"{layer}: padding {padding} should be at most half of the effective kernel size "
                             f"{kernel} (dilation {dilation})")


def _batched(layer, input, pool):
    """Run ``pool`` on a 4-D input, adding and removing a batch axis for an unbatched (C, H, W) one."""
    check_rank(layer, input, (3, 4))
    if input.ndim == 3:
        output = pool(input.unsqueeze(0))
        if isinstance(output, tuple):
            return tuple(part.squeeze(0) for part in output)
        return output.squeeze(0)
    return pool(input)


class MaxPool2d(Module):
    """Max over each kernel window; ``stride`` defaults to ``kernel_size``, padding counts as -inf."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        _check_window(type(self).__name__, kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return _batched(self, input, lambda x: F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation,
            ceil_mode=self.ceil_mode, return_indices=self.return_indices))

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over each kernel window; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        _check_window(type(self).__name__, kernel_size, stride, padding)
        if divisor_override is not None:
            argcheck.integer(type(self).__name__, "divisor_override", divisor_override, 1)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return _batched(self, input, lambda x: F.avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
            self.divisor_override))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (int or (H, W)) whatever the input size;
    ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    def __init__(self, output_size):
        super().__init__()
        argcheck.int_pair(type(self).__name__, "output_size", output_size, 1, allow_none=True)
        self.output_size = output_size

    def forward(self, input):
        return _batched(self, input, lambda x: F.adaptive_avg_pool2d(x, self.output_size))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed ``output_size`` whatever the input size."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        argcheck.int_pair(type(self).__name__, "output_size", output_size, 1, allow_none=True)
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        return _batched(self, input, lambda x: F.adaptive_max_pool2d(x, self.output_size, self.return_indices))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
