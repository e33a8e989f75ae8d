"""VGG (Simonyan and Zisserman, 2014): stacks of 3x3 convolutions separated by 2x2 max-pools.

Configurations A, B, D and E of the paper are VGG-11, -13, -16 and -19 (the count of weight layers);
the ``_bn`` variants put a BatchNorm2d after every convolution. Module and parameter names follow
torchvision (``features.0.weight``, ``classifier.6.bias``), so its pretrained weights load unchanged.
"""
from __future__ import annotations

from .. import nn

__all__ = ["VGG", "make_vgg_layers", "VGG_CONFIGS",
           "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]

# Output channels of each 3x3 convolution; "M" is a 2x2, stride-2 max-pool.
VGG_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_vgg_layers(config, batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    """The ``features`` Sequential for a list of channel counts and "M" (max-pool) markers."""
    layers = []
    for entry in config:
        if entry == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, entry, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(entry))
        layers.append(nn.ReLU())
        in_channels = entry
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """``features`` -> ``avgpool`` (adaptive, 7x7) -> ``classifier`` (4096 -> 4096 -> num_classes).

    Shapes: (N, 3, H, W) -> (N, num_classes); canonically 224x224, but any H, W >= 32 works because the
    adaptive pool fixes the classifier input at 512 * 7 * 7 (on a 1x1 map it copies the value 49 times).
    Initialisation as torchvision: He-normal (fan_out) convolutions, N(0, 0.01) Linear weights, zero
    biases, BatchNorm scale 1 and shift 0.
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            self._initialize_weights()

    def _initialize_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.constant_(module.bias, 0)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)


def _vgg(config: str, batch_norm: bool, num_classes: int, **kwargs) -> VGG:
    return VGG(make_vgg_layers(VGG_CONFIGS[config], batch_norm=batch_norm), num_classes=num_classes, **kwargs)


def vgg11(num_classes: int = 1000, **kwargs) -> VGG:
    """VGG-11 (configuration A), 132,863,336 parameters for 1000 classes."""
    return _vgg("A", False, num_classes, **kwargs)


def vgg13(num_classes: int = 1000, **kwargs) -> VGG:
    """VGG-13 (configuration B), 133,047,848 parameters for 1000 classes."""
    return _vgg("B", False, num_classes, **kwargs)


def vgg16(num_classes: int = 1000, **kwargs) -> VGG:
    """VGG-16 (configuration D), 138,357,544 parameters for 1000 classes."""
    return _vgg("D", False, num_classes, **kwargs)


def vgg19(num_classes: int = 1000, **kwargs) -> VGG:
    """VGG-19 (configuration E), 143,667,240 parameters for 1000 classes."""
    return _vgg("E", False, num_classes, **kwargs)


def vgg11_bn(num_classes: int = 1000, **kwargs) -> VGG:
    """VGG-11 with BatchNorm after every convolution."""
    return _vgg("A", True, num_classes, **kwargs)


def vgg13_bn(num_classes: int = 1000, **kwargs) -> VGG:
    """VGG-13 with BatchNorm after every convolution."""
    return _vgg("B", True, num_classes, **kwargs)


def vgg16_bn(num_classes: int = 1000, **kwargs) -> VGG:
    """VGG-16 with BatchNorm after every convolution, 138,365,992 parameters for 1000 classes."""
    return _vgg("D", True, num_classes, **kwargs)


def vgg19_bn(num_classes: int = 1000, **kwargs) -> VGG:
    """VGG-19 with BatchNorm after every convolution."""
    return _vgg("E", True, num_classes, **kwargs)
