"""conv2d, the function users call: its argument checks, and the Function that runs the reference or an engine."""
from __future__ import annotations

import numbers

from ...autograd import Function, Tensor
from ..pairs import int_pair
from . import reference
from .engines import CONV_ENGINES
from .geometry import ConvGeometry

__all__ = ["conv2d"]


class Conv2d(Function):
    """y = conv2d(x, w) + b on raw arrays: the reference im2col + GEMM (``reference.py``), or the first
    engine of ``CONV_ENGINES`` that applies (``engines/__init__.py``), which computes the same numbers."""

    def forward(self, x, weight, bias, geometry):
        self.engine = CONV_ENGINES.choose(geometry, x)
        if self.engine is not None:
            out, self.saved_by_engine = self.engine.forward(x, weight, bias, geometry)
            return out
        self.x_nhwc, self.weight, self.geometry, self.has_bias = reference.to_nhwc(x), weight, geometry, bias is not None
        out = reference.forward(self.x_nhwc, weight, bias, geometry)  # Y = im2col(x) . W + b, (N, OH, OW, O)
        return out.transpose(0, 3, 1, 2)  # NCHW view of NHWC memory

    def backward(self, grad_output):
        need_x, need_w, need_b = self.needs_input_grad[:3]
        if self.engine is not None:
            return self.engine.backward(self.saved_by_engine, grad_output, (need_x, need_w, need_b))
        grad_nhwc = reference.to_nhwc(grad_output)  # a free view when dY came from a channels-last op
        grad_bias = reference.bias_grad(grad_nhwc) if need_b and self.has_bias else None  # db = sum of dY's rows
        grad_weight = reference.weight_grad(self.x_nhwc, grad_nhwc, self.geometry) if need_w else None  # cols^T.dY
        grad_x = None
        if need_x:  # dX = col2im(dY . W^T)
            grad_x = reference.input_grad(grad_nhwc, self.weight, self.geometry).transpose(0, 3, 1, 2)
        return grad_x, grad_weight, grad_bias


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as torch), ``torch.nn.functional.conv2d``'s arguments.

    Args:
        input: (N, C_in, H, W).
        weight: (C_out, C_in / groups, KH, KW).
        bias: (C_out,) or None.
        stride, dilation: int or (h, w) pair, positive.
        padding: int or (h, w) pair of zeros added on both sides, or ``"valid"`` (none) or ``"same"``
            (output size = input size, stride 1 only; an odd total goes one more to the bottom/right).
        groups: C_in and C_out split into this many independent groups.

    Returns:
        (N, C_out, OH, OW) with OH = floor((H + 2*pad_h - dilation_h*(KH-1) - 1) / stride_h) + 1, an
        NCHW view of channels-last memory.
    """
    _check_tensors(input, weight, bias)
    stride = int_pair("conv2d", "stride", stride, minimum=1)
    dilation = int_pair("conv2d", "dilation", dilation, minimum=1)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive integer, got {groups!r}")
    groups = int(groups)
    in_channels, out_channels = input.shape[1], weight.shape[0]
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"conv2d: groups={groups} must divide both the input channels ({in_channels}) and the "
            f"output channels ({out_channels})"
        )
    if weight.shape[1] * groups != in_channels:
        raise ValueError(
            f"conv2d: weight of shape {weight.shape} with groups={groups} expects "
            f"{weight.shape[1] * groups} input channels, got input of shape {input.shape} "
            f"with {in_channels}"
        )
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"conv2d: bias must have shape ({out_channels},), got {bias.shape}")
    kernel = weight.shape[2:]
    padding = _resolve_padding(padding, kernel, stride, dilation)
    padded = (input.shape[2] + padding[0] + padding[1], input.shape[3] + padding[2] + padding[3])
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if reach[0] > padded[0] or reach[1] > padded[1]:
        raise ValueError(
            f"conv2d: the (dilated) kernel of size {reach} is larger than the padded input of size {padded} "
            f"(input {input.shape}, weight {weight.shape}, padding {padding}, dilation {dilation})"
        )
    geometry = ConvGeometry(tuple(input.shape), tuple(weight.shape), stride, padding, dilation, groups)
    return Conv2d.apply(input, weight, bias, geometry=geometry)


def _check_tensors(input, weight, bias):
    for name, value in (("input", input), ("weight", weight), ("bias", bias)):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"conv2d: {name} must be a Tensor, got {type(value).__name__}")
    if input.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D input (N, C, H, W), got shape {input.shape}")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D weight (C_out, C_in/groups, KH, KW), got shape {weight.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"conv2d: expected a floating point input, got dtype {input.dtype}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.dtype != input.dtype:
            raise TypeError(f"conv2d: {name} dtype {value.dtype} does not match input dtype {input.dtype}")


def _resolve_padding(padding, kernel, stride, dilation):
    """torch's padding argument as (top, bottom, left, right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
        # Total d*(k-1) split in two; the odd unit goes to the bottom/right, as torch does.
        total_h, total_w = (d * (k - 1) for k, d in zip(kernel, dilation))
        return total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2
    pad_h, pad_w = int_pair("conv2d", "padding", padding, minimum=0)
    return pad_h, pad_h, pad_w, pad_w
