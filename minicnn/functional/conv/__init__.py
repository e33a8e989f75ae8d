"""2-D convolution (``conv2d``) by im2col + one matrix product, with hand-written backward.

Layout. The public tensors are NCHW, as in torch, but the computation runs channels-last (NHWC):

    forward   x (N,C,H,W) -> NHWC x -> cols (N*OH*OW, KH*KW*C) -> Y = cols . W   (N*OH*OW, O)

``Y`` is already the output in NHWC memory; it is returned as an NCHW *view* of that memory (no copy).
When the next convolution receives such a view, its NCHW -> NHWC step is free, so a chain of convs
stays channels-last (like torch's ``channels_last`` memory format). Elementwise ops work on the view
as on any array, and numpy keeps their results channels-last too.

Backward, with dY seen as the matrix (N*OH*OW, O):

    db = sum over rows of dY
    dW = cols^T . dY
    dX = col2im(dY . W^T)          (each row of d(cols) is added back onto its receptive field)

``cols`` is KH*KW times larger than the input, so it is not kept for backward: the NHWC input is kept
and ``cols`` rebuilt from it. For the 17 convolutions of a CIFAR ResNet-18 at batch 32 this cuts the
peak memory of a training step 3.6x (192 MB instead of 688 MB) for a time within a few percent of
keeping it: the rebuilt ``cols`` and ``d(cols)`` share one scratch buffer reused from call to call
(no fresh pages to fault in), while kept ones each need fresh memory
(``python benchmarks/bench_conv.py --memory``; benchmarks/results/conv.md).

Depthwise convolutions (one input channel per group) would be C products of inner size KH*KW; they
run instead as loops over the kernel positions (``depthwise.py``). 1x1 stride-1 convolutions need no
im2col at all: the NHWC input already is ``cols``.

On the CPU, convolutions above a small size take ``conv_split.py`` instead: the same math in chunks
of images, each chunk's ``cols`` small enough to stay in cache, on every core; 3x3 stride-1 ones there
run by Winograd's algorithm (``winograd.py``). Stride-1 layers with few channels (LeNet's, a CIFAR
ResNet's stem), whose im2col product is mostly data movement, run without im2col (``conv_direct.py``).
The whole-batch code below serves GPUs and the remaining small layers.
"""
from __future__ import annotations

import numbers

from ... import backend
from ...autograd import Function, Tensor
from ...cpu.scratch import scratch
from ..layout import channels_last
from .engines import direct as conv_direct, split as conv_split
from .engines.depthwise import depthwise_forward, depthwise_input_grad, depthwise_weight_grad
from .im2col import col2im, im2col, im2col_transposed, is_pointwise, output_shape
from .weight_layout import group_rows, ungroup, weight_from_rows, weight_matrix

__all__ = ["conv2d", "im2col", "col2im"]


# ----------------------------------------------------------------------------------------------
# The Function
# ----------------------------------------------------------------------------------------------

