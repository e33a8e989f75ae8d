"""MobileNet V1 (Howard et al., 2017): a VGG-like stack of depthwise separable convolutions.

A standard KxK convolution from M to N channels costs K*K*M*N multiply-adds per pixel; factorized into
a KxK depthwise convolution (each channel filtered on its own: K*K*M) and a 1x1 pointwise convolution
(N*M), it costs 1/N + 1/K^2 of that -- 8 to 9 times less for 3x3 kernels. Every convolution is
followed by BatchNorm and ReLU. The width multiplier alpha thins every layer (cost ~ alpha^2).

Table 1 of the paper lists the second-to-last depthwise layer at stride 2 on a 7x7 map, a misprint:
the map stays 7x7 (the table's own output sizes), so it is stride 1 here as in every implementation.
torchvision has no MobileNet V1; the names follow its MobileNets (``features``, ``classifier``).
"""
from __future__ import annotations

from .. import nn
from ..ops import Conv2dNormActivation
from .mobilenet import make_divisible
from .mobile_init import init_mobile_weights

__all__ = ["DepthwiseSeparableConv", "MobileNetV1", "mobilenet_v1"]

# (output channels, stride) of each depthwise separable layer: Table 1
SEPARABLE_LAYERS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


class DepthwiseSeparableConv(nn.Module):
    """3x3 depthwise conv (stride) -> BN -> ReLU -> 1x1 pointwise conv -> BN -> ReLU.

    Children ``depthwise`` and ``pointwise`` (Conv2dNormActivation each).
    Shapes: (N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.depthwise = Conv2dNormActivation(in_channels, in_channels, kernel_size=3, stride=stride,
                                              groups=in_channels)
        self.pointwise = Conv2dNormActivation(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class MobileNetV1(nn.Module):
    """MobileNet V1: 4,231,976 parameters and 569 M multiply-adds (224x224) at width_mult 1.0.

    Args:
        num_classes: outputs of the classifier.
        width_mult: the paper's alpha (1.0, 0.75, 0.5, 0.25): every layer's channels are scaled by it
            (rounded to a multiple of 8).
        dropout: before the classifier (the paper uses little regularisation; 0 by default).

    Shapes: (N, 3, H, W) -> (N, num_classes), canonically 224x224 (at least 32x32).
    Modules: ``features`` (the stem Conv2dNormActivation, then 13 DepthwiseSeparableConv), ``avgpool``,
    ``classifier`` (Dropout, Linear).
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.0):
        super().__init__()
        if width_mult <= 0:
            raise ValueError(f"MobileNetV1: width_mult must be positive, got {width_mult}")
        channels = make_divisible(32 * width_mult, 8)
        layers = [Conv2dNormActivation(3, channels, kernel_size=3, stride=2)]
        for out_channels, stride in SEPARABLE_LAYERS:
            out_channels = make_divisible(out_channels * width_mult, 8)
            layers.append(DepthwiseSeparableConv(channels, out_channels, stride))
            channels = out_channels
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(channels, num_classes))
        init_mobile_weights(self)

    def forward(self, x):
        x = self.features(x)                    # (N, 1024 * alpha, 7, 7) at 224x224
        return self.classifier(self.avgpool(x).flatten(1))


def mobilenet_v1(num_classes: int = 1000, width_mult: float = 1.0, **kwargs) -> MobileNetV1:
    """MobileNet V1 with width multiplier ``width_mult``; see ``MobileNetV1``."""
    return MobileNetV1(num_classes=num_classes, width_mult=width_mult, **kwargs)
