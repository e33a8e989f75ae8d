"""GoogLeNet / Inception v1 (Szegedy et al., 2014), in torchvision's layout.

An Inception module runs four branches side by side on the same input and concatenates their
channels: a 1x1 convolution, 1x1 -> 3x3, 1x1 -> "5x5", and 3x3 max-pool -> 1x1. The 1x1 convolutions
first shrink the channel count, which keeps the wide module cheap. Two auxiliary classifiers hang off
inception4a and inception4d during training, to push gradient into the lower layers.

Like torchvision (and its pretrained weights), every convolution is followed by BatchNorm (eps 0.001),
which the 2014 network did not have, and the "5x5" branch actually uses a 3x3 kernel. Module and
parameter names match torchvision's, so its weights load with ``torch_weights.load_torch_state_dict``.
"""
from __future__ import annotations

from collections import namedtuple

from .. import functional as F
from .. import nn
from ..functional import cat

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "BasicConv2d", "Inception", "InceptionAux", "googlenet"]

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
GoogLeNetOutputs.__doc__ = "What GoogLeNet returns in training mode with aux_logits: (N, classes) each."


class BasicConv2d(nn.Module):
    """conv (no bias: the BatchNorm shift replaces it) -> BatchNorm(eps=0.001) -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **conv_kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **conv_kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Four parallel branches concatenated along channels: ch1x1 + ch3x3 + ch5x5 + pool_proj outputs."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        # A 3x3 kernel, not the paper's 5x5: that is what torchvision's pretrained weights hold.
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x):
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return cat(branches, 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: adaptive average pool to 4x4 -> 1x1 conv 128 -> fc 1024 -> dropout -> fc."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7):
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(x, (4, 4))  # (N, C, 14, 14) -> (N, C, 4, 4) at 224x224 input
        x = self.conv(x)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = self.dropout(x)
        return self.fc2(x)


class GoogLeNet(nn.Module):
    """GoogLeNet: 6,624,904 parameters for 1000 classes without the aux heads, 13,004,888 with them.

    Shapes: (N, 3, H, W) -> (N, num_classes), canonically 224x224 (any H, W >= 32 works: the head pools
    adaptively). In training mode with ``aux_logits`` the result is ``GoogLeNetOutputs(logits,
    aux_logits2, aux_logits1)``; in eval mode (or without aux heads) it is the logits alone.
    ``transform_input`` rescales inputs normalised with ImageNet statistics to the [-1, 1] range the
    original Google weights expected.
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, transform_input: bool = False,
                 init_weights: bool = True, dropout: float = 0.2, dropout_aux: float = 0.7):
        super().__init__()
        self.aux_logits = aux_logits
        self.transform_input = transform_input

        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)

        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)

        if aux_logits:
            self.aux1 = InceptionAux(512, num_classes, dropout=dropout_aux)
            self.aux2 = InceptionAux(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None

        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

        if init_weights:
            self._initialize_weights()

    def _initialize_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(module.weight, mean=0.0, std=0.01, a=-2, b=2)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)

    def _transform_input(self, x):
        # x was normalised with ImageNet mean/std; map it to (pixel - 0.5) / 0.5 per channel.
        mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
        channels = [x[:, c:c + 1] * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5 for c in range(3)]
        return cat(channels, 1)

    def forward(self, x):
        if self.transform_input:
            x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))            # (N, 64, 56, 56) at 224x224
        x = self.maxpool2(self.conv3(self.conv2(x)))  # (N, 192, 28, 28)
        x = self.maxpool3(self.inception3b(self.inception3a(x)))  # (N, 480, 14, 14)
        x = self.inception4a(x)                      # (N, 512, 14, 14)
        use_aux = self.aux1 is not None and self.training
        aux1 = self.aux1(x) if use_aux else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # (N, 528, 14, 14)
        aux2 = self.aux2(x) if use_aux else None
        x = self.maxpool4(self.inception4e(x))       # (N, 832, 7, 7)
        x = self.inception5b(self.inception5a(x))    # (N, 1024, 7, 7)
        x = self.avgpool(x).flatten(1)
        x = self.fc(self.dropout(x))
        if use_aux:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


def googlenet(num_classes: int = 1000, aux_logits: bool = True, transform_input: bool = False,
              init_weights: bool = True, **kwargs) -> GoogLeNet:
    """GoogLeNet (Inception v1) in torchvision's layout; see ``GoogLeNet``."""
    return GoogLeNet(num_classes=num_classes, aux_logits=aux_logits, transform_input=transform_input,
                     init_weights=init_weights, **kwargs)
