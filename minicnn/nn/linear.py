"""``Linear`` (y = x W^T + b) and ``Identity``."""
from __future__ import annotations

from .. import argcheck
from .. import functional as F
from ._utils import check_channels, empty_parameter_data, reset_weight_and_bias
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """y = x W^T + b over (*, in_features) -> (*, out_features).

    weight: (out_features, in_features); bias: (out_features,). Initialized as PyTorch:
    weight ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), bias ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features = argcheck.integer(type(self).__name__, "in_features", in_features, 0)
        self.out_features = argcheck.integer(type(self).__name__, "out_features", out_features, 0)
        self.weight = Parameter(empty_parameter_data((out_features, in_features), device, dtype))
        if bias:
            self.bias = Parameter(empty_parameter_data((out_features,), device, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        if input.ndim == 0:
            raise ValueError(f"{self!r}: expected input of shape (*, {self.in_features}), got a 0-d tensor")
        check_channels(self, input, self.in_features, axis=-1, what="features in its last dimension")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder that keeps a model's structure and state_dict keys)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input
