"""dtype casts. Casting is the identity on values, so the gradient is cast back to the input's dtype."""
from __future__ import annotations

import numpy as np

from ..autograd import Function, Tensor


class Cast(Function):
    def forward(self, a, dtype):
        self.input_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, grad):
        if self.input_dtype.kind != "f":
            return None
        return grad.astype(self.input_dtype)


def cast(a: Tensor, dtype) -> Tensor:
    dtype = np.dtype(dtype)
    if dtype == a.dtype:
        return a
    return Cast.apply(a, dtype=dtype)
