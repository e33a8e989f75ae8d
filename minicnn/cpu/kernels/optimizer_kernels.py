"""numba kernels for optimizer updates on the CPU: a parameter's whole update in one pass.

In array code SGD with momentum and weight decay makes six passes over each parameter's memory
(``optim/sgd.py``: decay, add the gradient, scale the buffer, add, scale by lr, subtract), Adam about
twelve (``optim/adam.py``); for ResNet-18's 11M parameters SGD's took 41 ms a step on one core,
memory-bound. Here each element is read once from the parameter, the gradient and the optimizer's
buffers and written back once. The arithmetic is the array code's, operation for operation and in the
parameter's dtype, so the results agree bit for bit (no fast-math, so no fused multiply-adds). Their
engines are ``optim/sgd_engines.py`` and ``optim/adam_engines.py``.
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


def adam_constants(dtype, lr, beta1, beta2, eps, weight_decay, step_size, bias_correction2_sqrt):
    """Adam's scalars in the parameter's dtype, in the order ``adam_into`` reads them."""
    return np.array([weight_decay, 1 - lr * weight_decay, beta1, 1 - beta1, beta2, 1 - beta2,
                     bias_correction2_sqrt, eps, step_size], dtype=dtype)


if numba is not None:
    # error_model="numpy": a zero denominator gives inf or NaN as numpy's does, instead of the check that
    # raises ZeroDivisionError, which also kept the loop from vectorizing (4.5x slower). amsgrad has a
    # kernel of its own: its maximum written back under a flag did not vectorize either.
    @numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
    def _adam_element(p, g, m, v, k, coupled, decoupled, maximize):
        # g = -g if maximize; g = g + wd * p (Adam) or p = p * (1 - lr * wd) (AdamW); the two moments
        # m = beta1 * m + (1 - beta1) * g, v = beta2 * v + (1 - beta2) * g * g
        if coupled:
            g = p * k[0] - g if maximize else p * k[0] + g
        else:
            if maximize:
                g = -g
            if decoupled:
                p = p * k[1]
        return p, m * k[2] + g * k[3], v * k[4] + (g * g) * k[5]

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def adam_into(param, grad, exp_avg, exp_avg_sq, k, coupled, decoupled, maximize):
        # p = p - step_size * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
        for i in range(param.size):
            p, m, v = _adam_element(param[i], grad[i], exp_avg[i], exp_avg_sq[i], k, coupled, decoupled, maximize)
            exp_avg[i] = m
            exp_avg_sq[i] = v
            param[i] = p - (m / (np.sqrt(v) / k[6] + k[7])) * k[8]

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def adam_amsgrad_into(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, k, coupled, decoupled, maximize):
        # as adam_into, with v_max = max(v_max, v) (numpy's maximum: NaN wins) in the denominator
        for i in range(param.size):
            p, m, v = _adam_element(param[i], grad[i], exp_avg[i], exp_avg_sq[i], k, coupled, decoupled, maximize)
            exp_avg[i] = m
            exp_avg_sq[i] = v
            largest = max_exp_avg_sq[i]
            if v > largest or v != v:
                largest = v
            max_exp_avg_sq[i] = largest
            param[i] = p - (m / (np.sqrt(largest) / k[6] + k[7])) * k[8]

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
