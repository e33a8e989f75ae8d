"""The classic CNNs, with torchvision's module and parameter names (so state_dict keys are equal).

    from minicnn.models import resnet18, get_model, list_models
    model = resnet18(num_classes=10, cifar=True)
    model = get_model("mobilenet_v2", num_classes=10)

Families: lenet (lenet5, lenet), alexnet, vgg (vgg11..vgg19, *_bn), googlenet, resnet (resnet18..152,
resnext50_32x4d, resnext101_32x8d, wide_resnet50_2), mobilenet (mobilenet_v2), zfnet, alexnet_original,
squeezenet (squeezenet1_0, squeezenet1_1), densenet (densenet121, 161, 169, 201), inception (inception_v3),
mobilenet_v1, mobilenet_v3 (mobilenet_v3_small, mobilenet_v3_large), shufflenet (shufflenet_v2_x0_5 ..
x2_0) and efficientnet (efficientnet_b0). Pretrained PyTorch
weights load with ``minicnn.models.torch_weights.load_torch_state_dict``.
"""
# The builders are imported after their modules, so ``minicnn.models.alexnet`` is the function (as in
# torchvision), not the module of the same name.
from .alexnet import AlexNet, alexnet
from .googlenet import BasicConv2d, GoogLeNet, GoogLeNetOutputs, Inception, InceptionAux, googlenet
from .lenet import LeNet, LeNet5, lenet, lenet5
from .mobilenet import InvertedResidual, MobileNetV2, mobilenet_v2
from .registry import get_model, list_models
from .resnet import (
    BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d,
    resnext101_32x8d, wide_resnet50_2,
)
from .torch_weights import convert_torch_state_dict, load_torch_state_dict
from .alexnet_original import AlexNetOriginal, alexnet_original
from .densenet import DenseNet, densenet121, densenet161, densenet169, densenet201
from .efficientnet import EfficientNet, efficientnet_b0
from .inception import Inception3, InceptionOutputs, inception_v3
from .mobilenet_v1 import MobileNetV1, mobilenet_v1
from .mobilenet_v3 import MobileNetV3, mobilenet_v3_large, mobilenet_v3_small
from .shufflenet import ShuffleNetV2, shufflenet_v2_x0_5, shufflenet_v2_x1_0, shufflenet_v2_x1_5, shufflenet_v2_x2_0
from .squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from .zfnet import ZFNet, zfnet
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

__all__ = [
    "AlexNet", "BasicBlock", "BasicConv2d", "Bottleneck", "GoogLeNet", "GoogLeNetOutputs", "Inception",
    "InceptionAux", "InvertedResidual", "LeNet", "LeNet5", "MobileNetV2", "ResNet", "VGG",
    "alexnet", "convert_torch_state_dict", "get_model", "googlenet", "lenet", "lenet5", "list_models",
    "load_torch_state_dict", "mobilenet_v2", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "resnext50_32x4d", "resnext101_32x8d", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
    "vgg19", "vgg19_bn", "wide_resnet50_2",
]
__all__ += [
    "AlexNetOriginal", "DenseNet", "EfficientNet", "Inception3", "InceptionOutputs", "MobileNetV1", "MobileNetV3",
    "ShuffleNetV2", "SqueezeNet", "ZFNet", "alexnet_original", "densenet121", "densenet161", "densenet169",
    "densenet201", "efficientnet_b0", "inception_v3", "mobilenet_v1", "mobilenet_v3_large", "mobilenet_v3_small",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "squeezenet1_0",
    "squeezenet1_1", "zfnet",
]
