"""``Conv2d``: holds the filters and bias, calls ``functional.conv2d``."""
from __future__ import annotations

from .. import argcheck
from .. import functional as F
from ._utils import check_channels, check_rank, empty_parameter_data, pair, reset_weight_and_bias
from .module import Module
from .parameter import Parameter


class Conv2d(Module):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out) (unbatched (C, H, W) also works).

    weight: (out_channels, in_channels // groups, kH, kW); bias: (out_channels,).
    Initialized as PyTorch: weight ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels // groups * kH * kW.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        in_channels = argcheck.integer(name, "in_channels", in_channels, 1)
        out_channels = argcheck.integer(name, "out_channels", out_channels, 1)
        kernel_size = argcheck.int_pair(name, "kernel_size", kernel_size, 1)
        stride = argcheck.int_pair(name, "stride", stride, 1)
        dilation = argcheck.int_pair(name, "dilation", dilation, 1)
        if not isinstance(padding, str):
            padding = argcheck.int_pair(name, "padding", padding, 0)
        groups = argcheck.integer(name, "groups", groups, 1)
        if groups <= 0:
            raise ValueError("Conv2d: groups must be a positive integer")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: padding_mode={padding_mode!r} is not supported (only 'zeros')")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Conv2d: padding string must be 'same' or 'valid', got {padding!r}")
            if padding == "same" and pair(stride, "stride") != (1, 1):
                raise ValueError("Conv2d: padding='same' is not supported for strided convolutions")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        self.dilation = pair(dilation, "dilation")
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = Parameter(empty_parameter_data(
            (out_channels, in_channels // groups) + self.kernel_size, device, dtype))
        if bias:
            self.bias = Parameter(empty_parameter_data((out_channels,), device, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        check_rank(self, input, (3, 4))
        check_channels(self, input, self.in_channels, axis=-3)
        if input.ndim == 3:
            return F.conv2d(input.unsqueeze(0), self.weight, self.bias, self.stride, self.padding,
                            self.dilation, self.groups).squeeze(0)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text
