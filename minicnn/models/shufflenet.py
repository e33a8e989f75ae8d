"""ShuffleNet V2 (Ma et al., 2018), in torchvision's layout: shufflenet_v2_x0_5, x1_0, x1_5, x2_0.

The paper's guidelines for speed on real hardware (equal input and output widths, few groups, few
branches, few elementwise ops) give this unit: split the channels in two; leave one half as it is,
pass the other through 1x1 conv -> 3x3 depthwise conv -> 1x1 conv; concatenate; then shuffle the
channels so the next unit's split mixes both halves. A downsampling unit feeds the whole input to two
branches (each with a stride-2 depthwise conv) and doubles the width. Names are torchvision's.
"""
from __future__ import annotations

from .. import nn
from ..functional import cat, channel_shuffle

__all__ = ["ShuffleNetV2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]


def _depthwise_conv(channels: int, stride: int):
    return nn.Conv2d(channels, channels, 3, stride, 1, bias=False, groups=channels)


class InvertedResidual(nn.Module):
    """A ShuffleNetV2 unit. Shapes: (N, inp, H, W) -> (N, oup, H / stride, W / stride).

    stride 1 (inp == oup): x = [x1, x2] by channels -> [x1, branch2(x2)]; stride 2: [branch1(x), branch2(x)];
    then channel_shuffle(., 2). ``branch1`` is an empty Sequential at stride 1 (as in torchvision).
    """

    def __init__(self, inp: int, oup: int, stride: int):
        super().__init__()
        if not 1 <= stride <= 3:
            raise ValueError(f"InvertedResidual: illegal stride value {stride}")
        self.stride = stride
        branch_features = oup // 2
        if stride == 1 and inp != branch_features << 1:
            raise ValueError(f"InvertedResidual: invalid combination of stride {stride}, inp {inp} and oup {oup}: "
                             "inp must equal oup at stride 1")
        if stride > 1:
            self.branch1 = nn.Sequential(
                _depthwise_conv(inp, stride), nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, 1, 1, 0, bias=False), nn.BatchNorm2d(branch_features),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else branch_features, branch_features, 1, 1, 0, bias=False),
            nn.BatchNorm2d(branch_features), nn.ReLU(inplace=True),
            _depthwise_conv(branch_features, stride), nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, 1, 1, 0, bias=False), nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        if self.stride == 1:
            half = x.shape[1] // 2
            out = cat([x[:, :half], self.branch2(x[:, half:])], 1)
        else:
            out = cat([self.branch1(x), self.branch2(x)], 1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2. Parameters for 1000 classes: x0_5 1,366,792; x1_0 2,278,604; x1_5 3,503,624;
    x2_0 7,393,996.

    Shapes: (N, 3, H, W) -> (N, num_classes), canonically 224x224 (at least 17x17; the head averages
    globally). Modules: ``conv1``, ``maxpool``, ``stage2``..``stage4``, ``conv5``, ``fc``.
    """

    def __init__(self, stages_repeats, stages_out_channels, num_classes: int = 1000):
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("ShuffleNetV2: expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("ShuffleNetV2: expected stages_out_channels as list of 5 positive ints")
        self._stage_out_channels = list(stages_out_channels)
        input_channels = 3
        output_channels = stages_out_channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(input_channels, output_channels, 3, 2, 1, bias=False),
            nn.BatchNorm2d(output_channels), nn.ReLU(inplace=True),
        )
        input_channels = output_channels
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for index, (repeats, output_channels) in enumerate(zip(stages_repeats, stages_out_channels[1:4]), start=2):
            units = [InvertedResidual(input_channels, output_channels, 2)]
            units += [InvertedResidual(output_channels, output_channels, 1) for _ in range(repeats - 1)]
            setattr(self, f"stage{index}", nn.Sequential(*units))
            input_channels = output_channels
        output_channels = stages_out_channels[-1]
        self.conv5 = nn.Sequential(
            nn.Conv2d(input_channels, output_channels, 1, 1, 0, bias=False),
            nn.BatchNorm2d(output_channels), nn.ReLU(inplace=True),
        )
        self.fc = nn.Linear(output_channels, num_classes)

    def forward(self, x):
        x = self.maxpool(self.conv1(x))               # (N, 24, 56, 56) at 224x224
        x = self.stage4(self.stage3(self.stage2(x)))  # (N, stages_out_channels[3], 7, 7)
        x = self.conv5(x).mean([2, 3])                # global average pool
        return self.fc(x)


_STAGES_OUT_CHANNELS = {
    "x0_5": [24, 48, 96, 192, 1024],
    "x1_0": [24, 116, 232, 464, 1024],
    "x1_5": [24, 176, 352, 704, 1024],
    "x2_0": [24, 244, 488, 976, 2048],
}


def _shufflenet(width: str, num_classes: int, **kwargs) -> ShuffleNetV2:
    return ShuffleNetV2([4, 8, 4], _STAGES_OUT_CHANNELS[width], num_classes=num_classes, **kwargs)


def shufflenet_v2_x0_5(num_classes: int = 1000, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 with 0.5x output channels; see ``ShuffleNetV2``."""
    return _shufflenet("x0_5", num_classes, **kwargs)


def shufflenet_v2_x1_0(num_classes: int = 1000, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 with 1.0x output channels; see ``ShuffleNetV2``."""
    return _shufflenet("x1_0", num_classes, **kwargs)


def shufflenet_v2_x1_5(num_classes: int = 1000, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 with 1.5x output channels; see ``ShuffleNetV2``."""
    return _shufflenet("x1_5", num_classes, **kwargs)


def shufflenet_v2_x2_0(num_classes: int = 1000, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 with 2.0x output channels; see ``ShuffleNetV2``."""
    return _shufflenet("x2_0", num_classes, **kwargs)
