"""MobileNetV2 (Sandler et al., 2018), in torchvision's layout.

Its building block, the inverted residual, widens the input with a 1x1 convolution (x ``expand_ratio``),
filters each channel on its own with a 3x3 depthwise convolution (``groups`` = channels: 9 weights per
channel instead of 9 * C), then projects back down with a linear 1x1 convolution (no activation: a ReLU
on the narrow output would destroy information). The shortcut joins the narrow ends, the reverse of a
ResNet bottleneck, hence "inverted". Module and parameter names match torchvision.
"""
from __future__ import annotations

from .. import functional as F
from .. import nn
from ..ops import Conv2dNormActivation
from .mobile_init import init_mobile_weights

__all__ = ["MobileNetV2", "InvertedResidual", "ConvBNActivation", "make_divisible", "mobilenet_v2"]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of ``divisor`` (hardware-friendly), never below 90% of it."""
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class ConvBNActivation(Conv2dNormActivation):
    """The older name of MobileNetV2's conv -> BatchNorm2d -> ReLU6 block: ``ops.Conv2dNormActivation`` with
    ReLU6 (the model itself builds Conv2dNormActivation, as torchvision's does)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, groups: int = 1,
                 activation_layer=nn.ReLU6):
        super().__init__(in_channels, out_channels, kernel_size, stride, groups=groups,
                         activation_layer=activation_layer)


class InvertedResidual(nn.Module):
    """[1x1 expand -> BN -> ReLU6] -> 3x3 depthwise (stride) -> BN -> ReLU6 -> 1x1 project -> BN (+ x).

    The expansion is skipped when ``expand_ratio`` is 1; the shortcut is used when the block keeps the
    shape (stride 1 and inp == oup). Shapes: (N, inp, H, W) -> (N, oup, H / stride, W / stride).
    """

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride}")
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1, activation_layer=nn.ReLU6))
        layers.extend([
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ])
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


# expansion t, output channels c, repeats n, first stride s: the table of the paper.
INVERTED_RESIDUAL_SETTING = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
]


class MobileNetV2(nn.Module):
    """MobileNetV2: 3,504,872 parameters at width_mult 1.0 and 1000 classes.

    Args:
        num_classes: outputs of the classifier.
        width_mult: scales every layer's channels (rounded by ``make_divisible`` to ``round_nearest``).
        inverted_residual_setting: rows [t, c, n, s] (defaults to the paper's table).
        round_nearest: channel counts are multiples of this.
        dropout: dropout probability before the last Linear layer.
        last_channel: channels of the final 1x1 convolution (1280; scaled up when width_mult > 1).

    Shapes: (N, 3, H, W) -> (N, num_classes), canonically 224x224; the head pools globally.
    Modules: ``features`` (Sequential: stem Conv2dNormActivation, the InvertedResiduals, a last 1x1
    Conv2dNormActivation) and ``classifier`` (Dropout, Linear).
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, inverted_residual_setting=None,
                 round_nearest: int = 8, dropout: float = 0.2, last_channel: int = 1280):
        super().__init__()
        if inverted_residual_setting is None:
            inverted_residual_setting = INVERTED_RESIDUAL_SETTING
        if any(len(row) != 4 for row in inverted_residual_setting):
            raise ValueError(f"MobileNetV2: inverted_residual_setting rows must be [t, c, n, s], got "
                             f"{inverted_residual_setting}")
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(3, input_channel, stride=2, activation_layer=nn.ReLU6)]
        for expand_ratio, channels, repeats, first_stride in inverted_residual_setting:
            output_channel = make_divisible(channels * width_mult, round_nearest)
            for index in range(repeats):
                stride = first_stride if index == 0 else 1
                features.append(InvertedResidual(input_channel, output_channel, stride, expand_ratio=expand_ratio))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1,
                                             activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(self.last_channel, num_classes),
        )

        init_mobile_weights(self)

    def forward(self, x):
        x = self.features(x)                        # (N, 1280, 7, 7) at 224x224
        x = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
        return self.classifier(x)


def mobilenet_v2(num_classes: int = 1000, width_mult: float = 1.0, **kwargs) -> MobileNetV2:
    """MobileNetV2 in torchvision's layout; see ``MobileNetV2``."""
    return MobileNetV2(num_classes=num_classes, width_mult=width_mult, **kwargs)
