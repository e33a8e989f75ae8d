"""``ConvTranspose2d``, ``Conv1d`` and the im2col layers ``Unfold`` / ``Fold``."""
from __future__ import annotations


from .. import functional as F
from ._utils import empty_parameter_data, pair, reset_weight_and_bias
from .module import Module
from .parameter import Parameter


def _single(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _conv_repr(layer, zeros) -> str:
    """torch's convolution repr: channels, kernel and stride always; the rest when not the default."""
    text = f"{layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, stride={layer.stride}"
    if isinstance(layer.padding, str):
        text += f", padding={layer.padding}"
    elif layer.padding != zeros:
        text += f", padding={layer.padding}"
    if layer.dilation != (1,) * len(zeros):
        text += f", dilation={layer.dilation}"
    if getattr(layer, "output_padding", zeros) != zeros:
        text += f", output_padding={layer.output_padding}"
    if layer.groups != 1:
        text += f", groups={layer.groups}"
    if layer.bias is None:
        text += ", bias=False"
    return text


class _ConvBase(Module):
    def _setup(self, in_channels, out_channels, weight_shape, groups, bias, padding_mode, device, dtype):
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups, self.padding_mode = in_channels, out_channels, groups, \
            padding_mode
        self.weight = Parameter(empty_parameter_data(weight_shape, device, dtype))
        if bias:
            self.bias = Parameter(empty_parameter_data((out_channels,), device, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # torch's: kaiming_uniform_(a=sqrt(5)) with fan_in from weight.size(1) * kernel size
        reset_weight_and_bias(self.weight, self.bias)


class ConvTranspose2d(_ConvBase):
    """The adjoint of Conv2d: (N, C_in, H, W) -> (N, C_out, (H-1)*stride - 2*padding + dilation*(k-1) +
    output_padding + 1, ...). weight (in_channels, out_channels // groups, kH, kW)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None):
        super().__init__()
        self.kernel_size, self.stride = pair(kernel_size, "kernel_size"), pair(stride, "stride")
        self.padding, self.output_padding = pair(padding, "padding"), pair(output_padding, "output_padding")
        self.dilation = pair(dilation, "dilation")
        self._setup(in_channels, out_channels, (in_channels, out_channels // groups) + self.kernel_size, groups, bias,
                    padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        output_padding = self.output_padding
        if output_size is not None:  # choose output_padding so the result has this size (torch)
            target = tuple(output_size)[-2:]
            output_padding = tuple(
                t - ((n - 1) * s - 2 * p + d * (k - 1) + 1)
                for t, n, s, p, d, k in zip(target, input.shape[-2:], self.stride, self.padding, self.dilation,
                                            self.kernel_size))
        unbatched = input.ndim == 3
        out = F.conv_transpose2d(input.unsqueeze(0) if unbatched else input, self.weight, self.bias, self.stride,
                                 self.padding, output_padding, self.groups, self.dilation)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self) -> str:
        return _conv_repr(self, (0, 0))


class Conv1d(_ConvBase):
    """(N, C_in, L) -> (N, C_out, L_out); weight (out_channels, in_channels // groups, k)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        self.kernel_size, self.stride, self.dilation = _single(kernel_size), _single(stride), _single(dilation)
        self.padding = padding if isinstance(padding, str) else _single(padding)
        self._setup(in_channels, out_channels, (out_channels, in_channels // groups) + self.kernel_size, groups, bias,
                    padding_mode, device, dtype)

    def forward(self, input):
        unbatched = input.ndim == 2
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        out = F.conv1d(input.unsqueeze(0) if unbatched else input, self.weight, self.bias, self.stride[0], padding,
                       self.dilation[0], self.groups)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self) -> str:
        return _conv_repr(self, (0,))


class Unfold(Module):
    """Sliding blocks of (N, C, H, W) as columns (N, C * kH * kW, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Unfold):
    """Columns (N, C * kH * kW, L) summed back into an (N, C, H, W) image of ``output_size``."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, " + super().extra_repr()


