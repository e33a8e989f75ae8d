"""Where a convolution's windows lie: the one description its reference and every engine read."""
from __future__ import annotations

from typing import NamedTuple

from .im2col import is_pointwise, output_shape


class ConvGeometry(NamedTuple):
    """A conv2d call's shapes and settings; ``padding`` is (top, bottom, left, right), the rest pairs."""

    input_shape: tuple  # (N, C, H, W)
    weight_shape: tuple  # (O, C/G, KH, KW)
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int

    @property
    def kernel(self) -> tuple:
        return tuple(self.weight_shape[2:])

    @property
    def in_channels(self) -> int:
        return self.input_shape[1]

    @property
    def out_channels(self) -> int:
        return self.weight_shape[0]

    @property
    def nhwc_shape(self) -> tuple:
        n, c, h, w = self.input_shape
        return n, h, w, c

    @property
    def output_size(self) -> tuple:
        """(OH, OW)."""
        return output_shape(self.nhwc_shape, self.kernel, self.stride, self.dilation, self.padding)

    @property
    def im2col_args(self) -> tuple:
        """(kernel, stride, dilation, padding, groups), the arguments ``im2col`` takes after the image."""
        return self.kernel, self.stride, self.dilation, self.padding, self.groups

    @property
    def pointwise(self) -> bool:
        """1x1, stride 1, unpadded, ungrouped: ``cols`` is the NHWC input itself."""
        return is_pointwise(self.kernel, self.stride, self.padding, self.groups)

    @property
    def depthwise(self) -> bool:
        """One input channel per group."""
        return self.groups > 1 and self.in_channels == self.groups

    @property
    def multiply_adds(self) -> int:
        """N*OH*OW*O*KH*KW*C/G, the work of the forward pass."""
        oh, ow = self.output_size
        out_channels, per_group, kh, kw = self.weight_shape
        return self.input_shape[0] * oh * ow * out_channels * per_group * kh * kw
