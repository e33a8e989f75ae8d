"""What every channels-last conv engine does alike: NHWC in and out, the bias and its gradient."""
from __future__ import annotations

from ....engines import Engine
from .. import reference


class NhwcEngine(Engine):
    """An engine that computes on C-contiguous NHWC arrays, as the reference does. Subclasses define

        forward_nhwc(x_nhwc, weight, geometry) -> (Y (N, OH, OW, O), what backward may reuse)
        backward_nhwc(x_nhwc, grad_nhwc, weight, geometry, reused, need_w, need_x) -> (dW or None,
                      dX (N, H, W, C) or None)
    """

    def forward(self, x, weight, bias, geometry):
        """(Y (N, O, OH, OW) as an NCHW view of channels-last memory, what ``backward`` needs)."""
        x_nhwc = reference.to_nhwc(x)
        out, reused = self.forward_nhwc(x_nhwc, weight, geometry)
        if bias is not None:
            out += bias
        return out.transpose(0, 3, 1, 2), (x_nhwc, weight, geometry, reused, bias is not None)

    def backward(self, saved, grad_output, needs):
        """(dX, dW, dB), each None unless asked for in ``needs`` = (need_x, need_w, need_b)."""
        x_nhwc, weight, geometry, reused, has_bias = saved
        need_x, need_w, need_b = needs
        grad_nhwc = reference.to_nhwc(grad_output)
        grad_bias = reference.bias_grad(grad_nhwc) if need_b and has_bias else None
        grad_weight, grad_x = self.backward_nhwc(x_nhwc, grad_nhwc, weight, geometry, reused, need_w, need_x)
        return (None if grad_x is None else grad_x.transpose(0, 3, 1, 2)), grad_weight, grad_bias
