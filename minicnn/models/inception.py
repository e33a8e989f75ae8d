"""Inception v3 (Szegedy et al., 2016, "Rethinking the Inception Architecture"), in torchvision's layout.

The lessons of v3 over GoogLeNet: factorize large kernels -- a 5x5 becomes two 3x3s, and an n x n
becomes a 1 x n followed by an n x 1 (the 17x17 stage uses 1x7 / 7x1 pairs: 14 weights instead of 49);
shrink the grid with parallel stride-2 branches instead of a pooling that would bottleneck the
representation; and keep one auxiliary classifier (on the 17x17 grid), which the paper found acts as a
regularizer. Canonical input: 299x299 (the stem brings it to 35x35, then 17x17, then 8x8).

Module and parameter names are torchvision's (``Conv2d_1a_3x3``, ``Mixed_5b.branch1x1.conv.weight``,
``AuxLogits.fc.bias``, ...), so its state dict loads unchanged. Every convolution is conv -> BatchNorm
(eps 0.001) -> ReLU, the ``BasicConv2d`` of GoogLeNet.
"""
from __future__ import annotations

from collections import namedtuple

from .. import functional as F
from .. import nn
from ..functional import cat
from .googlenet import BasicConv2d

__all__ = ["Inception3", "InceptionOutputs", "inception_v3"]

InceptionOutputs = namedtuple("InceptionOutputs", ["logits", "aux_logits"])
InceptionOutputs.__doc__ = "What Inception3 returns in training mode with aux_logits: (N, classes) each."


def _same_size_avg_pool(x):
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)  # the zero padding is counted, as in torch


class InceptionA(nn.Module):
    """35x35 grid: 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1; 224 + pool_features channels."""

    def __init__(self, in_channels: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x):
        branches = [
            self.branch1x1(x),
            self.branch5x5_2(self.branch5x5_1(x)),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            self.branch_pool(_same_size_avg_pool(x)),
        ]
        return cat(branches, 1)


class InceptionB(nn.Module):
    """35x35 -> 17x17 reduction: 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | max pool 3x3/2; in_channels + 480 channels."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        branches = [
            self.branch3x3(x),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            F.max_pool2d(x, kernel_size=3, stride=2),
        ]
        return cat(branches, 1)


class InceptionC(nn.Module):
    """17x17 grid with factorized 7x7s: 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> (7x1 -> 1x7) x 2 | pool -> 1x1; 768."""

    def __init__(self, in_channels: int, channels_7x7: int):
        super().__init__()
        c7 = channels_7x7
        row, column = dict(kernel_size=(1, 7), padding=(0, 3)), dict(kernel_size=(7, 1), padding=(3, 0))
        self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, **row)
        self.branch7x7_3 = BasicConv2d(c7, 192, **column)
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, **column)
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, **row)
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, **column)
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, **row)
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x):
        double = self.branch7x7dbl_3(self.branch7x7dbl_2(self.branch7x7dbl_1(x)))
        branches = [
            self.branch1x1(x),
            self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x))),
            self.branch7x7dbl_5(self.branch7x7dbl_4(double)),
            self.branch_pool(_same_size_avg_pool(x)),
        ]
        return cat(branches, 1)


class InceptionD(nn.Module):
    """17x17 -> 8x8 reduction: 1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | max pool 3x3/2; in + 512 channels."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        seven = self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x)))
        branches = [
            self.branch3x3_2(self.branch3x3_1(x)),
            self.branch7x7x3_4(seven),
            F.max_pool2d(x, kernel_size=3, stride=2),
        ]
        return cat(branches, 1)


