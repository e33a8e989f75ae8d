"""What the profiler counts per op besides time: floating point operations and bytes saved for backward.

FLOPs are counted for the ops that dominate a CNN, products of matrices, as 2 per multiply-add (one
multiply, one add), the convention of torch.profiler and of papers' "GFLOPs":

    Conv2d   forward  2 * numel(y) * C_in/groups * kh * kw      (weight shape (C_out, C_in/groups, kh, kw))
    Linear   forward  2 * numel(y) * in_features                (weight shape (out_features, in_features))
    MatMul   forward  2 * numel(y) * K                          (a: (..., M, K), b: (..., K, N))

Backward computes one product of the same size per input that wants a gradient (dX and dW; the
bias's gradient is a sum, not counted), so its FLOPs are the forward's times that number.
"""
from __future__ import annotations

import math


def _conv2d(shapes, output_shape):
    weight = shapes[1]
    return 2 * math.prod(output_shape) * math.prod(weight[1:])


def _linear(shapes, output_shape):
    return 2 * math.prod(output_shape) * shapes[1][1]


def _matmul(shapes, output_shape):
    return 2 * math.prod(output_shape) * shapes[0][-1]


FORWARD_FLOPS = {"Conv2d": _conv2d, "Linear": _linear, "MatMul": _matmul}
_PRODUCT_INPUTS = 2  # the two inputs of each product above whose gradients are products too


def forward_flops(name: str, shapes: list, output_shape) -> int:
    """FLOPs of one forward of op ``name`` given its array inputs' shapes (None for absent ones)."""
    estimate = FORWARD_FLOPS.get(name)
    if estimate is None or len(shapes) < 2 or shapes[0] is None or shapes[1] is None:
        return 0
    return int(estimate(shapes, tuple(output_shape)))


def backward_flops(forward: int, needs_input_grad: tuple) -> int:
    return forward * sum(bool(need) for need in needs_input_grad[:_PRODUCT_INPUTS])


def saved_bytes(ctx) -> int:
    """Bytes of the arrays a Function node holds for its backward (``saved`` and array attributes),
    each array counted once however many times it is referenced."""
    seen, total = set(), 0
    values = list(ctx.saved) + list(ctx.__dict__.values())
    while values:
        value = values.pop()
        if isinstance(value, (tuple, list)):
            values.extend(value)
        elif hasattr(value, "nbytes") and hasattr(value, "shape") and id(value) not in seen:
            seen.add(id(value))
            total += int(value.nbytes)
    return total
