"""Building blocks the modern nets share, with torchvision.ops' names and parameter names:
``Conv2dNormActivation`` (conv -> norm -> activation) and ``SqueezeExcitation``."""
from __future__ import annotations

from .. import nn

__all__ = ["Conv2dNormActivation", "SqueezeExcitation"]


class Conv2dNormActivation(nn.Sequential):
    """Conv2d -> norm_layer -> activation_layer as a Sequential (keys ``0.weight``, ``1.running_mean``, ...).

    ``padding`` defaults to what keeps the size at stride 1: (kernel_size - 1) // 2 * dilation. The conv
    has no bias when a norm layer follows (its shift makes the bias redundant). ``norm_layer`` and
    ``activation_layer`` are classes (or callables) and may be None to leave the step out.
    Shapes: (N, in_channels, H, W) -> (N, out_channels, H', W').
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, stride=1, padding=None,
                 groups: int = 1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1,
                 inplace: bool | None = True, bias: bool | None = None):
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                kernels = (kernel_size,) * 2 if isinstance(kernel_size, int) else kernel_size
                dilations = (dilation,) * 2 if isinstance(dilation, int) else dilation
                padding = tuple((k - 1) // 2 * d for k, d in zip(kernels, dilations))
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                            groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer() if inplace is None else activation_layer(inplace=inplace))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al., 2018): reweight channels by a gate computed from the whole map.

    squeeze: global average pool to (N, C, 1, 1); excite: 1x1 conv ``fc1`` to ``squeeze_channels``,
    ``activation``, 1x1 conv ``fc2`` back to C, ``scale_activation`` (a gate in [0, 1]); the input is
    multiplied by the gate, broadcast over H and W. Shapes: (N, C, H, W) -> (N, C, H, W).
    Backward needs no code of its own: it flows through the pool, convolutions, activations and the
    broadcast product (whose gradient w.r.t. the gate sums over H and W).
    """

    def __init__(self, input_channels: int, squeeze_channels: int, activation=nn.ReLU,
                 scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input):
        scale = self.avgpool(input)
        scale = self.activation(self.fc1(scale))
        return self.scale_activation(self.fc2(scale))

    def forward(self, input):
        return self._scale(input) * input
