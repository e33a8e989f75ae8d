"""im2col and col2im on channels-last (NHWC) images: a convolution becomes one matrix product.

A convolution output pixel is a dot product between the weight and the receptive field under it.
``im2col`` lays every receptive field out as one row of a matrix, so the whole convolution is

    out[N*OH*OW, O] = cols[N*OH*OW, KH*KW*C] . W[KH*KW*C, O]

Working channels-last has two payoffs: a receptive field row (KH, KW, C) is made of KH*KW runs of C
contiguous numbers, so building ``cols`` is a fast copy; and the product above is already the output
in NHWC memory, with no transpose afterwards.

``col2im`` is the adjoint of ``im2col``: it adds every row back onto the pixels it was read from.
The backward pass of a convolution uses it to turn d(cols) into d(input).

With ``groups`` the channels split into G independent groups; ``cols`` then has shape
(G, N*OH*OW, KH*KW*C/G), one im2col matrix per group. ``padding`` is (top, bottom, left, right).

This is array code for every device; on the CPU the engines run ``col2im`` as a numba kernel instead
(``engines/col2im.py``: one gathering pass, no padded copy), tested against this one.
"""
from __future__ import annotations

from ... import backend

__all__ = ["conv_output_size", "sliding_windows", "im2col", "im2col_transposed", "col2im"]

NO_PADDING = (0, 0, 0, 0)


