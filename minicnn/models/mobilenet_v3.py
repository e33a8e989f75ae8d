"""MobileNetV3 (Howard et al., 2019), Large and Small, in torchvision's layout.

V3 keeps V2's inverted residual and adds three things found by architecture search: squeeze-and-
excitation inside some blocks (gated by a hard sigmoid), the hard-swish activation x * relu6(x + 3) / 6
in the deeper half (ReLU where the maps are large and hard-swish would cost most), and 5x5 depthwise
kernels in places. BatchNorm uses eps 0.001 and momentum 0.01, as in the reference training.
Module and parameter names are torchvision's (``features.1.block.0.0.weight``, ...).
"""
from __future__ import annotations

from functools import partial

from .. import nn
from ..ops import Conv2dNormActivation, SqueezeExcitation
from .mobilenet import make_divisible
from .mobile_init import init_mobile_weights

__all__ = ["MobileNetV3", "InvertedResidualConfig", "mobilenet_v3_large", "mobilenet_v3_small"]


class InvertedResidualConfig:
    """One row of the paper's table: input, kernel, expanded and output channels, SE?, activation
    ("RE" ReLU or "HS" hard-swish), stride, dilation; channels scaled by ``width_mult``."""

    def __init__(self, input_channels: int, kernel: int, expanded_channels: int, out_channels: int, use_se: bool,
                 activation: str, stride: int, dilation: int, width_mult: float):
        self.input_channels = make_divisible(input_channels * width_mult, 8)
        self.kernel = kernel
        self.expanded_channels = make_divisible(expanded_channels * width_mult, 8)
        self.out_channels = make_divisible(out_channels * width_mult, 8)
        self.use_se = use_se
        self.use_hs = activation == "HS"
        self.stride = stride
        self.dilation = dilation


