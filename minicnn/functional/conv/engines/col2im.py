"""col2im for the engines: the numba gathering kernel on host float arrays, ``im2col.col2im`` elsewhere."""
from __future__ import annotations

from .... import backend
from ....cpu.kernels import conv_kernels
from ..im2col import NO_PADDING, col2im, is_pointwise, output_shape


def fast_col2im(cols, input_shape, kernel_size, stride=(1, 1), dilation=(1, 1), padding=NO_PADDING, out=None):
    """``im2col.col2im``'s result, by one gathering pass over the image instead of KH*KW scattered adds."""
    if is_pointwise(kernel_size, stride, padding, cols.shape[0]) or not conv_kernels.usable(cols):
        return col2im(cols, input_shape, kernel_size, stride, dilation, padding, out=out)
    (kh, kw) = kernel_size
    _, ow = output_shape(input_shape, kernel_size, stride, dilation, padding)
    image = backend.get_array_module(cols).empty(input_shape, dtype=cols.dtype) if out is None else out
    conv_kernels.col2im_into(cols, image, kh, kw, *stride, *dilation, padding[0], padding[2], ow)
    return image
