"""The initialization torchvision gives its mobile nets (MobileNet V1-V3, EfficientNet), in one place."""
from __future__ import annotations

from .. import nn


def small_normal(linear: nn.Linear) -> None:
    """N(0, 0.01^2) weights and zero bias: MobileNet's classifier."""
    nn.init.normal_(linear.weight, 0, 0.01)
    nn.init.zeros_(linear.bias)


def uniform_by_outputs(linear: nn.Linear) -> None:
    """U(-1/sqrt(out), 1/sqrt(out)) weights and zero bias: EfficientNet's classifier."""
    bound = 1.0 / linear.out_features ** 0.5
    nn.init.uniform_(linear.weight, -bound, bound)
    nn.init.zeros_(linear.bias)


def init_mobile_weights(model: nn.Module, init_linear=small_normal) -> None:
    """He-normal convolutions (fan_out, as the depthwise layers' fan-in is tiny), unit batch norm, and
    ``init_linear`` for the classifier, in module order (so a seed draws what it drew before)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            init_linear(module)