class InvertedResidual(nn.Module):
    """[1x1 expand] -> kxk depthwise -> [squeeze-excitation] -> 1x1 project (+ x when the shape is kept).

    Children: ``block`` (Sequential of Conv2dNormActivation / SqueezeExcitation).
    Shapes: (N, input_channels, H, W) -> (N, out_channels, H / stride, W / stride).
    """

    def __init__(self, cnf: InvertedResidualConfig, norm_layer):
        super().__init__()
        if cnf.stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        activation = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=activation))
        stride = 1 if cnf.dilation > 1 else cnf.stride
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels, kernel_size=cnf.kernel,
                                           stride=stride, dilation=cnf.dilation, groups=cnf.expanded_channels,
                                           norm_layer=norm_layer, activation_layer=activation))
        if cnf.use_se:
            squeeze_channels = make_divisible(cnf.expanded_channels // 4, 8)
            layers.append(SqueezeExcitation(cnf.expanded_channels, squeeze_channels, scale_activation=nn.Hardsigmoid))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels

    def forward(self, x):
        result = self.block(x)
        return result + x if self.use_res_connect else result


def _configuration(arch: str, width_mult: float = 1.0, reduced_tail: bool = False, dilated: bool = False):
    """The block table of the paper (Table 1 for Large, Table 2 for Small) and the head width."""
    row = partial(InvertedResidualConfig, width_mult=width_mult)
    reduce = 2 if reduced_tail else 1
    dilation = 2 if dilated else 1
    if arch == "mobilenet_v3_large":
        table = [
            row(16, 3, 16, 16, False, "RE", 1, 1),
            row(16, 3, 64, 24, False, "RE", 2, 1),
            row(24, 3, 72, 24, False, "RE", 1, 1),
            row(24, 5, 72, 40, True, "RE", 2, 1),
            row(40, 5, 120, 40, True, "RE", 1, 1),
            row(40, 5, 120, 40, True, "RE", 1, 1),
            row(40, 3, 240, 80, False, "HS", 2, 1),
            row(80, 3, 200, 80, False, "HS", 1, 1),
            row(80, 3, 184, 80, False, "HS", 1, 1),
            row(80, 3, 184, 80, False, "HS", 1, 1),
            row(80, 3, 480, 112, True, "HS", 1, 1),
            row(112, 3, 672, 112, True, "HS", 1, 1),
            row(112, 5, 672 // reduce, 160 // reduce, True, "HS", 2, dilation),
            row(160 // reduce, 5, 960 // reduce, 160 // reduce, True, "HS", 1, dilation),
            row(160 // reduce, 5, 960 // reduce, 160 // reduce, True, "HS", 1, dilation),
        ]
        last_channel = make_divisible(1280 // reduce * width_mult, 8)
    elif arch == "mobilenet_v3_small":
        table = [
            row(16, 3, 16, 16, True, "RE", 2, 1),
            row(16, 3, 72, 24, False, "RE", 2, 1),
            row(24, 3, 88, 24, False, "RE", 1, 1),
            row(24, 5, 96, 40, True, "HS", 2, 1),
            row(40, 5, 240, 40, True, "HS", 1, 1),
            row(40, 5, 240, 40, True, "HS", 1, 1),
            row(40, 5, 120, 48, True, "HS", 1, 1),
            row(48, 5, 144, 48, True, "HS", 1, 1),
            row(48, 5, 288 // reduce, 96 // reduce, True, "HS", 2, dilation),
            row(96 // reduce, 5, 576 // reduce, 96 // reduce, True, "HS", 1, dilation),
            row(96 // reduce, 5, 576 // reduce, 96 // reduce, True, "HS", 1, dilation),
        ]
        last_channel = make_divisible(1024 // reduce * width_mult, 8)
    else:
        raise ValueError(f"MobileNetV3: unsupported architecture {arch!r}")
    return table, last_channel


class MobileNetV3(nn.Module):
    """MobileNetV3: 5,483,032 parameters (Large) or 2,542,856 (Small) for 1000 classes.

    Shapes: (N, 3, H, W) -> (N, num_classes), canonically 224x224 (at least 32x32).
    Modules: ``features`` (stem, blocks, last 1x1 conv), ``avgpool``, ``classifier`` (Linear,
    Hardswish, Dropout, Linear).
    """

    def __init__(self, inverted_residual_setting, last_channel: int, num_classes: int = 1000, norm_layer=None,
                 dropout: float = 0.2):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("MobileNetV3: the inverted_residual_setting should not be empty")
        if norm_layer is None:
            norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        first = inverted_residual_setting[0].input_channels
        layers = [Conv2dNormActivation(3, first, kernel_size=3, stride=2, norm_layer=norm_layer,
                                       activation_layer=nn.Hardswish)]
        layers += [InvertedResidual(cnf, norm_layer) for cnf in inverted_residual_setting]
        last_input = inverted_residual_setting[-1].out_channels
        last_output = 6 * last_input
        layers.append(Conv2dNormActivation(last_input, last_output, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(last_output, last_channel),
            nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(last_channel, num_classes),
        )
        init_mobile_weights(self)

    def forward(self, x):
        x = self.features(x)                    # (N, 960, 7, 7) for Large at 224x224
        x = self.avgpool(x).flatten(1)
        return self.classifier(x)


def mobilenet_v3_large(num_classes: int = 1000, width_mult: float = 1.0, reduced_tail: bool = False,
                       dilated: bool = False, **kwargs) -> MobileNetV3:
    """MobileNetV3-Large in torchvision's layout; see ``MobileNetV3``."""
    table, last_channel = _configuration("mobilenet_v3_large", width_mult, reduced_tail, dilated)
    return MobileNetV3(table, last_channel, num_classes=num_classes, **kwargs)


def mobilenet_v3_small(num_classes: int = 1000, width_mult: float = 1.0, reduced_tail: bool = False,
                       dilated: bool = False, **kwargs) -> MobileNetV3:
    """MobileNetV3-Small in torchvision's layout; see ``MobileNetV3``."""
    table, last_channel = _configuration("mobilenet_v3_small", width_mult, reduced_tail, dilated)
    return MobileNetV3(table, last_channel, num_classes=num_classes, **kwargs)
