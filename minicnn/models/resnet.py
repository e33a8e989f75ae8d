"""ResNet (He et al., 2015), ResNeXt (Xie et al., 2016) and Wide ResNet, in torchvision's layout.

A residual block learns a correction F(x) to its input and outputs relu(F(x) + shortcut(x)). The
shortcut is the identity when shapes agree, else ``downsample`` (1x1 conv + BatchNorm) projects x to
the new channel count and stride. Gradient flows through the "+" unchanged, which is what lets a
152-layer network train.

- BasicBlock (ResNet-18/34): 3x3 conv -> BN -> ReLU -> 3x3 conv -> BN.
- Bottleneck (ResNet-50/101/152): 1x1 conv (shrink) -> 3x3 conv -> 1x1 conv (expand x4), each with BN.
  The stride sits on the 3x3 convolution ("ResNet v1.5", as torchvision), not on the first 1x1.
- ResNeXt: the Bottleneck's 3x3 convolution is grouped (``groups`` paths of ``width_per_group``).
- Wide ResNet-50-2: the Bottleneck's inner width doubled.

Module and parameter names match torchvision (``layer1.0.conv1.weight``, ``layer2.0.downsample.0``),
so its pretrained weights load with ``minicnn.models.torch_weights.load_torch_state_dict``.
"""
from __future__ import annotations

from .. import nn

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "conv3x3", "conv1x1",
           "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1 and no bias (a BatchNorm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, groups=groups, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution without bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions; out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock: supports only groups=1 and width_per_group=64, got {groups}, {base_width}")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 (to ``width``) -> 3x3 (stride, groups) -> 1x1 (to planes * 4), plus the shortcut.

    ``width = int(planes * base_width / 64) * groups``: ``planes`` for ResNet, larger for ResNeXt and
    Wide ResNet.
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """stem (conv1, bn1, relu, maxpool) -> layer1..layer4 -> avgpool (global) -> fc.

    Args:
        block: BasicBlock or Bottleneck.
        layers: blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18.
        num_classes: outputs of ``fc``.
        zero_init_residual: start each block's last BatchNorm scale at 0, so every block begins as the
            identity (helps large-batch training, Goyal et al. 2017).
        groups, width_per_group: ResNeXt's cardinality and width of each group (Bottleneck only).
        widths: the four stages' ``planes`` (the stem has widths[0] channels); torchvision's (64, 128,
            256, 512) by default. Smaller widths give tiny networks for tests and quick experiments.
        cifar: for 32x32 inputs, replace the 7x7 stride-2 stem convolution with a 3x3 stride-1 one and
            drop the max-pool (the CIFAR ResNet stem). The parameter count then differs from the
            ImageNet model (conv1 has 3*3*3*64 instead of 7*7*3*64 weights: resnet18 has 11,681,832
            instead of 11,689,512 parameters), and torchvision weights for conv1 no longer fit.
        in_channels: channels of the input images (3 for RGB).

    Shapes: (N, in_channels, H, W) -> (N, num_classes); canonically 224x224 (the head pools globally, so
    any size the stride-32 (cifar: stride-8) trunk accepts works).
    """

    def __init__(self, block, layers, num_classes: int = 1000, zero_init_residual: bool = False, groups: int = 1,
                 width_per_group: int = 64, widths=(64, 128, 256, 512), cifar: bool = False, in_channels: int = 3):
        super().__init__()
        if len(layers) != 4 or len(widths) != 4:
            raise ValueError(f"ResNet: layers and widths need 4 entries (one per stage), got {layers} and {widths}")
        self.groups = groups
        self.base_width = width_per_group
        self.inplanes = widths[0]
        if cifar:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU()
        self.maxpool = nn.Identity() if cifar else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)

        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
        if zero_init_residual:
            for module in self.modules():
                if isinstance(module, Bottleneck):
                    nn.init.constant_(module.bn3.weight, 0)
                elif isinstance(module, BasicBlock):
                    nn.init.constant_(module.bn2.weight, 0)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        """One stage: the first block may change stride/channels (with a projection shortcut)."""
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        stage = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            stage.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width))
        return nn.Sequential(*stage)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, 56, 56) at 224x224
        x = self.layer1(x)                                    # (N, 64 * e, 56, 56), e = block.expansion
        x = self.layer2(x)                                    # (N, 128 * e, 28, 28)
        x = self.layer3(x)                                    # (N, 256 * e, 14, 14)
        x = self.layer4(x)                                    # (N, 512 * e, 7, 7)
        x = self.avgpool(x).flatten(1)
        return self.fc(x)


def resnet18(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-18: BasicBlock x [2, 2, 2, 2], 11,689,512 parameters for 1000 classes."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, **kwargs)


def resnet34(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-34: BasicBlock x [3, 4, 6, 3], 21,797,672 parameters."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnet50(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-50: Bottleneck x [3, 4, 6, 3], 25,557,032 parameters."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnet101(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-101: Bottleneck x [3, 4, 23, 3], 44,549,160 parameters."""
    return ResNet(Bottleneck, [3, 4, 23, 3], num_classes=num_classes, **kwargs)


def resnet152(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-152: Bottleneck x [3, 8, 36, 3], 60,192,808 parameters."""
    return ResNet(Bottleneck, [3, 8, 36, 3], num_classes=num_classes, **kwargs)


def resnext50_32x4d(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNeXt-50 32x4d: 32 groups of width 4 in each 3x3, 25,028,904 parameters."""
    kwargs.setdefault("groups", 32)
    kwargs.setdefault("width_per_group", 4)
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnext101_32x8d(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNeXt-101 32x8d: 32 groups of width 8, 88,791,336 parameters."""
    kwargs.setdefault("groups", 32)
    kwargs.setdefault("width_per_group", 8)
    return ResNet(Bottleneck, [3, 4, 23, 3], num_classes=num_classes, **kwargs)


def wide_resnet50_2(num_classes: int = 1000, **kwargs) -> ResNet:
    """Wide ResNet-50-2: Bottleneck inner width doubled (width_per_group 128), 68,883,240 parameters."""
    kwargs.setdefault("width_per_group", 64 * 2)
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, **kwargs)
