"""The original two-GPU AlexNet (Krizhevsky, Sutskever and Hinton, 2012), with its grouped convolutions
and local response normalisation.

The network was split over two GTX 580s with 3 GB each: every layer's kernels are halved between the
GPUs, and conv2, conv4 and conv5 see only the feature maps on their own GPU. On one device that is a
convolution with ``groups=2`` (each half of the output channels sees one half of the input channels),
which also halves those layers' weights. conv3 and the fully connected layers connect across the GPUs.

Layer by layer on a 227x227 input (the paper says 224, but only 227 gives its 55x55 first maps):
conv1 96 11x11/4 -> 55x55 -> ReLU -> LRN -> max pool 3/2 -> 27x27; conv2 256 5x5 pad 2, 2 groups ->
ReLU -> LRN -> pool -> 13x13; conv3 384 3x3; conv4 384 3x3, 2 groups; conv5 256 3x3, 2 groups -> pool
-> 6x6; fc 4096 -> fc 4096 -> fc 1000, dropout 0.5 before the first two. 60,965,224 parameters.

LRN: the paper's k = 2, n = 5, alpha = 1e-4, beta = 0.75 with alpha multiplying the plain sum of
squares; torch's (and minicnn's) ``LocalResponseNorm`` divides alpha by n, so alpha = 5 * 1e-4 here.
"""
from __future__ import annotations

from .. import nn

__all__ = ["AlexNetOriginal", "alexnet_original"]

INPUT_SIZE = 227


def paper_lrn():
    """The 2012 paper's response normalisation (alpha given per window, so n * 1e-4 in torch's terms)."""
    return nn.LocalResponseNorm(size=5, alpha=5 * 1e-4, beta=0.75, k=2.0)


class AlexNetOriginal(nn.Module):
    """AlexNet as in the 2012 paper: (N, 3, 227, 227) -> (N, num_classes).

    Modules: ``features`` (conv, ReLU, LRN, pooling; the convolutions are features.0, 4, 8, 10, 12) and
    ``classifier`` (Dropout, Linear 9216 -> 4096, ReLU, Dropout, Linear 4096 -> 4096, ReLU, Linear).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4),             # 55x55
            nn.ReLU(inplace=True),
            paper_lrn(),
            nn.MaxPool2d(kernel_size=3, stride=2),                  # 27x27 (overlapping pooling)
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2),
            nn.ReLU(inplace=True),
            paper_lrn(),
            nn.MaxPool2d(kernel_size=3, stride=2),                  # 13x13
            nn.Conv2d(256, 384, kernel_size=3, padding=1),          # across both towers
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                  # 6x6
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        if tuple(x.shape[1:]) != (256, 6, 6):
            raise ValueError(f"AlexNetOriginal: expected {INPUT_SIZE}x{INPUT_SIZE} images (features of 256x6x6 "
                             f"for the classifier), got {x.shape[2]}x{x.shape[3]} feature maps")
        return self.classifier(x.flatten(1))


def alexnet_original(num_classes: int = 1000, dropout: float = 0.5) -> AlexNetOriginal:
    """The 2012 AlexNet (grouped convolutions, LRN, 227x227 input); see ``AlexNetOriginal``."""
    return AlexNetOriginal(num_classes=num_classes, dropout=dropout)
