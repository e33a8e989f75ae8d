"""Adamax, NAdam and RAdam (torch.optim's updates, step for step).

With g the gradient (negated when ``maximize``; L2 decay adds ``weight_decay * p``, or with
``decoupled_weight_decay`` p is first scaled by 1 - lr * weight_decay), m = m + (1 - beta1)(g - m) and,
for NAdam / RAdam, v = beta2 v + (1 - beta2) g^2, at step t:

    Adamax  u = max(beta2 u, |g| + eps);  p -= lr / (1 - beta1^t) * m / u
    NAdam   mu_t = beta1 (1 - 0.96^(t psi) / 2)  (psi = momentum_decay), P_t = prod mu_1..mu_t;
            denom = sqrt(v / (1 - beta2^t)) + eps;
            p -= lr (1 - mu_t) / (1 - P_t) * g / denom + lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / denom
    RAdam   rho_inf = 2 / (1 - beta2) - 1, rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t), mhat = m / (1 - beta1^t);
            rho_t > 5: r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
                       p -= lr mhat r sqrt(1 - beta2^t) / (sqrt(v) + eps);   otherwise p -= lr mhat
"""
from __future__ import annotations

import math

from .. import backend
from .optimizer import Optimizer


def _check(lr, eps, betas, weight_decay):
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps < 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for index, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
    if weight_decay < 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class _AdamFamily(Optimizer):
    """The shared gradient preparation and first moment; subclasses write ``update``."""

    def _prepared_gradient(self, param, group):
        grad = -param.grad.array if group["maximize"] else param.grad.array
        decay = float(group["weight_decay"])
        if decay != 0:
            if group.get("decoupled_weight_decay", False):
                param.array *= 1 - float(group["lr"]) * decay
            else:
                grad = grad + decay * param.array
        return grad

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for param in self._params_with_grad(group):
                xp = backend.get_array_module(param.array)
                grad, state = self._prepared_gradient(param, group), self.state[param]
                if not state:
                    self._init_state(state, param.array, xp)
                state["step"] += 1
                exp_avg = state["exp_avg"]
                exp_avg += (1 - float(group["betas"][0])) * (grad - exp_avg)
                self.update(param, grad, state, group, xp)
        return loss

    def _init_state(self, state, array, xp):
        state.update(step=0, exp_avg=xp.zeros_like(array), exp_avg_sq=xp.zeros_like(array))


class Adamax(_AdamFamily):
    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach=None, *, maximize: bool = False, differentiable: bool = False, capturable: bool = False):
        _check(lr, eps, betas, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _init_state(self, state, array, xp):
        state.update(step=0, exp_avg=xp.zeros_like(array), exp_inf=xp.zeros_like(array))

    def update(self, param, grad, state, group, xp):
        beta1, beta2 = (float(b) for b in group["betas"])
        exp_inf = state["exp_inf"]
        xp.maximum(exp_inf * beta2, xp.abs(grad) + float(group["eps"]), out=exp_inf)
        param.array -= float(group["lr"]) / (1 - beta1 ** state["step"]) * state["exp_avg"] / exp_inf


class NAdam(_AdamFamily):
    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):
        _check(lr, eps, betas, weight_decay)
        if momentum_decay < 0.0:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach, maximize=maximize, capturable=capturable,
                                      differentiable=differentiable))

    def _init_state(self, state, array, xp):
        super()._init_state(state, array, xp)
        state["mu_product"] = 1.0

    def update(self, param, grad, state, group, xp):
        beta1, beta2 = (float(b) for b in group["betas"])
        lr, eps, decay, step = float(group["lr"]), float(group["eps"]), float(group["momentum_decay"]), state["step"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        state["mu_product"] *= mu
        exp_avg_sq = state["exp_avg_sq"]
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        denom = xp.sqrt(exp_avg_sq / (1 - beta2 ** step)) + eps
        param.array -= lr * (1.0 - mu) / (1.0 - state["mu_product"]) * grad / denom
        param.array -= lr * mu_next / (1.0 - state["mu_product"] * mu_next) * state["exp_avg"] / denom


class RAdam(_AdamFamily):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        _check(lr, eps, betas, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, foreach=foreach,
                                      maximize=maximize, capturable=capturable, differentiable=differentiable))

    def update(self, param, grad, state, group, xp):
        beta1, beta2 = (float(b) for b in group["betas"])
        lr, eps, step = float(group["lr"]), float(group["eps"]), state["step"]
        exp_avg_sq = state["exp_avg_sq"]
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        correction2 = 1 - beta2 ** step
        corrected = state["exp_avg"] / (1 - beta1 ** step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2 ** step / correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            param.array -= corrected * lr * (math.sqrt(correction2) / (xp.sqrt(exp_avg_sq) + eps)) * rect
        else:
            param.array -= corrected * lr
