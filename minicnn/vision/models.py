"""``minicnn.vision.models``: the model zoo with torchvision's builder interface and weights enums.

    model = models.resnet18(weights=None, num_classes=10)
    models.ResNet18_Weights.DEFAULT.meta["num_params"]        # 11689512, as torchvision reports
    preprocess = models.ResNet18_Weights.IMAGENET1K_V1.transforms()

minicnn downloads no checkpoints: asking for pretrained weights raises one RuntimeError saying how to
convert the torchvision checkpoint offline with ``examples/convert_torch_weights.py``.
"""
from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .. import models as _zoo
from ..models import *  # noqa: F401,F403 - the classes and builders of minicnn.models
from ..models import get_model as _get_model
from ..models import list_models
from .weights_table import WEIGHTS

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_CATEGORIES: list = []


def imagenet_categories() -> list:
    """The 1000 ImageNet-1K class names in index order (read once from the bundled list)."""
    if not _CATEGORIES:
        _CATEGORIES.extend(Path(__file__).with_name("imagenet_categories.txt").read_text().splitlines())
    return _CATEGORIES


@dataclass(frozen=True)
class Weights:
    """One published checkpoint: where torchvision keeps it, its evaluation transform and its metadata."""

    url: str
    crop_size: int
    resize_size: int
    meta: dict = field(hash=False, compare=False)

    def transforms(self):
        """The evaluation preprocessing: resize, centre crop, to [0, 1], ImageNet normalization."""
        from ..data import transforms as T

        return T.Compose([T.Resize(self.resize_size), T.CenterCrop(self.crop_size), T.ToTensor(),
                          T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


class WeightsEnum(enum.Enum):
    """Base of the ``*_Weights`` enums: members are ``Weights``; ``DEFAULT`` names the recommended one."""

    @classmethod
    def verify(cls, obj):
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            name = obj.replace(cls.__name__ + ".", "")
            try:
                return cls[name]
            except KeyError:
                raise ValueError(f"Failed to find Weights {obj!r} in {cls.__name__}; known: "
                                 f"{', '.join(cls.__members__)}") from None
        raise TypeError(f"Invalid Weights class provided; expected {cls.__name__} but received {type(obj).__name__}")

    @property
    def url(self):
        return self.value.url

    @property
    def meta(self):
        return self.value.meta

    def transforms(self):
        return self.value.transforms()

    def get_state_dict(self, *args, **kwargs):
        raise RuntimeError(_conversion_message(_BUILDER_OF[type(self).__name__], self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


# weights enum -> the builder it belongs to (only builders minicnn.models has)
_BUILDER_OF = {
    "AlexNet_Weights": "alexnet", "GoogLeNet_Weights": "googlenet", "MobileNet_V2_Weights": "mobilenet_v2",
    "ResNet18_Weights": "resnet18", "ResNet34_Weights": "resnet34", "ResNet50_Weights": "resnet50",
    "ResNet101_Weights": "resnet101", "ResNet152_Weights": "resnet152", "ResNeXt50_32X4D_Weights": "resnext50_32x4d",
    "ResNeXt101_32X8D_Weights": "resnext101_32x8d", "Wide_ResNet50_2_Weights": "wide_resnet50_2",
    **{f"VGG{depth}{bn.upper()}_Weights": f"vgg{depth}{bn}" for depth in (11, 13, 16, 19) for bn in ("", "_bn")},
}


def _make_enum(name: str):
    default, entries = WEIGHTS[name]
    members = {}
    for entry, (url, crop, resize, params, top1, top5) in entries.items():
        meta = {"categories": imagenet_categories(), "min_size": (1, 1), "num_params": params,
                "_metrics": {"ImageNet-1K": {"acc@1": top1, "acc@5": top5}}}
        members[entry] = Weights(url, crop, resize, meta)
    enum_class = WeightsEnum(name, members)
    # DEFAULT is an alias of the recommended member (Enum aliases share the member object).
    enum_class._member_map_["DEFAULT"] = enum_class[default]
    return enum_class


def _conversion_message(builder: str, weights) -> str:
    url = weights.url if isinstance(weights, WeightsEnum) else "<the torchvision .pth file>"
    file = url.rsplit("/", 1)[-1]
    return (f"{builder}: minicnn does not download pretrained weights ({weights!r}). Convert the torchvision "
            f"checkpoint offline instead:\n"
            f"  1. on a machine with torch, download {url}\n"
            f"  2. python examples/convert_torch_weights.py {builder} {file} {builder}.minicnn\n"
            f"  3. model = minicnn.vision.models.{builder}(); "
            f"model.load_state_dict(minicnn.load('{builder}.minicnn'))")


def _builder(builder: str, weights_enum):
    def build(*, weights=None, progress: bool = True, pretrained: bool = False, **kwargs):
        if pretrained:
            warnings.warn("The parameter 'pretrained' is deprecated, please use 'weights' instead.", UserWarning,
                          stacklevel=2)
            weights = weights_enum.DEFAULT if weights_enum is not None else "pretrained"
        if weights is not None:
            weights = weights_enum.verify(weights) if weights_enum is not None else weights
            raise RuntimeError(_conversion_message(builder, weights))
        return _get_model(builder, **kwargs)

    build.__name__ = build.__qualname__ = builder
    build.__doc__ = (f"``{builder}`` of minicnn.models with torchvision's interface: ``weights`` must be None "
                     f"(see the module docstring for converting a checkpoint); other keyword arguments, such as "
                     f"``num_classes``, go to the model.")
    return build


_enums = {name: _make_enum(name) for name in WEIGHTS if name in _BUILDER_OF}
globals().update(_enums)
_weights_of_builder = {_BUILDER_OF[name]: cls for name, cls in _enums.items()}
for _name in list_models():
    globals()[_name] = _builder(_name, _weights_of_builder.get(_name))


def get_model(name: str, *, weights=None, **config):
    """Build a model by name, with the builders' ``weights=`` rule."""
    return globals()[name.lower()](weights=weights, **config) if name.lower() in list_models() else _get_model(name)


def get_model_weights(name):
    """The weights enum of a builder (by name or the builder itself)."""
    key = name if isinstance(name, str) else name.__name__
    if key not in _weights_of_builder:
        raise ValueError(f"get_model_weights: no published weights for {key!r}")
    return _weights_of_builder[key]


def get_weight(name: str):
    """``get_weight("ResNet18_Weights.IMAGENET1K_V1")``."""
    enum_name, _, entry = name.partition(".")
    if enum_name not in _enums:
        raise ValueError(f"get_weight: unknown weights enum {enum_name!r}")
    return _enums[enum_name].verify(entry)


__all__ = sorted(set(_zoo.__all__) | set(_enums) | {"Weights", "WeightsEnum", "get_model", "get_model_weights",
                                                      "get_weight", "list_models"})
