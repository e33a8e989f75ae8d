"""Channel dropout for 1-D and 2-D feature maps, and AlphaDropout for SELU networks."""
from __future__ import annotations

from .. import functional as F
from .dropout import Dropout


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) / (C, L) with probability p; identity in eval mode."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """Zero whole feature maps of (N, C, H, W) with probability p; identity in eval mode."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class AlphaDropout(Dropout):
    """Dropout that keeps self-normalizing activations' mean and variance; identity in eval mode."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)
