"""The engine for first layers with 1 to 3 input channels: cols built transposed, in runs OW numbers long.

``im2col`` copies runs of C contiguous numbers; with C = 1 to 3 that is a copy of a few bytes at a
time. ``im2col_transposed`` builds cols^T (KH*KW*C, N*OH*OW) as KH*KW*C strided copies of whole
output planes instead (LeNet's 1-channel first layer: 0.24 ms instead of 1.0 ms at batch 64), and the
products read it transposed for free:

    Y = (cols^T)^T . W        dW^T = dY^T . (cols^T)^T        dX as the reference computes it
"""
from __future__ import annotations

from .... import backend
from ....cpu.scratch import scratch
from ... import product_engines as products
from ..im2col import im2col_transposed
from ..weight_layout import weight_from_rows, weight_matrix
from .col2im import fast_col2im
from .nhwc import NhwcEngine


class FewChannels(NhwcEngine):
    name = "few-channels"
    why = "1-3 input channels (a network's first layer): cols built transposed; any device"

    def applies(self, geometry, x) -> bool:
        return geometry.in_channels <= 3 and geometry.groups == 1 and not geometry.pointwise

    def forward_nhwc(self, x_nhwc, weight, geometry):
        (oh, ow), n = geometry.output_size, x_nhwc.shape[0]
        cols_t = self._cols_t(x_nhwc, geometry)
        out = products.matmul(cols_t.T, weight_matrix(weight, 1)[0])  # Y = cols . W
        return out.reshape(n, oh, ow, geometry.out_channels), None

    def backward_nhwc(self, x_nhwc, grad_nhwc, weight, geometry, reused, need_w, need_x):
        grad_rows = grad_nhwc.reshape(-1, geometry.out_channels)
        grad_weight = grad_x = None
        if need_w:  # dW^T = dY^T . cols
            cols_t = self._cols_t(x_nhwc, geometry)
            grad_weight = weight_from_rows(products.matmul(grad_rows.T, cols_t.T)[None], weight.shape)
            del cols_t  # d(cols) takes over the same scratch buffer
        if need_x:  # d(cols) = dY . W^T, then col2im
            cols_shape = (1, grad_rows.shape[0], weight[0].size)  # (1, N*OH*OW, KH*KW*C)
            grad_cols = products.matmul(grad_rows[None], weight_matrix(weight, 1).transpose(0, 2, 1),
                                        out=_buffer(x_nhwc, cols_shape))
            grad_x = fast_col2im(grad_cols, x_nhwc.shape, *geometry.im2col_args[:4])
        return grad_weight, grad_x

    @staticmethod
    def _cols_t(x_nhwc, geometry):
        n, (oh, ow) = x_nhwc.shape[0], geometry.output_size
        kh, kw = geometry.kernel
        shape = (kh * kw * x_nhwc.shape[3], n * oh * ow)
        return im2col_transposed(x_nhwc, *geometry.im2col_args[:4], out=_buffer(x_nhwc, shape))


def _buffer(x_nhwc, shape):
    """This thread's scratch buffer (cols^T, then d(cols) in the same memory)."""
    return scratch(backend.get_array_module(x_nhwc), shape, x_nhwc.dtype)
