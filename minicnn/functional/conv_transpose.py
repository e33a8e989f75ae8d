"""Transposed convolution, 1-D convolution, and im2col under torch's names (``unfold`` / ``fold``).

conv_transpose2d is the adjoint of conv2d. Take a convolution ``x = conv2d(z, W)`` from an image z
(N, C_out, Hz, Wz) to x (N, C_in, H, W) with the weight W (C_in, C_out/groups, KH, KW) -- the layout
torch gives a ConvTranspose2d weight. As matrices, per group, ``x = cols(z) . Wm`` with
``cols = im2col`` and ``Wm[(i, j, c), o] = W[o, c, i, j]``. The transposed convolution is

    forward:   z = col2im(x . Wm^T)            (col2im is the adjoint of im2col)
    backward:  dx = im2col(dz) . Wm            (= conv2d(dz, W): the adjoint of the adjoint)
               dWm = im2col(dz)^T . x          (the weight gradient of that product)
               db = sum of dz over N, Hz, Wz

and Hz = (H - 1) * stride - 2 * padding + dilation * (K - 1) + output_padding + 1: output_padding
rows and columns are added at the bottom/right, which a stride > 1 convolution would have ignored.

``unfold`` lays the receptive fields of an NCHW image out as (N, C*KH*KW, L) columns (torch's
order: channel, kernel row, kernel column); ``fold`` is its adjoint, summing columns back onto an
image. Each is the other's backward.
"""
from __future__ import annotations

import numbers

from .. import backend
from ..autograd import Function, Tensor
from .conv import conv2d
from .pairs import int_pair
from .conv.im2col import col2im, im2col

__all__ = ["conv_transpose2d", "conv_transpose1d", "conv1d", "unfold", "fold"]


def _nhwc(array):
    return backend.get_array_module(array).ascontiguousarray(array.transpose(0, 2, 3, 1))


def _weight_matrices(weight, groups):
    """Wm per group: (G, KH*KW*Cz_g, Cx_g) from W (Cx, Cz_g, KH, KW)."""
    cx, cz_g, kh, kw = weight.shape
    per_group = cx // groups
    return weight.reshape(groups, per_group, cz_g, kh, kw).transpose(0, 3, 4, 2, 1).reshape(groups, kh * kw * cz_g,
                                                                                           per_group)


