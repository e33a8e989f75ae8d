"""Gradient clipping, in place on each parameter's ``.grad``, as torch.nn.utils does it."""
from __future__ import annotations

import math

from ... import backend
from ...autograd import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type``-norm is at most ``max_norm``.

    total = || (||g_1||, ||g_2||, ...) ||  (the norm of all gradients as one vector; inf: the largest |g|);
    every gradient is multiplied by min(1, max_norm / (total + 1e-6)). Returns ``total`` as a 0-d Tensor.
    """
    params = _with_grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return Tensor(backend.array_module_for("cpu").zeros(()))
    xp = backend.get_array_module(params[0].grad.array)
    if math.isinf(norm_type):
        norms = [xp.abs(p.grad.array).max() for p in params]
        total = xp.max(xp.stack([xp.asarray(n) for n in norms]))
    else:
        norms = [(xp.abs(p.grad.array.astype(xp.float64)) ** norm_type).sum() for p in params]
        total = xp.sum(xp.stack([xp.asarray(n) for n in norms])) ** (1.0 / norm_type)
    total = total.astype(params[0].grad.dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    coefficient = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)
    for param in params:
        param.grad.array *= coefficient.astype(param.grad.dtype)
    return Tensor(total)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for param in _with_grads(parameters):
        xp = backend.get_array_module(param.grad.array)
        xp.clip(param.grad.array, -clip_value, clip_value, out=param.grad.array)
