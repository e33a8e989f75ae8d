"""EfficientNet-B0 (Tan & Le, 2019), in torchvision's layout.

B0 is the baseline that architecture search found; B1-B7 scale its depth, width and resolution
together. Its block is MBConv: MobileNetV2's inverted residual with squeeze-and-excitation (squeezing
to a quarter of the block's *input* channels) and the SiLU (swish) activation. Residual branches are
dropped at random during training (stochastic depth), with a probability growing linearly with depth
from 0 to ``stochastic_depth_prob``. Names are torchvision's (``features.1.0.block.1.fc1.weight``, ...).
"""
from __future__ import annotations

from .. import nn
from ..ops import Conv2dNormActivation, SqueezeExcitation, StochasticDepth
from .mobilenet import make_divisible
from .mobile_init import init_mobile_weights, uniform_by_outputs

__all__ = ["EfficientNet", "MBConv", "efficientnet_b0"]

# expand ratio, kernel, stride, input channels, output channels, layers: Table 1 of the paper (B0)
B0_STAGES = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


class MBConv(nn.Module):
    """[1x1 expand] -> kxk depthwise -> squeeze-excitation -> 1x1 project, + x (after stochastic depth)
    when the shape is kept. Children: ``block``, ``stochastic_depth``.
    Shapes: (N, input_channels, H, W) -> (N, out_channels, H / stride, W / stride)."""

    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int, out_channels: int,
                 stochastic_depth_prob: float, norm_layer=nn.BatchNorm2d):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"MBConv: illegal stride value {stride}")
        self.use_res_connect = stride == 1 and input_channels == out_channels
        expanded = make_divisible(input_channels * expand_ratio, 8)
        layers = []
        if expanded != input_channels:
            layers.append(Conv2dNormActivation(input_channels, expanded, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=kernel, stride=stride, groups=expanded,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        layers.append(SqueezeExcitation(expanded, max(1, input_channels // 4), activation=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, out_channels, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = out_channels

    def forward(self, x):
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result) + x
        return result


class EfficientNet(nn.Module):
    """EfficientNet: 5,288,548 parameters for B0 and 1000 classes.

    Shapes: (N, 3, H, W) -> (N, num_classes), canonically 224x224 (at least 32x32).
    Modules: ``features`` (stem, seven stages of MBConvs, last 1x1 conv to 1280), ``avgpool``,
    ``classifier`` (Dropout, Linear).
    """

    def __init__(self, stages=B0_STAGES, dropout: float = 0.2, stochastic_depth_prob: float = 0.2,
                 num_classes: int = 1000, norm_layer=None, last_channel: int | None = None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        layers = [Conv2dNormActivation(3, stages[0][3], kernel_size=3, stride=2, norm_layer=norm_layer,
                                       activation_layer=nn.SiLU)]
        total_blocks = sum(stage[-1] for stage in stages)
        block_id = 0
        for expand_ratio, kernel, stride, input_channels, out_channels, num_layers in stages:
            blocks = []
            for index in range(num_layers):
                blocks.append(MBConv(expand_ratio, kernel, stride if index == 0 else 1,
                                     input_channels if index == 0 else out_channels, out_channels,
                                     stochastic_depth_prob * block_id / total_blocks, norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*blocks))
        last_input = stages[-1][4]
        last_output = last_channel if last_channel is not None else 4 * last_input
        layers.append(Conv2dNormActivation(last_input, last_output, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_output, num_classes))

        init_mobile_weights(self, uniform_by_outputs)

    def forward(self, x):
        x = self.features(x)                 # (N, 1280, 7, 7) at 224x224
        x = self.avgpool(x).flatten(1)
        return self.classifier(x)


def efficientnet_b0(num_classes: int = 1000, dropout: float = 0.2, stochastic_depth_prob: float = 0.2,
                    **kwargs) -> EfficientNet:
    """EfficientNet-B0 in torchvision's layout; see ``EfficientNet``."""
    return EfficientNet(B0_STAGES, dropout=dropout, stochastic_depth_prob=stochastic_depth_prob,
                        num_classes=num_classes, **kwargs)
