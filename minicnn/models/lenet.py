"""LeNet-5 (LeCun et al., 1998) and the small LeNet of PyTorch's "training a classifier" tutorial.

Both are two 5x5 convolutions, each followed by a 2x2 pooling, then three fully connected layers. They
are small enough to train on a laptop CPU in minutes, which makes them the first models to try.
"""
from __future__ import annotations

from .. import nn

__all__ = ["LeNet5", "LeNet", "lenet5", "lenet"]


class LeNet5(nn.Module):
    """LeNet-5: conv 6@5x5 -> pool -> conv 16@5x5 -> pool -> fc 120 -> fc 84 -> fc ``num_classes``.

    Args:
        num_classes: size of the last layer.
        in_channels: 1 for grey digits (the original), 3 for colour images.
        input_size: height = width of the input. The network was designed for 32x32; for 28x28 inputs
            (MNIST) the first convolution pads by 2, so the feature maps keep the classic sizes
            (28 -> 14 -> 10 -> 5). Other sizes work too, the first fully connected layer adapts.
        classic: False (default) uses ReLU and max-pooling, the modern choice that trains faster;
            True uses tanh and average pooling, closer to the 1998 network (whose subsampling layers
            also had trainable coefficients and whose C3 layer was sparsely connected, both left out).

    Shapes: input (N, in_channels, input_size, input_size) -> logits (N, num_classes).
    Modules: ``features`` (Sequential of conv, activation, pool, conv, activation, pool) and
    ``classifier`` (Sequential of Linear, activation, Linear, activation, Linear).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 32, classic: bool = False):
        super().__init__()
        padding = 2 if input_size == 28 else 0
        feature_size = ((input_size + 2 * padding - 4) // 2 - 4) // 2
        if feature_size < 1:
            raise ValueError(f"LeNet5: input_size {input_size} is too small, it needs at least 16 pixels")
        activation = nn.Tanh if classic else nn.ReLU
        pool = nn.AvgPool2d if classic else nn.MaxPool2d
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding),
            activation(),
            pool(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            activation(),
            pool(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * feature_size * feature_size, 120),
            activation(),
            nn.Linear(120, 84),
            activation(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = x.flatten(1)
        return self.classifier(x)


class LeNet(nn.Module):
    """The LeNet variant of PyTorch's CIFAR-10 tutorial, a little wider: for 3x32x32 images.

    conv 3->16 5x5 -> ReLU -> max-pool 2 -> conv 16->32 5x5 -> ReLU -> max-pool 2 -> fc 800 -> 120 -> 84
    -> ``num_classes``. Shapes: (N, 3, 32, 32) -> (N, num_classes).
    """

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5)
        self.relu = nn.ReLU()
        self.fc1 = nn.Linear(32 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = x.flatten(1)
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.fc3(x)


def lenet5(num_classes: int = 10, in_channels: int = 1, input_size: int = 32, classic: bool = False) -> LeNet5:
    """LeNet-5 for (N, in_channels, input_size, input_size) images; see ``LeNet5``."""
    return LeNet5(num_classes=num_classes, in_channels=in_channels, input_size=input_size, classic=classic)


def lenet(num_classes: int = 10) -> LeNet:
    """The tutorial LeNet for (N, 3, 32, 32) images; see ``LeNet``."""
    return LeNet(num_classes=num_classes)
