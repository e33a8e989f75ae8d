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
from .activation_extra import ELU, GELU, LogSigmoid, Mish, PReLU, Softmax2d, Softplus
from .containers_extra import ModuleDict, ParameterDict, ParameterList
from .conv_extra import Conv1d, ConvTranspose2d, Fold, Unfold
from .dropout_extra import AlphaDropout, Dropout1d, Dropout2d
from .layers_extra import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, Embedding, MaxPool1d, Unflatten
from .loss_extra import (BCELoss, BCEWithLogitsLoss, CosineSimilarity, HingeEmbeddingLoss, KLDivLoss, L1Loss,
                         PairwiseDistance, SmoothL1Loss, TripletMarginLoss)
from .normalization_extra import GroupNorm, InstanceNorm1d, InstanceNorm2d, LayerNorm
from .padding import (CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d,
                      ReplicationPad1d, ReplicationPad2d, ZeroPad1d, ZeroPad2d)
from .upsampling import PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .. import functional
from . import utils

import sys as _sys

# ``import minicnn.nn.functional as F`` (torch's spelling) finds minicnn.functional itself.
_sys.modules[__name__ + ".functional"] = functional

__all__ = [
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "CrossEntropyLoss", "Dropout", "Flatten", "Identity", "IncompatibleKeys", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU", "ReLU6",
    "Sequential", "Sigmoid", "Softmax", "StateDictError", "SyncBatchNorm", "Tanh", "init",
    "ELU", "GELU", "LogSigmoid", "Mish", "PReLU", "Softmax2d", "Softplus", "ModuleDict", "ParameterDict",
    "ParameterList", "Conv1d", "ConvTranspose2d", "Fold", "Unfold", "AlphaDropout", "Dropout1d", "Dropout2d",
    "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AvgPool1d", "Embedding", "MaxPool1d", "Unflatten", "BCELoss",
    "BCEWithLogitsLoss", "CosineSimilarity", "HingeEmbeddingLoss", "KLDivLoss", "L1Loss", "PairwiseDistance",
    "SmoothL1Loss", "TripletMarginLoss", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "LayerNorm",
    "CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
    "ReplicationPad1d", "ReplicationPad2d", "ZeroPad1d", "ZeroPad2d", "PixelShuffle", "PixelUnshuffle", "Upsample",
    "UpsamplingBilinear2d", "UpsamplingNearest2d", "functional", "utils",
]
__all__ += ["ChannelShuffle", "Hardsigmoid", "Hardswish", "LocalResponseNorm", "SiLU"]

from ..distributed.sync_batchnorm import SyncBatchNorm  # noqa: E402  (it builds on the layers above)
from . import parallel  # noqa: E402
