"""``minicnn.nn``: Module, Parameter and the layers, with PyTorch's names, arguments and defaults.

Layers are thin: they hold parameters and buffers, check their input, and call ``minicnn.functional``.
"""
from . import init
from .activation import LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid, Softmax, Tanh
from .activation_gated import Hardsigmoid, Hardswish, SiLU
from .channel_ops import ChannelShuffle, LocalResponseNorm
from .containers import ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .module import IncompatibleKeys, Module, StateDictError
from .normalization import BatchNorm1d, BatchNorm2d
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "CrossEntropyLoss", "Dropout", "Flatten", "Identity", "IncompatibleKeys", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU", "ReLU6",
    "Sequential", "Sigmoid", "Softmax", "StateDictError", "Tanh", "init",
]
__all__ += ["ChannelShuffle", "Hardsigmoid", "Hardswish", "LocalResponseNorm", "SiLU"]
