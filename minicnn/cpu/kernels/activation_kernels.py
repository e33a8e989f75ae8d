"""numba kernels for relu and hardswish on the CPU: each forward and each input gradient in one pass.

relu's forward writes the output and the mask of the inputs the gradient passes in one pass (numpy:
two ufuncs), and its backward selects from the bool mask, where numpy's masked copy runs two passes.

In array code ``x * clip(x + 3, 0, 6) / 6`` is four passes over the activations and the gradient's
slope five more; here each is one read and one write. The kernels take flat, contiguous arrays (the
memory of any dense array, in its own order: ``engines`` in ``functional/activation_engines.py`` finds
it). Their twins in array code are ``HardSwish`` in ``functional/activation_gated.py``; the arithmetic
is the same, operation for operation, so the results agree bit for bit (no fast-math).
"""
from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:  # numba is optional: without it the array code runs
    numba = None


def usable(array) -> bool:
    """The kernels run on host numpy float32/float64 arrays when numba is installed."""
    return numba is not None and type(array) is np.ndarray and array.dtype in (np.float32, np.float64)


def constants(dtype):
    """0, 3, 6 and 1/2 in the arrays' dtype: numba would do float32 arithmetic with integer literals
    in float64, numpy in float32; with these the kernels round as the array code does."""
    return np.array([0, 3, 6, 0.5], dtype=dtype)


if numba is not None:
    @numba.njit(cache=True, nogil=True)
    def relu_into(x, out, passes):
        # out = max(x, 0) as numpy's maximum computes it (NaN stays NaN); passes = not (x <= 0), where
        # torch lets the gradient through (so at NaN too)
        for i in range(x.size):
            value = x[i]
            out[i] = value if (value >= 0 or value != value) else 0
            passes[i] = not value <= 0

    @numba.njit(cache=True, nogil=True)
    def relu_no_mask_into(x, out):
        for i in range(x.size):
            value = x[i]
            out[i] = value if (value >= 0 or value != value) else 0

    @numba.njit(cache=True, nogil=True)
    def relu_grad_into(grad, passes, out):
        # dx = dy where the gradient passes, else exactly 0 (a select, as torch: an infinite dy gives 0)
        for i in range(grad.size):
            out[i] = grad[i] if passes[i] else 0

    @numba.njit(cache=True, nogil=True)
    def hardswish_into(x, out, k):
        # out = x * clip(x + 3, 0, 6) / 6; NaN stays NaN (both comparisons are false for it)
        zero, three, six = k[0], k[1], k[2]
        for i in range(x.size):
            gate = x[i] + three
            if gate < zero:
                gate = zero
            elif gate > six:
                gate = six
            out[i] = x[i] * gate / six

    @numba.njit(cache=True, nogil=True)
    def hardswish_grad_into(x, grad, out, k):
        # dx = dy * slope, slope 0 for x <= -3, x / 3 + 1/2 strictly between, 1 for x >= 3 (and for NaN,
        # which fails both tests, as in torch's kernel)
        zero, three, half = k[0], k[1], k[3]
        for i in range(x.size):
            value = x[i]
            if value <= -three:
                out[i] = grad[i] * zero
            elif value < three:
                out[i] = grad[i] * (value / three + half)
            else:
                out[i] = grad[i]
