"""RMSprop, Adagrad and Adadelta (torch.optim's updates, step for step).

For a parameter p with gradient g (negated first when ``maximize``; plus ``weight_decay * p``):

    RMSprop   v = alpha v + (1 - alpha) g^2;  centered: m = m + (1 - alpha)(g - m), denom = sqrt(v - m^2) + eps,
              else denom = sqrt(v) + eps;  momentum b: b = momentum b + g / denom, p -= lr b;
              without momentum: p -= lr g / denom
    Adagrad   s = s + g^2;  p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)
              (s starts at ``initial_accumulator_value``)
    Adadelta  v = rho v + (1 - rho) g^2;  delta = sqrt(u + eps) / sqrt(v + eps) * g;
              u = rho u + (1 - rho) delta^2;  p -= lr delta
"""
from __future__ import annotations

from .. import backend
from .optimizer import Optimizer


def _check(owner, **values):
    for name, value in values.items():
        if value < 0.0:
            raise ValueError(f"Invalid {name} value: {value}" if name != "lr" else f"Invalid learning rate: {value}")


def _gradient(param, group):
    """The gradient after ``maximize`` and L2 weight decay (a new array: param.grad is left alone)."""
    grad = -param.grad.array if group["maximize"] else param.grad.array
    if group["weight_decay"] != 0:
        grad = grad + float(group["weight_decay"]) * param.array
    return grad


class RMSprop(Optimizer):
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False, foreach=None,
                 maximize: bool = False, differentiable: bool = False):
        _check("RMSprop", lr=lr, epsilon=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, alpha, eps, momentum = (float(group[k]) for k in ("lr", "alpha", "eps", "momentum"))
            for param in self._params_with_grad(group):
                xp = backend.get_array_module(param.array)
                grad, state = _gradient(param, group), self.state[param]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = xp.zeros_like(param.array)
                    if momentum > 0:
                        state["momentum_buffer"] = xp.zeros_like(param.array)
                    if group["centered"]:
                        state["grad_avg"] = xp.zeros_like(param.array)
                state["step"] += 1
                square_avg = state["square_avg"]
                square_avg *= alpha
                square_avg += (1 - alpha) * grad * grad
                if group["centered"]:
                    grad_avg = state["grad_avg"]
                    grad_avg += (1 - alpha) * (grad - grad_avg)
                    denom = xp.sqrt(square_avg - grad_avg * grad_avg) + eps
                else:
                    denom = xp.sqrt(square_avg) + eps
                if momentum > 0:
                    buffer = state["momentum_buffer"]
                    buffer *= momentum
                    buffer += grad / denom
                    param.array -= lr * buffer
                else:
                    param.array -= lr * grad / denom
        return loss


class Adagrad(Optimizer):
    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, fused=None):
        _check("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
               initial_accumulator_value=initial_accumulator_value, epsilon=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:  # torch fills the state when the optimizer is made
            for param in group["params"]:
                xp = backend.get_array_module(param.array)
                self.state[param] = {"step": 0, "sum": xp.full_like(param.array, group["initial_accumulator_value"])}

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
            for param in self._params_with_grad(group):
                xp = backend.get_array_module(param.array)
                grad, state = _gradient(param, group), self.state[param]
                if not state:  # a parameter group added after construction
                    state.update(step=0, sum=xp.full_like(param.array, group["initial_accumulator_value"]))
                state["step"] += 1
                clr = lr / (1 + (state["step"] - 1) * lr_decay)
                state["sum"] += grad * grad
                param.array -= clr * grad / (xp.sqrt(state["sum"]) + eps)
        return loss


class Adadelta(Optimizer):
    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach=None, *, capturable: bool = False, maximize: bool = False, differentiable: bool = False):
        _check("Adadelta", lr=lr, epsilon=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      capturable=capturable, maximize=maximize, differentiable=differentiable))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            for param in self._params_with_grad(group):
                xp = backend.get_array_module(param.array)
                grad, state = _gradient(param, group), self.state[param]
                if not state:
                    state.update(step=0, square_avg=xp.zeros_like(param.array), acc_delta=xp.zeros_like(param.array))
                state["step"] += 1
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                square_avg *= rho
                square_avg += (1 - rho) * grad * grad
                delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * grad
                acc_delta *= rho
                acc_delta += (1 - rho) * delta * delta
                param.array -= lr * delta
        return loss
