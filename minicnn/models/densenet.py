"""DenseNet (Huang et al., 2017), in torchvision's layout: densenet121, densenet161, densenet169, densenet201.

Inside a dense block every layer receives the concatenation of the block's input and of all earlier
layers' outputs, and adds ``growth_rate`` new channels to it. Features are reused rather than
relearned, so the layers can be narrow (32 channels each) and the gradient reaches every layer through
a short path. Each layer is a bottleneck: BN -> ReLU -> 1x1 conv (bn_size * growth_rate channels) ->
BN -> ReLU -> 3x3 conv (growth_rate). Between blocks a transition (BN -> ReLU -> 1x1 conv halving the
channels -> 2x2 average pool) shrinks the grid.

Memory: a naive implementation keeps, for each layer, the concatenated input and its normalised and
activated copies: quadratic in the block's depth. ``memory_efficient=True`` recomputes the
concatenation, the first BN, ReLU and 1x1 conv in backward (``minicnn.utils.checkpoint``) instead of
keeping them, at the price of one more pass through those layers. Module and parameter names are
torchvision's (``features.denseblock1.denselayer1.conv1.weight``, ...).
"""
from __future__ import annotations

from .. import functional as F
from .. import nn
from ..functional import cat
from ..utils.checkpoint import checkpoint

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201"]


class _DenseLayer(nn.Module):
    """BN-ReLU-1x1 conv-BN-ReLU-3x3 conv on the concatenation of the inputs; returns growth_rate channels."""

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int, drop_rate: float,
                 memory_efficient: bool = False):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, *inputs):
        """(N, sum of C_i, H, W) concatenation -> BN -> ReLU -> 1x1 conv: (N, bn_size * growth_rate, H, W)."""
        return self.conv1(self.relu1(self.norm1(cat(list(inputs), 1))))

    def forward(self, features):
        inputs = [features] if not isinstance(features, (list, tuple)) else list(features)
        if self.memory_efficient and self.training:
            bottleneck = checkpoint(self.bn_function, *inputs, preserve_state_of=(self.norm1,))
        else:
            bottleneck = self.bn_function(*inputs)
        new_features = self.conv2(self.relu2(self.norm2(bottleneck)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.Module):
    """``num_layers`` dense layers (children ``denselayer1`` ...); returns the input and every output
    concatenated: (N, C + num_layers * growth_rate, H, W)."""

    def __init__(self, num_layers: int, num_input_features: int, bn_size: int, growth_rate: int,
                 drop_rate: float, memory_efficient: bool = False):
        super().__init__()
        for index in range(num_layers):
            layer = _DenseLayer(num_input_features + index * growth_rate, growth_rate=growth_rate, bn_size=bn_size,
                                drop_rate=drop_rate, memory_efficient=memory_efficient)
            self.add_module(f"denselayer{index + 1}", layer)

    def forward(self, init_features):
        features = [init_features]
        for layer in self.children():
            features.append(layer(features))
        return cat(features, 1)


class _Transition(nn.Sequential):
    """BN -> ReLU -> 1x1 conv to num_output_features -> 2x2 average pool (halves H and W)."""

    def __init__(self, num_input_features: int, num_output_features: int):
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(num_input_features))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1,
                                          bias=False))
        self.add_module("pool", nn.AvgPool2d(kernel_size=2, stride=2))


class DenseNet(nn.Module):
    """DenseNet-BC. Parameters for 1000 classes: densenet121 7,978,856; densenet161 28,681,000;
    densenet169 14,149,480; densenet201 20,013,928.

    Args:
        growth_rate: channels each layer adds (k in the paper).
        block_config: layers in each of the four dense blocks.
        num_init_features: channels of the stem's 7x7 convolution.
        bn_size: the bottleneck is bn_size * growth_rate channels wide.
        drop_rate: dropout after each dense layer.
        memory_efficient: recompute each layer's concatenation and bottleneck in backward (less memory,
            one more pass through each bottleneck); the results are the same.

    Shapes: (N, 3, H, W) -> (N, num_classes), canonically 224x224 (at least 29x29).
    Modules: ``features`` (conv0, norm0, relu0, pool0, denseblock1, transition1, ..., denseblock4,
    norm5) and ``classifier`` (Linear).
    """

    def __init__(self, growth_rate: int = 32, block_config=(6, 12, 24, 16), num_init_features: int = 64,
                 bn_size: int = 4, drop_rate: float = 0, num_classes: int = 1000, memory_efficient: bool = False):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3,
                                                    bias=False))
        self.features.add_module("norm0", nn.BatchNorm2d(num_init_features))
        self.features.add_module("relu0", nn.ReLU(inplace=True))
        self.features.add_module("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        channels = num_init_features
        for index, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers, channels, bn_size=bn_size, growth_rate=growth_rate, drop_rate=drop_rate,
                                memory_efficient=memory_efficient)
            self.features.add_module(f"denseblock{index + 1}", block)
            channels += num_layers * growth_rate
            if index != len(block_config) - 1:
                self.features.add_module(f"transition{index + 1}", _Transition(channels, channels // 2))
                channels //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)

        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.Linear):
                nn.init.constant_(module.bias, 0)

    def forward(self, x):
        features = self.features(x)                   # (N, 1024, 7, 7) for densenet121 at 224x224
        out = F.relu(features)
        out = F.adaptive_avg_pool2d(out, (1, 1)).flatten(1)
        return self.classifier(out)


def _densenet(growth_rate, block_config, num_init_features, **kwargs) -> DenseNet:
    return DenseNet(growth_rate, block_config, num_init_features, **kwargs)


def densenet121(num_classes: int = 1000, memory_efficient: bool = False, **kwargs) -> DenseNet:
    """DenseNet-121 (k = 32, blocks 6-12-24-16); see ``DenseNet``."""
    return _densenet(32, (6, 12, 24, 16), 64, num_classes=num_classes, memory_efficient=memory_efficient, **kwargs)


def densenet161(num_classes: int = 1000, memory_efficient: bool = False, **kwargs) -> DenseNet:
    """DenseNet-161 (k = 48, blocks 6-12-36-24, 96 stem channels); see ``DenseNet``."""
    return _densenet(48, (6, 12, 36, 24), 96, num_classes=num_classes, memory_efficient=memory_efficient, **kwargs)


def densenet169(num_classes: int = 1000, memory_efficient: bool = False, **kwargs) -> DenseNet:
    """DenseNet-169 (k = 32, blocks 6-12-32-32); see ``DenseNet``."""
    return _densenet(32, (6, 12, 32, 32), 64, num_classes=num_classes, memory_efficient=memory_efficient, **kwargs)


def densenet201(num_classes: int = 1000, memory_efficient: bool = False, **kwargs) -> DenseNet:
    """DenseNet-201 (k = 32, blocks 6-12-48-32); see ``DenseNet``."""
    return _densenet(32, (6, 12, 48, 32), 64, num_classes=num_classes, memory_efficient=memory_efficient, **kwargs)
