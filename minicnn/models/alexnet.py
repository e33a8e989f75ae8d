"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012), in the single-tower form torchvision ships.

This is the variant of "One weird trick..." (Krizhevsky, 2014): 64-192-384-256-256 filters instead of
the paper's 96-256-384-384-256 split over two GPUs, and no local response normalisation. Module and
parameter names match torchvision, so its pretrained weights load with
``minicnn.models.torch_weights.load_torch_state_dict``.
"""
from __future__ import annotations

from .. import nn

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """Five convolutions then three fully connected layers; 61,100,840 parameters for 1000 classes.

    Shapes: (N, 3, H, W) -> (N, num_classes), canonically H = W = 224; any H, W >= 63 works since
    ``avgpool`` (adaptive, to 6x6) fixes the classifier's input at 256 * 6 * 6.
    Modules: ``features``, ``avgpool``, ``classifier`` (dropout before the first two Linear layers).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)


def alexnet(num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """AlexNet (torchvision's layout and default PyTorch layer initialisation); see ``AlexNet``."""
    return AlexNet(num_classes=num_classes, dropout=dropout)
