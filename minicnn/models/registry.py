"""Build any model of the zoo by name: ``get_model("resnet18", num_classes=10)``, ``list_models()``."""
from __future__ import annotations

import importlib

__all__ = ["get_model", "list_models", "MODEL_FAMILIES"]

# builder name -> the module of minicnn.models that defines it (imported only when asked for)
MODEL_FAMILIES = {
    "lenet5": "lenet",
    "lenet": "lenet",
    "alexnet": "alexnet",
    "vgg11": "vgg",
    "vgg13": "vgg",
    "vgg16": "vgg",
    "vgg19": "vgg",
    "vgg11_bn": "vgg",
    "vgg13_bn": "vgg",
    "vgg16_bn": "vgg",
    "vgg19_bn": "vgg",
    "googlenet": "googlenet",
    "resnet18": "resnet",
    "resnet34": "resnet",
    "resnet50": "resnet",
    "resnet101": "resnet",
    "resnet152": "resnet",
    "resnext50_32x4d": "resnet",
    "resnext101_32x8d": "resnet",
    "wide_resnet50_2": "resnet",
    "mobilenet_v2": "mobilenet",
    "zfnet": "zfnet",
    "alexnet_original": "alexnet_original",
    "squeezenet1_0": "squeezenet",
    "squeezenet1_1": "squeezenet",
    "densenet121": "densenet",
    "densenet161": "densenet",
    "densenet169": "densenet",
    "densenet201": "densenet",
    "inception_v3": "inception",
    "mobilenet_v1": "mobilenet_v1",
    "mobilenet_v3_small": "mobilenet_v3",
    "mobilenet_v3_large": "mobilenet_v3",
    "shufflenet_v2_x0_5": "shufflenet",
    "shufflenet_v2_x1_0": "shufflenet",
    "shufflenet_v2_x1_5": "shufflenet",
    "shufflenet_v2_x2_0": "shufflenet",
    "efficientnet_b0": "efficientnet",
}


def list_models() -> list[str]:
    """The names ``get_model`` accepts, sorted."""
    return sorted(MODEL_FAMILIES)


def get_model(name: str, **kwargs):
    """A freshly initialised model: ``get_model("vgg16_bn", num_classes=10)``.

    Keyword arguments go to the builder (e.g. ``num_classes``, ``cifar`` for ResNets, ``width_mult`` for
    MobileNetV2). Raises ValueError naming the known models when ``name`` is not one of them.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in MODEL_FAMILIES:
        raise ValueError(f"get_model: unknown model {name!r}; known models: {', '.join(list_models())}")
    family = importlib.import_module(f"{__package__}.{MODEL_FAMILIES[key]}")
    return getattr(family, key)(**kwargs)