class Conv2d(Function):
    """y = conv2d(x, w) + b on raw arrays; ``padding`` is (top, bottom, left, right), the rest pairs.

    Four ways to compute it: depthwise convolutions loop over kernel positions (``depthwise.py``);
    on the CPU, stride-1 convolutions with few channels run directly on the padded input planes
    (``conv_direct.py``), and a large enough convolution runs in chunks of images on every core,
    3x3 stride-1 ones by Winograd's algorithm (``conv_split.py``, ``winograd.py``); everything else,
    and every convolution on a GPU, is the whole-batch im2col product below.
    """

    def forward(self, x, weight, bias, stride, padding, dilation, groups):
        xp = backend.get_array_module(x)
        n, in_channels = x.shape[:2]
        out_channels, _, kh, kw = weight.shape
        self.weight, self.has_bias = weight, bias is not None
        self.geometry = ((kh, kw), stride, dilation, padding, groups)
        self.direct = conv_direct.applies(x, weight.shape, stride, groups)
        if self.direct:  # reads x in whatever layout it has, and adds the bias itself
            self.x = x
            return conv_direct.forward(x, weight, bias, (kh, kw), dilation, padding)
        # NHWC memory; free when x is the NCHW view a previous conv returned.
        x_nhwc = xp.ascontiguousarray(x.transpose(0, 2, 3, 1))
        self.x_nhwc = x_nhwc
        oh, ow = output_shape(x_nhwc.shape, (kh, kw), stride, dilation, padding)

        if _is_depthwise(in_channels, groups):
            out = depthwise_forward(x_nhwc, weight, stride, dilation, padding)  # (N, OH, OW, O)
        elif self._split(x_nhwc, weight, oh * ow):
            # the Winograd-transformed weight (16/9 of the weight's size) is kept for backward
            out, self.split_saved = conv_split.split_forward(x_nhwc, weight, (n, oh, ow, out_channels),
                                                             *self.geometry)
        elif self._few_channels():
            cols_t = im2col_transposed(x_nhwc, (kh, kw), stride, dilation, padding,  # (KH*KW*C, N*OH*OW)
                                       out=self._cols_buffer(xp, (oh, ow), transposed=True))
            out = backend.matmul(cols_t.T, weight_matrix(weight, 1)[0]).reshape(n, oh, ow, out_channels)
        else:
            cols = im2col(x_nhwc, (kh, kw), stride, dilation, padding, groups,  # (G, N*OH*OW, KH*KW*C/G)
                          out=self._cols_buffer(xp, (oh, ow)))
            out = ungroup(backend.matmul(cols, weight_matrix(weight, groups)))  # (N*OH*OW, O)
            out = out.reshape(n, oh, ow, out_channels)
        if bias is not None:
            out += bias  # broadcast over the last (channel) axis of the NHWC output
        return out.transpose(0, 3, 1, 2)

    def backward(self, grad_output):
        xp = backend.get_array_module(grad_output)
        need_x, need_w, need_b = self.needs_input_grad[:3]
        kernel, stride, dilation, padding, groups = self.geometry
        if self.direct:
            grad_weight, grad_x = conv_direct.backward(self.x, grad_output, self.weight, kernel, dilation, padding,
                                                       need_w, need_x)
            grad_bias = _bias_grad(grad_output) if need_b and self.has_bias else None
            return grad_x, grad_weight, grad_bias
        x_nhwc, weight = self.x_nhwc, self.weight
        out_channels = grad_output.shape[1]
        # dY as NHWC; a free view when it came from a channels-last op, else one copy.
        grad_nhwc = xp.ascontiguousarray(grad_output.transpose(0, 2, 3, 1))

        # db[o] = sum over n, oh, ow of dY[n, o, oh, ow]
        grad_bias = backend.column_sums(grad_nhwc.reshape(-1, out_channels)) if need_b and self.has_bias else None
        grad_weight = grad_x = None
        if _is_depthwise(x_nhwc.shape[3], groups):
            if need_w:
                grad_weight = depthwise_weight_grad(x_nhwc, grad_nhwc, weight.shape, stride, dilation, padding)
            if need_x:
                grad_x = depthwise_input_grad(grad_nhwc, weight, x_nhwc.shape, stride, dilation, padding)
        elif self._split(x_nhwc, weight, grad_nhwc.shape[1] * grad_nhwc.shape[2]):
            grad_weight, grad_x = conv_split.split_backward(x_nhwc, grad_nhwc, weight, *self.geometry,
                                                            need_w, need_x, getattr(self, "split_saved", None))
        else:
            grad_rows = group_rows(grad_nhwc.reshape(-1, out_channels), groups)  # (G, N*OH*OW, O/G)
            # cols and d(cols) take turns in one scratch buffer: cols is dead once dW is made.
            if need_w and self._few_channels():  # dW = cols^T . dY, from cols built transposed
                cols_t = im2col_transposed(x_nhwc, kernel, stride, dilation, padding,
                                           out=self._cols_buffer(xp, grad_nhwc.shape[1:3], transposed=True))
                grad_weight = weight_from_rows(backend.matmul(grad_rows[0].T, cols_t.T)[None], weight.shape)
                del cols_t
            elif need_w:
                cols = im2col(x_nhwc, kernel, stride, dilation, padding, groups,  # rebuilt, not saved
                              out=self._cols_buffer(xp, grad_nhwc.shape[1:3]))
                # dW = cols^T . dY, per group, made transposed: dW^T = dY^T . cols
                grad_weight = weight_from_rows(backend.matmul(grad_rows.transpose(0, 2, 1), cols), weight.shape)
                del cols
            if need_x:
                # d(cols) = dY . W^T, then every row of d(cols) is added back onto its receptive field
                # (the weight matrix is remade rather than kept from forward: keeping a copy of every
                # weight raised the peak memory of a CIFAR ResNet-18 step at batch 32 from 192 to 218 MB)
                grad_cols = backend.matmul(grad_rows, weight_matrix(weight, groups).transpose(0, 2, 1),
                                           out=self._cols_buffer(xp, grad_nhwc.shape[1:3]))
                grad_x = col2im(grad_cols, x_nhwc.shape, kernel, stride, dilation, padding)
        grad_input = None if grad_x is None else grad_x.transpose(0, 3, 1, 2)  # NCHW view of NHWC memory
        return grad_input, grad_weight, grad_bias

    def _pointwise(self):
        kernel, stride, _, padding, groups = self.geometry
        return is_pointwise(kernel, stride, padding, groups)  # then cols is x_nhwc, d(cols) is dX

    def _split(self, x_nhwc, weight, output_pixels):
        return conv_split.worth_splitting(x_nhwc, weight.shape, x_nhwc.shape[0] * output_pixels)

    def _few_channels(self):
        """1 to 3 input channels (a network's first layer): cols is built transposed, see
        ``im2col_transposed``."""
        return self.x_nhwc.shape[3] <= 3 and self.geometry[4] == 1 and not self._pointwise()

    def _cols_buffer(self, xp, output_size, transposed=False):
        """Where the whole-batch cols (or d(cols)) go: this thread's scratch buffer; None for a
        pointwise convolution, whose cols is the input itself."""
        if self._pointwise():
            return None
        n, _, _, channels = self.x_nhwc.shape
        (kh, kw), groups = self.geometry[0], self.geometry[4]
        shape = (groups, n * output_size[0] * output_size[1], kh * kw * channels // groups)
        if transposed:
            shape = (shape[2], shape[1])
        return scratch(xp, shape, self.x_nhwc.dtype)


def _bias_grad(grad):
    """db[o] = sum over n, oh, ow of dY[n, o, oh, ow], for dY in either memory layout."""
    if channels_last(grad):  # the rows of an (N*OH*OW, O) matrix
        return backend.column_sums(grad.transpose(0, 2, 3, 1).reshape(-1, grad.shape[1]))
    return grad.sum(axis=(0, 2, 3))


def _is_depthwise(in_channels, groups):
    return groups > 1 and in_channels == groups


# ----------------------------------------------------------------------------------------------
# The public function and its argument checks
# ----------------------------------------------------------------------------------------------

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
    stride = _pair(stride, "stride", minimum=1)
    dilation = _pair(dilation, "dilation", minimum=1)
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
    return Conv2d.apply(input, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


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


def _pair(value, name, minimum):
    """An int or a pair of ints as a pair, each at least ``minimum``."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in pair):
        raise TypeError(f"conv2d: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"conv2d: {name} must be {kind}, got {value!r}")
    return int(pair[0]), int(pair[1])


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
    pad_h, pad_w = _pair(padding, "padding", minimum=0)
    return pad_h, pad_h, pad_w, pad_w
