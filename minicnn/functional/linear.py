"""Fully connected layer: y = x W^T + b."""
from __future__ import annotations

from . import product_engines as products
from ..autograd import Function, Tensor

__all__ = ["linear"]


class Linear(Function):
    def forward(self, x, weight, bias=None):
        self.save_for_backward(x, weight)
        self.has_bias = bias is not None
        out = products.matmul(x, weight.T)
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        # Y = X W^T + b, with the leading axes of X folded into rows (M = prod(*)):
        #   dX = dY W,   dW = dY^T X,   db = sum of dY over the rows
        x, weight = self.saved
        out_features, in_features = weight.shape
        grad_rows = grad.reshape(-1, out_features)
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[0]:
            grad_x = products.matmul(grad, weight)
        if self.needs_input_grad[1]:
            grad_w = products.matmul(grad_rows.T, x.reshape(-1, in_features))
        if self.has_bias and self.needs_input_grad[2]:
            grad_b = products.column_sums(grad_rows)
        return grad_x, grad_w, grad_b


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight^T + bias.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features,) or None;
    returns (*, out_features).
    """
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"linear: {name} must be a Tensor, got {type(t).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape {weight.shape}")
    out_features, in_features = weight.shape
    if input.ndim == 0 or input.shape[-1] != in_features:
        actual = input.shape[-1] if input.ndim else "none"
        raise RuntimeError(
            f"linear: weight of shape {weight.shape} expects in_features {in_features}, but the input of "
            f"shape {input.shape} has in_features {actual} (expected input shape (*, {in_features}))"
        )
    if bias is not None and bias.shape != (out_features,):
        raise RuntimeError(f"linear: expected bias of shape ({out_features},), got {bias.shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(f"linear: {name} dtype {t.dtype} does not match input dtype {input.dtype}")
    return Linear.apply(input, weight, bias)