class InceptionE(nn.Module):
    """8x8 grid, widened: the 3x3s split into parallel 1x3 and 3x1 whose outputs are concatenated; 2048."""

    def __init__(self, in_channels: int):
        super().__init__()
        row, column = dict(kernel_size=(1, 3), padding=(0, 1)), dict(kernel_size=(3, 1), padding=(1, 0))
        self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, **row)
        self.branch3x3_2b = BasicConv2d(384, 384, **column)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, **row)
        self.branch3x3dbl_3b = BasicConv2d(384, 384, **column)
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x):
        single = self.branch3x3_1(x)
        double = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branches = [
            self.branch1x1(x),
            cat([self.branch3x3_2a(single), self.branch3x3_2b(single)], 1),
            cat([self.branch3x3dbl_3a(double), self.branch3x3dbl_3b(double)], 1),
            self.branch_pool(_same_size_avg_pool(x)),
        ]
        return cat(branches, 1)


class InceptionAux(nn.Module):
    """Auxiliary head on the 17x17 grid: avg pool 5x5/3 -> 1x1 conv 128 -> 5x5 conv 768 -> global pool -> fc."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.conv0 = BasicConv2d(in_channels, 128, kernel_size=1)
        self.conv1 = BasicConv2d(128, 768, kernel_size=5)
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x):
        x = F.avg_pool2d(x, kernel_size=5, stride=3)  # (N, 768, 17, 17) -> (N, 768, 5, 5)
        x = self.conv1(self.conv0(x))                 # (N, 768, 1, 1)
        return self.fc(F.adaptive_avg_pool2d(x, (1, 1)).flatten(1))


class Inception3(nn.Module):
    """Inception v3: 27,161,264 parameters for 1000 classes with the aux head, 23,834,568 without.

    Shapes: (N, 3, H, W) -> (N, num_classes), canonically 299x299; the smallest input is 75x75 (the
    aux head needs 299-ish: its 5x5 conv needs the 17x17 grid to be at least 17 wide after the stem).
    In training mode with ``aux_logits`` the result is ``InceptionOutputs(logits, aux_logits)``, else
    the logits. ``transform_input`` maps inputs normalised with ImageNet statistics to the [-1, 1] scale
    Google's original weights were trained on (torchvision turns it on for its pretrained weights).
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, transform_input: bool = False,
                 init_weights: bool = True, dropout: float = 0.5):
        super().__init__()
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.AuxLogits = InceptionAux(768, num_classes) if aux_logits else None
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(2048, num_classes)
        if init_weights:
            self._initialize_weights()

    def _initialize_weights(self) -> None:
        # torchvision's scheme: truncated normals, std 0.1 (0.001 for the aux head's classifier)
        aux_fc = self.AuxLogits.fc if self.AuxLogits is not None else None
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                std = 0.001 if module is aux_fc else 0.1
                nn.init.trunc_normal_(module.weight, mean=0.0, std=std, a=-2, b=2)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)

    def _transform_input(self, x):
        # x normalised with ImageNet mean/std -> (pixel - 0.5) / 0.5, channel by channel
        mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
        channels = [x[:, c:c + 1] * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5 for c in range(3)]
        return cat(channels, 1)

    def forward(self, x):
        if self.transform_input:
            x = self._transform_input(x)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))  # (N, 64, 147, 147) at 299x299
        x = self.maxpool1(x)                                                 # (N, 64, 73, 73)
        x = self.maxpool2(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)))         # (N, 192, 35, 35)
        x = self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x)))                   # (N, 288, 35, 35)
        x = self.Mixed_6a(x)                                                 # (N, 768, 17, 17)
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))    # (N, 768, 17, 17)
        aux = self.AuxLogits(x) if self.AuxLogits is not None and self.training else None
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))                   # (N, 2048, 8, 8)
        x = self.avgpool(x)
        x = self.fc(self.dropout(x).flatten(1))
        if self.training and self.aux_logits:
            return InceptionOutputs(x, aux)
        return x


def inception_v3(num_classes: int = 1000, aux_logits: bool = True, transform_input: bool = False,
                 init_weights: bool = True, **kwargs) -> Inception3:
    """Inception v3 in torchvision's layout (299x299 inputs); see ``Inception3``."""
    return Inception3(num_classes=num_classes, aux_logits=aux_logits, transform_input=transform_input,
                      init_weights=init_weights, **kwargs)
