"""numba kernels for optimizer updates on the CPU: a parameter's whole update in one pass.

In array code SGD with momentum and weight decay makes six passes over each parameter's memory
(``optim/sgd.py``: decay, add the gradient, scale the buffer, add, scale by lr, subtract); for
ResNet-18's 11M parameters that was 41 ms a step on one core, memory-bound. Here each element is read
once from the parameter, the gradient and the buffer and written back once. The arithmetic is the array
code's, operation for operation and in the parameter's dtype, so the results agree bit for bit (no
fast-math, so no fused multiply-adds). Their engine is ``optim/sgd_engines.py``.
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


def sgd_constants(dtype, weight_decay, momentum, dampening, lr):
    """The hyperparameters in the parameter's dtype, as numpy rounds a Python float against a float32
    array (numba would compute float32 * float64 in float64)."""
    return np.array([weight_decay, momentum, 1 - dampening, lr], dtype=dtype)


if numba is not None:
    @numba.njit(cache=True, nogil=True)
    def sgd_into(param, grad, buffer, k, decay, maximize, with_momentum, dampen, nesterov, first):
        # g = -g if maximize; g = g + wd * p; b = g (first step) or momentum * b + (1 - dampening) * g;
        # g = g + momentum * b (Nesterov) or b; p = p - lr * g
        weight_decay, momentum, keep, lr = k[0], k[1], k[2], k[3]
        for i in range(param.size):
            g = grad[i]
            if decay:
                g = param[i] * weight_decay - g if maximize else param[i] * weight_decay + g
            elif maximize:
                g = -g
            if with_momentum:
                if first:
                    b = g
                elif dampen:
                    b = buffer[i] * momentum + g * keep
                else:
                    b = buffer[i] * momentum + g
                buffer[i] = b
                g = g + momentum * b if nesterov else b
            param[i] = param[i] - g * lr
