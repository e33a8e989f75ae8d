"""Stochastic gradient descent with momentum, dampening, Nesterov, weight decay, maximize (torch.optim.SGD).

For each parameter p with gradient g, as PyTorch:

    g = -g                              if maximize
    g = g + weight_decay * p            (L2 penalty)
    b = g                               on the first step, then
    b = momentum * b + (1 - dampening) * g
    g = g + momentum * b  if nesterov  else  g = b
    p = p - lr * g
"""
from __future__ import annotations

from .. import backend
from .. import argcheck
from .optimizer import Optimizer, required
from .sgd_engines import SGD_ENGINES


class SGD(Optimizer):
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        for name, value in (("lr", lr), ("momentum", momentum), ("dampening", dampening),
                            ("weight_decay", weight_decay)):
            if value is not required:
                argcheck.number("SGD", name, value)
        if lr is not required and lr < 0.0:
            raise ValueError(f"SGD: invalid learning rate {lr}")
        if momentum < 0.0:
            raise ValueError(f"SGD: invalid momentum value {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"SGD: invalid weight_decay value {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient, in place on its own device."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            # Python floats, so a numpy float64 option can never turn float32 updates into float64 ones.
            lr, momentum, dampening = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
            weight_decay, nesterov, maximize = float(group["weight_decay"]), group["nesterov"], group["maximize"]
            for param in self._params_with_grad(group):
                grad = param.grad.array
                buffer = self.state[param].get("momentum_buffer") if momentum != 0 else None
                engine = SGD_ENGINES.choose((grad, buffer), param.array)
                if engine is not None:
                    buffer = engine.step(param.array, grad, buffer, weight_decay, momentum, dampening, nesterov,
                                         maximize, lr)
                    if buffer is not None:
                        self.state[param]["momentum_buffer"] = buffer
                    continue
                xp = backend.get_array_module(param.array)
                # In place, in one reused scratch array: param.grad is left as backward made it (torch).
                scratch = self._scratch_like(param.array)
                if weight_decay != 0:
                    xp.multiply(param.array, weight_decay, out=scratch)
                    if maximize:
                        scratch -= grad  # g = -g + weight_decay * p
                    else:
                        scratch += grad  # g = g + weight_decay * p
                    grad = scratch
                elif maximize:
                    grad = xp.negative(grad, out=scratch)
                if momentum != 0:
                    state = self.state[param]
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = state["momentum_buffer"] = grad.copy()
                    else:
                        buffer *= momentum
                        if dampening != 0:
                            grad = xp.multiply(grad, 1 - dampening, out=scratch)
                        buffer += grad  # b = momentum * b + (1 - dampening) * g
                    grad = grad + momentum * buffer if nesterov else buffer
                param.array -= xp.multiply(grad, lr, out=scratch)  # p = p - lr * g
        return loss