def conv_output_size(size: int, kernel: int, stride: int, dilation: int) -> int:
    """Output length along one axis of an already padded input: floor((size - d*(k-1) - 1)/s) + 1."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def output_shape(input_shape, kernel_size, stride, dilation, padding):
    """(OH, OW) of a convolution over an unpadded NHWC ``input_shape``."""
    _, height, width, _ = input_shape
    top, bottom, left, right = padding
    return (
        conv_output_size(height + top + bottom, kernel_size[0], stride[0], dilation[0]),
        conv_output_size(width + left + right, kernel_size[1], stride[1], dilation[1]),
    )


def is_pointwise(kernel_size, stride, padding, groups) -> bool:
    """A 1x1, stride-1, unpadded, ungrouped convolution: ``cols`` is the NHWC image itself."""
    return tuple(kernel_size) == (1, 1) and tuple(stride) == (1, 1) and groups == 1 and not any(padding)


def pad_nhwc(x, padding):
    """x (N, H, W, C) with zero borders (top, bottom, left, right); x itself when there are none."""
    if not any(padding):
        return x
    xp = backend.get_array_module(x)
    top, bottom, left, right = padding
    n, height, width, channels = x.shape
    image = xp.zeros((n, height + top + bottom, width + left + right, channels), dtype=x.dtype)
    image[:, top:top + height, left:left + width, :] = x
    return image


def sliding_windows(image, kernel_size, stride, dilation):
    """A read-only view (N, OH, OW, KH, KW, C) of every receptive field of a padded ``image`` (N, H, W, C).

    ``windows[n, oh, ow, i, j, c] = image[n, oh*sh + i*dh, ow*sw + j*dw, c]``: the output position
    moves by the stride, the kernel position by the dilation, both along the same image axes. No copy.
    """
    n, height, width, channels = image.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    oh, ow = conv_output_size(height, kh, sh, dh), conv_output_size(width, kw, sw, dw)
    s_n, s_h, s_w, s_c = image.strides
    return backend.as_strided(
        image, shape=(n, oh, ow, kh, kw, channels), strides=(s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c)
    )


def im2col(x, kernel_size, stride=(1, 1), dilation=(1, 1), padding=NO_PADDING, groups: int = 1, out=None):
    """Receptive fields of ``x`` (N, H, W, C, C-contiguous) as rows: (G, N*OH*OW, KH*KW*C/G).

    Row ``n*OH*OW + oh*OW + ow`` of group g holds the field under output pixel (n, oh, ow), ordered
    (kernel row, kernel column, channel of group g); zero padding reads as zeros. ``out``, a
    C-contiguous array of that shape, receives the rows instead of a new array.
    """
    n, _, _, channels = x.shape
    (kh, kw), per_group = kernel_size, channels // groups
    oh, ow = output_shape(x.shape, kernel_size, stride, dilation, padding)
    shape = (groups, n * oh * ow, kh * kw * per_group)
    if is_pointwise(kernel_size, stride, padding, groups):
        return x.reshape(shape)  # a 1x1 convolution reads each pixel as it is: no copy
    if out is None:
        out = backend.get_array_module(x).empty(shape, dtype=x.dtype)
    # The array code, on the CPU too: numpy's strided copy of KH*KW runs of C numbers beat the serial
    # numba kernel it replaced on every shape of benchmarks/bench_conv.py, by 1.2x for
    # ResNet's 64-channel layers up to 5x for LeNet's 1- and 6-channel ones, padded copy included.
    return im2col_arrays(x, kernel_size, stride, dilation, padding, groups, out)


def im2col_arrays(x, kernel_size, stride=(1, 1), dilation=(1, 1), padding=NO_PADDING, groups: int = 1, out=None):
    """``im2col`` in array code: pad, take the strided window view, copy it into rows."""
    xp = backend.get_array_module(x)
    windows = sliding_windows(pad_nhwc(x, padding), kernel_size, stride, dilation)
    n, oh, ow, kh, kw, channels = windows.shape
    per_group = channels // groups
    if groups == 1:
        grouped = windows[None]
    else:
        grouped = windows.reshape(n, oh, ow, kh, kw, groups, per_group).transpose(5, 0, 1, 2, 3, 4, 6)
    shape = (groups, n * oh * ow, kh * kw * per_group)
    if out is None:
        out = xp.empty(shape, dtype=x.dtype)
    # The one real copy of im2col: KH*KW times the input's size.
    out.reshape(grouped.shape)[...] = grouped
    return out


def im2col_transposed(x, kernel_size, stride=(1, 1), dilation=(1, 1), padding=NO_PADDING, out=None):
    """``im2col(x)[0]`` transposed, (KH*KW*C, N*OH*OW), for an ungrouped convolution: row
    (i*KW + j)*C + c holds kernel position (i, j) of channel c for every output pixel.

    Built as KH*KW*C strided copies of whole output-sized planes, whose inner runs are OW numbers
    long: for images with 1 to 3 channels this beats ``im2col``, whose runs are C numbers long
    (LeNet's 1-channel first layer: 0.24 ms instead of 1.0 ms at batch 64).
    """
    xp = backend.get_array_module(x)
    image = pad_nhwc(x, padding)
    n, _, _, channels = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    oh, ow = output_shape(x.shape, kernel_size, stride, dilation, padding)
    if out is None:
        out = xp.empty((kh * kw * channels, n * oh * ow), dtype=x.dtype)
    planes = out.reshape(kh, kw, channels, n, oh, ow)
    by_channel = image.transpose(3, 0, 1, 2)  # (C, N, H, W) view
    for i in range(kh):
        for j in range(kw):
            planes[i, j] = by_channel[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return out


def col2im(cols, input_shape, kernel_size, stride=(1, 1), dilation=(1, 1), padding=NO_PADDING, out=None):
    """The adjoint of ``im2col``: sum the rows of ``cols`` (G, N*OH*OW, KH*KW*C/G) back onto an NHWC
    image of ``input_shape`` (N, H, W, C); a pixel under several windows gets every contribution, the
    padding's share is dropped. Returns (N, H, W, C), C-contiguous: ``out`` when given (C-contiguous,
    overwritten).
    """
    if is_pointwise(kernel_size, stride, padding, cols.shape[0]):
        image = cols.reshape(input_shape)
    else:
        image = col2im_arrays(cols, input_shape, kernel_size, stride, dilation, padding)
    if out is not None and image is not out:
        out[...] = image
        return out
    return image


def col2im_arrays(cols, input_shape, kernel_size, stride=(1, 1), dilation=(1, 1), padding=NO_PADDING):
    """``col2im`` in array code: one vectorized add per kernel position (i, j) into a padded buffer.

    Kernel position (i, j) of every window reads the strided slice
    ``image[:, i*dh : ... : sh, j*dw : ... : sw, :]``, so its gradient is added onto that slice.
    """
    xp = backend.get_array_module(cols)
    n, height, width, channels = input_shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    top, bottom, left, right = padding
    oh, ow = output_shape(input_shape, kernel_size, stride, dilation, padding)
    groups = cols.shape[0]
    per_group = channels // groups
    # fields[g, n, oh, ow, i, j, c]: the gradient window (n, oh, ow) sends to channel (g, c) of its pixel (i, j).
    fields = cols.reshape(groups, n, oh, ow, kh, kw, per_group)
    image = xp.zeros((n, height + top + bottom, width + left + right, groups, per_group), dtype=cols.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            image[:, rows, columns] += fields[:, :, :, :, i, j, :].transpose(1, 2, 3, 0, 4)
    image = image.reshape(n, height + top + bottom, width + left + right, channels)
    return xp.ascontiguousarray(image[:, top:top + height, left:left + width, :])
