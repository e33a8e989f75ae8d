"""Adam and AdamW (torch.optim.Adam / AdamW), with PyTorch's exact update.

For each parameter p with gradient g, at step t:

    g = -g                                         if maximize
    g = g + weight_decay * p                       Adam's L2 penalty
    p = p * (1 - lr * weight_decay)                AdamW's decoupled decay (instead of the line above)
    m = beta1 * m + (1 - beta1) * g                first moment
    v = beta2 * v + (1 - beta2) * g * g            second moment
    v_max = max(v_max, v)                          amsgrad (and v_max is used instead of v below)
    denom = sqrt(v) / sqrt(1 - beta2^t) + eps      eps added after the bias-corrected square root
    p = p - lr / (1 - beta1^t) * m / denom
"""
from __future__ import annotations

import math

from .. import argcheck, backend
from .adam_engines import ADAM_ENGINES
from .optimizer import Optimizer


class Adam(Optimizer):
    decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, maximize: bool = False):
        name = type(self).__name__
        for option, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
            argcheck.number(name, option, value)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair of numbers (beta1, beta2), got {betas!r}")
        for index, beta in enumerate(betas):
            argcheck.number(name, f"beta parameter at index {index}", beta)
        if lr < 0.0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {lr}")
        if eps < 0.0:
            raise ValueError(f"{type(self).__name__}: invalid epsilon value {eps}")
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"{type(self).__name__}: invalid beta parameters {betas}, each must be in [0, 1)")
        if weight_decay < 0.0:
            raise ValueError(f"{type(self).__name__}: invalid weight_decay value {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient, in place on its own device (no host sync)."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            # Python floats, so a numpy float64 option can never turn float32 updates into float64 ones.
            lr, beta1, beta2, eps = (float(v) for v in (group["lr"], *group["betas"], group["eps"]))
            weight_decay, amsgrad, maximize = float(group["weight_decay"]), group["amsgrad"], group["maximize"]
            for param in self._params_with_grad(group):
                xp = backend.get_array_module(param.array)
                grad = param.grad.array
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = xp.zeros_like(param.array)
                    state["exp_avg_sq"] = xp.zeros_like(param.array)
                    if amsgrad:
                        state["max_exp_avg_sq"] = xp.zeros_like(param.array)
                state["step"] += 1
                step = state["step"]
                step_size = lr / (1 - beta1**step)
                bias_correction2_sqrt = math.sqrt(1 - beta2**step)
                moments = (state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq") if amsgrad else None)
                engine = ADAM_ENGINES.choose((grad,) + moments, param.array)
                if engine is not None and not (amsgrad and moments[2] is None):
                    engine.step(param.array, grad, *moments, lr=lr, betas=(beta1, beta2), eps=eps,
                                weight_decay=weight_decay, decoupled=self.decoupled_weight_decay, maximize=maximize,
                                step_size=step_size, bias_correction2_sqrt=bias_correction2_sqrt)
                    continue
                # Two reused scratch arrays instead of a fresh temporary per term; param.grad is left
                # as backward made it (torch).
                scratch = self._scratch_like(param.array)
                if weight_decay != 0 and not self.decoupled_weight_decay:
                    penalized = xp.multiply(param.array, weight_decay, out=self._scratch_like(param.array, slot=1))
                    if maximize:
                        penalized -= grad  # g = -g + weight_decay * p
                    else:
                        penalized += grad  # g = g + weight_decay * p
                    grad = penalized
                else:
                    if maximize:
                        grad = xp.negative(grad, out=self._scratch_like(param.array, slot=1))
                    if weight_decay != 0:
                        param.array *= 1 - lr * weight_decay
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg *= beta1
                exp_avg += xp.multiply(grad, 1 - beta1, out=scratch)
                exp_avg_sq *= beta2
                xp.multiply(grad, grad, out=scratch)
                scratch *= 1 - beta2
                exp_avg_sq += scratch
                if amsgrad:
                    xp.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
                    second_moment = state["max_exp_avg_sq"]
                else:
                    second_moment = exp_avg_sq
                # The scratch array holds denom, then the update m / denom scaled by the step size.
                update = xp.sqrt(second_moment, out=scratch)
                update /= bias_correction2_sqrt
                update += eps
                xp.divide(exp_avg, update, out=update)
                update *= step_size
                param.array -= update
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr * weight_decay before the step."""

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
