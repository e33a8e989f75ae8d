"""Numerical gradient checking by central finite differences.

For an output y = f(x1, x2, ...) and a fixed random direction v, the analytic gradient of the scalar
s = sum(v * y) with respect to each input element is compared with

    ds/dx_i ~ (s(x_i + eps) - s(x_i - eps)) / (2 eps)

A random v weights every output element, so a wrong gradient for any of them shows up, at the cost of
one backward pass instead of one per output element. Run it in float64: in float32 the rounding error
of the difference quotient is larger than most bugs.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .autograd import Tensor, no_grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its finite-difference estimate."""


def _scalar_projection(output: Tensor, direction) -> float:
    return float(backend.to_host((output.array * direction).sum()))


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check ``fn``'s gradients with respect to every input that requires grad.

    Args:
        fn: callable taking the tensors in ``inputs`` and returning one Tensor.
        inputs: a Tensor or a sequence of Tensors; those with ``requires_grad=True`` are checked. They
            should be float64.
        eps: finite-difference step.
        atol, rtol: an element passes when |analytic - numeric| <= atol + rtol * |numeric|.

    Returns True, or raises GradcheckError naming the input, the worst element, and both values.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, there is nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64")

    output = fn(*inputs)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(output).__name__}")
    rng = np.random.default_rng(seed)
    direction = backend.to_device(rng.standard_normal(output.shape).astype(output.dtype), output.device)

    for i in checked:
        inputs[i].grad = None
    if output.requires_grad:
        output.backward(direction)

    for i in checked:
        tensor = inputs[i]
        analytic = (
            backend.to_host(tensor.grad.array).astype(np.float64) if tensor.grad is not None
            else np.zeros(tensor.shape)
        )
        numeric = np.zeros(tensor.shape)
        if not tensor.array.flags.c_contiguous:
            tensor.array = backend.get_array_module(tensor.array).ascontiguousarray(tensor.array)
        flat_view = tensor.array.reshape(-1)  # a view: perturbing it perturbs the input in place
        with no_grad():
            for k in range(tensor.numel()):
                original = float(backend.to_host(flat_view[k]))
                flat_view[k] = original + eps
                plus = _scalar_projection(fn(*inputs), direction)
                flat_view[k] = original - eps
                minus = _scalar_projection(fn(*inputs), direction)
                flat_view[k] = original
                numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        error = np.abs(analytic - numeric)
        budget = atol + rtol * np.abs(numeric)
        if np.any(error > budget):
            worst = np.unravel_index(np.argmax(error - budget), tensor.shape)
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {tensor.shape}) is wrong at index {tuple(int(w) for w in worst)}: "
                f"analytic {analytic[worst]:.10g}, numeric {numeric[worst]:.10g} "
                f"(|difference| {error[worst]:.3g} > atol + rtol*|numeric| = {budget[worst]:.3g}); "
                f"{int(np.sum(error > budget))} of {tensor.numel()} elements fail"
            )
    return True
