"""SqueezeNet (Iandola et al., 2016): AlexNet's accuracy with 50x fewer parameters, in torchvision's layout.

Its Fire module squeezes the channels with 1x1 convolutions, then expands them again with 1x1 and 3x3
convolutions side by side, whose outputs are concatenated. 3x3 filters (9x the weights of 1x1) only
ever see the squeezed channels. No fully connected layer: a 1x1 convolution to ``num_classes`` maps
followed by global average pooling is the classifier. Version 1.1 starts with 64 3x3 filters and pools
earlier, for 2.4x less computation at the same accuracy.
"""
from __future__ import annotations

from .. import nn
from ..functional import cat

__all__ = ["Fire", "SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


class Fire(nn.Module):
    """squeeze 1x1 -> ReLU -> [expand 1x1 -> ReLU | expand 3x3 -> ReLU] concatenated.

    Shapes: (N, inplanes, H, W) -> (N, expand1x1_planes + expand3x3_planes, H, W).
    """

    def __init__(self, inplanes: int, squeeze_planes: int, expand1x1_planes: int, expand3x3_planes: int):
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return cat([self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    """SqueezeNet 1.0 (1,248,424 parameters) or 1.1 (1,235,496) for 1000 classes.

    Shapes: (N, 3, H, W) -> (N, num_classes), canonically 224x224 (at least 17x17 for 1.0 and 1.1).
    Modules: ``features`` (Sequential of convs, pools and Fires), ``classifier`` (Dropout, the final 1x1
    conv at index 1, ReLU, AdaptiveAvgPool2d).
    """

    def __init__(self, version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.num_classes = num_classes
        pool = lambda: nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)  # noqa: E731
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True), pool(),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128), pool(),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                pool(),
                Fire(512, 64, 256, 256),
            )
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True), pool(),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), pool(),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), pool(),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256),
            )
        else:
            raise ValueError(f"SqueezeNet: unsupported version {version!r}: 1_0 or 1_1 expected")
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))

        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                if module is final_conv:
                    nn.init.normal_(module.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.constant_(module.bias, 0)

    def forward(self, x):
        x = self.features(x)             # (N, 512, 13, 13) at 224x224
        return self.classifier(x).flatten(1)


def squeezenet1_0(num_classes: int = 1000, **kwargs) -> SqueezeNet:
    """SqueezeNet 1.0 (the paper's); see ``SqueezeNet``."""
    return SqueezeNet("1_0", num_classes=num_classes, **kwargs)


def squeezenet1_1(num_classes: int = 1000, **kwargs) -> SqueezeNet:
    """SqueezeNet 1.1 (fewer MACs, same accuracy); see ``SqueezeNet``."""
    return SqueezeNet("1_1", num_classes=num_classes, **kwargs)
