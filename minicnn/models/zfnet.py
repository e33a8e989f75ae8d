"""ZFNet (Zeiler and Fergus, 2013, "Visualizing and Understanding Convolutional Networks").

Their deconvnet visualisations showed AlexNet's first layer had dead and aliased filters from its
large stride, so ZFNet uses 7x7 filters at stride 2 in conv1 (and stride 2 in conv2), keeping more
mid-frequency information. Otherwise it is AlexNet on one GPU: no grouped convolutions.

Where the accounts differ: Fig. 3 of the paper draws conv3-5 with 384, 384 and 256 filters; the
larger model of its Table 3 (and the version most courses teach as "ZFNet") widens them to 512, 1024
and 512, which is the default here (``conv_channels`` selects either). Fig. 3's map sizes (110, 55, 26,
13, 13, 13, 6 on a 224x224 crop) fix the paddings: 1 in conv1 and in the first two poolings.
"Contrast normalized across feature maps" is taken to be AlexNet's local response normalisation
(size 5, k 2, alpha 1e-4 per window, beta 0.75), applied after each of the first two poolings.
"""
from __future__ import annotations

from .. import nn
from .alexnet_original import paper_lrn

__all__ = ["ZFNet", "zfnet", "FIG3_CONV_CHANNELS", "TABLE3_CONV_CHANNELS"]

TABLE3_CONV_CHANNELS = (512, 1024, 512)
FIG3_CONV_CHANNELS = (384, 384, 256)


class ZFNet(nn.Module):
    """ZFNet: (N, 3, 224, 224) -> (N, num_classes); 107,627,624 parameters with the default channels
    (512-1024-512), 62,357,608 with Fig. 3's (384-384-256).

    Modules: ``features`` (convolutions at features.0, 4, 8, 10, 12) and ``classifier`` (as AlexNet's).
    """

    def __init__(self, num_classes: int = 1000, conv_channels=TABLE3_CONV_CHANNELS, dropout: float = 0.5):
        super().__init__()
        c3, c4, c5 = conv_channels
        self.last_channels = c5
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1),   # 110x110
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),       # 55x55
            paper_lrn(),
            nn.Conv2d(96, 256, kernel_size=5, stride=2),            # 26x26
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),       # 13x13
            paper_lrn(),
            nn.Conv2d(256, c3, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                  # 6x6
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(c5 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        if tuple(x.shape[1:]) != (self.last_channels, 6, 6):
            raise ValueError(f"ZFNet: expected 224x224 images (features of {self.last_channels}x6x6 for the "
                             f"classifier), got {x.shape[2]}x{x.shape[3]} feature maps")
        return self.classifier(x.flatten(1))


def zfnet(num_classes: int = 1000, conv_channels=TABLE3_CONV_CHANNELS, dropout: float = 0.5) -> ZFNet:
    """ZFNet (7x7/2 first layer, 512-1024-512 filters in conv3-5 by default); see ``ZFNet``."""
    return ZFNet(num_classes=num_classes, conv_channels=conv_channels, dropout=dropout)
