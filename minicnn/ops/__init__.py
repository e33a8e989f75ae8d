"""Layers and functions of ``torchvision.ops`` the model zoo is built from, with torchvision's names."""
from .misc import Conv2dNormActivation, SqueezeExcitation
from .stochastic_depth import StochasticDepth, stochastic_depth

__all__ = ["Conv2dNormActivation", "SqueezeExcitation", "StochasticDepth", "stochastic_depth"]
