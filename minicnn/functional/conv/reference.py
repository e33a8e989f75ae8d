"""conv2d's reference algorithm: im2col + one matrix product, and its three gradients, on NHWC arrays.

Layout. The public tensors are NCHW, as in torch, but the computation runs channels-last (NHWC):

    x (N,C,H,W) -> NHWC x -> cols (N*OH*OW, KH*KW*C) -> Y = cols . W + b    (N*OH*OW, O)

``Y`` is already the output in NHWC memory; it is returned as an NCHW *view* of that memory (no copy).
When the next convolution receives such a view, its NCHW -> NHWC step is free, so a chain of convs
stays channels-last (like torch's ``channels_last`` memory format).

Backward, with dY seen as the matrix (N*OH*OW, O):

    db = sum over rows of dY
    dW = cols^T . dY
    dX = col2im(dY . W^T)          (each row of d(cols) is added back onto its receptive field)

With groups G, cols, W and dY split into G independent products stacked on a leading axis
(``weight_layout.py``). ``cols`` is KH*KW times larger than the input, so it is not kept for backward:
the NHWC input is kept and ``cols`` rebuilt from it (for a CIFAR ResNet-18 at batch 32 that cut the
peak memory of a training step 3.6x, ``benchmarks/bench_conv.py --memory``).
"""
from __future__ import annotations

from ... import backend
from .. import product_engines as products
from .im2col import col2im, im2col
from .weight_layout import group_rows, ungroup, weight_from_rows, weight_matrix


def to_nhwc(x):
    """An (N, C, H, W) array as C-contiguous NHWC memory: free when x is a channels-last view."""
    return backend.get_array_module(x).ascontiguousarray(x.transpose(0, 2, 3, 1))


def forward(x_nhwc, weight, bias, geometry):
    """Y (N, OH, OW, O) = cols . W + b for x (N, H, W, C) and weight (O, C/G, KH, KW)."""
    oh, ow = geometry.output_size
    cols = im2col(x_nhwc, *geometry.im2col_args)  # (G, N*OH*OW, KH*KW*C/G)
    out = ungroup(products.matmul(cols, weight_matrix(weight, geometry.groups)))  # (N*OH*OW, O)
    out = out.reshape(x_nhwc.shape[0], oh, ow, geometry.out_channels)
    if bias is not None:
        out += bias  # broadcast over the last (channel) axis of the NHWC output
    return out


def bias_grad(grad_nhwc):
    """db[o] = sum over n, oh, ow of dY[n, oh, ow, o]."""
    return products.column_sums(grad_nhwc.reshape(-1, grad_nhwc.shape[3]))


def weight_grad(x_nhwc, grad_nhwc, geometry):
    """dW (O, C/G, KH, KW) = cols^T . dY per group, made as dW^T = dY^T . cols (the layout of the weight)."""
    grad_rows = group_rows(grad_nhwc.reshape(-1, grad_nhwc.shape[3]), geometry.groups)  # (G, N*OH*OW, O/G)
    cols = im2col(x_nhwc, *geometry.im2col_args)  # rebuilt, not saved
    return weight_from_rows(products.matmul(grad_rows.transpose(0, 2, 1), cols), geometry.weight_shape)


def input_grad(grad_nhwc, weight, geometry):
    """dX (N, H, W, C) = col2im(dY . W^T): every row of d(cols) added back onto its receptive field."""
    grad_rows = group_rows(grad_nhwc.reshape(-1, grad_nhwc.shape[3]), geometry.groups)
    # the weight matrix is remade rather than kept from forward: keeping a copy of every weight
    # raised the peak memory of a CIFAR ResNet-18 step at batch 32 from 192 to 218 MB
    grad_cols = products.matmul(grad_rows, weight_matrix(weight, geometry.groups).transpose(0, 2, 1))
    return col2im(grad_cols, geometry.nhwc_shape, *geometry.im2col_args[:4])