class ConvTranspose2d(Function):
    def forward(self, x, weight, bias, stride, padding, output_padding, dilation, groups):
        xp = backend.get_array_module(x)
        n, cx, height, width = x.shape
        _, cz_g, kh, kw = weight.shape
        out_h = (height - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
        out_w = (width - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
        self.geometry = dict(kernel_size=(kh, kw), stride=stride, dilation=dilation,
                             padding=(padding[0], padding[0], padding[1], padding[1]))
        self.groups, self.z_shape = groups, (n, out_h, out_w, cz_g * groups)
        matrices = _weight_matrices(weight, groups)  # (G, KH*KW*Cz_g, Cx_g)
        x_rows = _nhwc(x).reshape(n * height * width, groups, cx // groups).transpose(1, 0, 2)  # (G, NHW, Cx_g)
        cols = xp.matmul(x_rows, matrices.transpose(0, 2, 1))  # (G, NHW, KH*KW*Cz_g)
        z = col2im(xp.ascontiguousarray(cols), self.z_shape, **self.geometry)
        if bias is not None:
            z = z + bias
        self.save_for_backward(x_rows, matrices)
        self.shapes = (x.shape, weight.shape)
        return z.transpose(0, 3, 1, 2)

    def backward(self, grad):
        xp = backend.get_array_module(grad)
        x_rows, matrices = self.saved
        x_shape, weight_shape = self.shapes
        cols = im2col(_nhwc(grad), groups=self.groups, **self.geometry)  # (G, NHW, KH*KW*Cz_g)
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[0]:
            n, cx, height, width = x_shape
            rows = xp.matmul(cols, matrices)  # (G, NHW, Cx_g)
            grad_x = rows.transpose(1, 0, 2).reshape(n, height, width, cx).transpose(0, 3, 1, 2)
        if self.needs_input_grad[1]:
            grad_m = xp.matmul(cols.transpose(0, 2, 1), x_rows)  # (G, KH*KW*Cz_g, Cx_g)
            cx, cz_g, kh, kw = weight_shape
            grad_w = grad_m.reshape(self.groups, kh, kw, cz_g, cx // self.groups).transpose(0, 4, 3, 1, 2) \
                .reshape(weight_shape)
        if self.needs_input_grad[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


def _positive_int(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The adjoint of conv2d (see the module docstring), torch's ``F.conv_transpose2d``.

    input (N, C_in, H, W), weight (C_in, C_out / groups, KH, KW), bias (C_out,) ->
    (N, C_out, (H-1)*stride - 2*padding + dilation*(KH-1) + output_padding + 1, ...).
    """
    name = "conv_transpose2d"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}: input and weight must be Tensors")
    if input.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"{name}: expected 4-D input (N, C_in, H, W) and weight (C_in, C_out/groups, KH, KW), got "
                         f"{input.shape} and {weight.shape}")
    groups = _positive_int(groups, "groups", name)
    stride, dilation = int_pair(name, "stride", stride, 1), int_pair(name, "dilation", dilation, 1)
    padding, output_padding = int_pair(name, "padding", padding, 0), int_pair(name, "output_padding", output_padding, 0)
    if input.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise RuntimeError(f"{name}: weight of shape {weight.shape} with groups={groups} expects {weight.shape[0]} "
                           f"input channels divisible by groups, got input of shape {input.shape}")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{name}: output padding {output_padding} must be smaller than either stride {stride} or "
                         f"dilation {dilation}")
    if bias is not None and bias.shape != (weight.shape[1] * groups,):
        raise ValueError(f"{name}: bias must have shape ({weight.shape[1] * groups},), got {bias.shape}")
    for value in (weight, bias):
        if value is not None and value.dtype != input.dtype:
            raise TypeError(f"{name}: weight/bias dtype {value.dtype} does not match input dtype {input.dtype}")
    return ConvTranspose2d.apply(input, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
                                 dilation=dilation, groups=groups)


def _one(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"conv1d: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return value


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D convolution: input (N, C_in, L), weight (C_out, C_in / groups, K) -> (N, C_out, L_out).

    Runs as conv2d over a height-1 image, so forward and backward are conv2d's."""
    if input.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"conv1d: expected 3-D input (N, C_in, L) and weight (C_out, C_in/groups, K), got "
                         f"{input.shape} and {weight.shape}")
    padding = padding if isinstance(padding, str) else (0, _one(padding, "padding"))
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, _one(stride, "stride")), padding,
                 (1, _one(dilation, "dilation")), groups)
    return out.squeeze(2)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution through conv_transpose2d over a height-1 image."""
    out = conv_transpose2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, _one(stride, "stride")),
                           (0, _one(padding, "padding")), (0, _one(output_padding, "output_padding")), groups,
                           (1, _one(dilation, "dilation")))
    return out.squeeze(2)


def _columns_from_cols(cols, n, channels, kh, kw):
    """im2col's (1, N*L, KH*KW*C) rows as torch's (N, C*KH*KW, L) columns."""
    length = cols.shape[1] // n
    return cols.reshape(n, length, kh, kw, channels).transpose(0, 4, 2, 3, 1).reshape(n, channels * kh * kw, length)


def _cols_from_columns(columns, channels, kh, kw):
    xp = backend.get_array_module(columns)
    n, _, length = columns.shape
    rows = columns.reshape(n, channels, kh, kw, length).transpose(0, 4, 2, 3, 1)
    return xp.ascontiguousarray(rows).reshape(1, n * length, kh * kw * channels)


class Unfold(Function):
    def forward(self, x, geometry):
        self.geometry, self.input_shape = geometry, x.shape
        return _columns_from_cols(im2col(_nhwc(x), **geometry), x.shape[0], x.shape[1], *geometry["kernel_size"])

    def backward(self, grad):
        # unfold is im2col: its adjoint sums each column back onto the pixels it read (col2im)
        n, channels, height, width = self.input_shape
        cols = _cols_from_columns(grad, channels, *self.geometry["kernel_size"])
        return col2im(cols, (n, height, width, channels), **self.geometry).transpose(0, 3, 1, 2)


class Fold(Function):
    def forward(self, columns, output_size, geometry):
        n, rows, _ = columns.shape
        kh, kw = geometry["kernel_size"]
        channels = rows // (kh * kw)
        self.geometry, self.channels = geometry, channels
        image = col2im(_cols_from_columns(columns, channels, kh, kw), (n, *output_size, channels), **geometry)
        return image.transpose(0, 3, 1, 2)

    def backward(self, grad):
        # fold is col2im, the adjoint of im2col: its gradient reads the fields again (im2col)
        return _columns_from_cols(im2col(_nhwc(grad), **self.geometry), grad.shape[0], self.channels,
                                  *self.geometry["kernel_size"])


def _geometry(name, kernel_size, dilation, padding, stride):
    pad_h, pad_w = int_pair(name, "padding", padding, 0)
    return dict(kernel_size=int_pair(name, "kernel_size", kernel_size, 1), stride=int_pair(name, "stride", stride, 1),
                dilation=int_pair(name, "dilation", dilation, 1), padding=(pad_h, pad_h, pad_w, pad_w))


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding blocks of (N, C, H, W) as columns (N, C * KH * KW, L), torch's ``F.unfold``."""
    if input.ndim != 4:
        raise RuntimeError(f"unfold: expected a 4-D (N, C, H, W) input, got shape {input.shape}")
    return Unfold.apply(input, geometry=_geometry("unfold", kernel_size, dilation, padding, stride))


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns (N, C * KH * KW, L) back into an (N, C, H, W) image of ``output_size``, torch's ``F.fold``."""
    geometry = _geometry("fold", kernel_size, dilation, padding, stride)
    output_size = int_pair("fold", "output_size", output_size, 1)
    kh, kw = geometry["kernel_size"]
    if input.ndim != 3 or input.shape[1] % (kh * kw):
        raise RuntimeError(f"fold: expected (N, C * {kh * kw}, L) columns for kernel size {(kh, kw)}, got shape "
                           f"{input.shape}")
    from .conv.im2col import output_shape

    blocks = output_shape((1, *output_size, 1), (kh, kw), geometry["stride"], geometry["dilation"],
                          geometry["padding"])
    if blocks[0] * blocks[1] != input.shape[2]:
        raise RuntimeError(f"fold: expected L = {blocks[0] * blocks[1]} blocks for output size {output_size}, "
                           f"got input of shape {input.shape}")
    return Fold.apply(input, output_size=output_size, geometry=geometry)
