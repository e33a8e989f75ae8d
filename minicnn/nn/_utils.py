"""Small helpers shared by the layers: argument normalization and input checks."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Tensor
from . import init
from .parameter import Parameter


def pair(value, name: str = "argument") -> tuple:
    """``3`` -> ``(3, 3)``; a 2-sequence stays (as a tuple), as torch's ``_pair``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return tuple(value)
    return (value, value)


def check_rank(layer, input, ranks: tuple) -> None:
    """Raise a ValueError naming ``layer`` when ``input`` has none of the accepted numbers of dimensions."""
    if input.ndim not in ranks:
        wanted = " or ".join(f"{r}D" for r in ranks)
        raise ValueError(f"{layer!r}: expected {wanted} input, got {input.ndim}D input of shape {input.shape}")


def check_channels(layer, input, expected: int, axis: int, what: str = "channels") -> None:
    if input.shape[axis] != expected:
        raise ValueError(f"{layer!r}: expected input with {expected} {what}, got shape {input.shape}")


def empty_parameter_data(shape, device=None, dtype=None):
    """Zeros of ``shape`` on ``device`` (default cpu) in ``dtype`` (default float32), to be initialized."""
    xp = backend.array_module_for(device or "cpu")
    return xp.zeros(tuple(shape), dtype=np.float32 if dtype is None else np.dtype(dtype))


def register_affine(module, shape, affine: bool, bias: bool = True, device=None, dtype=None) -> None:
    """The ``weight`` (ones) and ``bias`` (zeros) a normalization layer scales and shifts by, one per
    element of ``shape``; registered as None when ``affine`` (or ``bias``) is off, as torch does."""
    if affine:
        module.weight = Parameter(empty_parameter_data(shape, device, dtype) + 1)
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(empty_parameter_data(shape, device, dtype))
    else:
        module.register_parameter("bias", None)


def register_running_stats(module, num_features: int, track: bool, device=None, dtype=None) -> None:
    """``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (an int64 0) as
    buffers when ``track`` is on, else the three registered as None (torch's names and start values)."""
    if track:
        xp = backend.array_module_for(device or "cpu")
        module.register_buffer("running_mean", Tensor(empty_parameter_data((num_features,), device, dtype)))
        module.register_buffer("running_var", Tensor(empty_parameter_data((num_features,), device, dtype) + 1))
        module.register_buffer("num_batches_tracked", Tensor(xp.zeros((), dtype=np.int64)))
    else:
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            module.register_buffer(name, None)


def reset_weight_and_bias(weight, bias) -> None:
    """PyTorch's default for Conv2d and Linear: weight ~ kaiming_uniform(a=sqrt(5)), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias drawn from the same range."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)
