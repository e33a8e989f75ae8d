"""Stopping a run whose loss or gradients stop being finite (a learning rate far too large, say).

Every step contributes two device scalars: the loss and the sum of every parameter's gradient (NaN or
infinite exactly when some gradient is, barring a float overflow of the sum, which is divergence
too). On the cpu they are read every step, before the optimizer applies the step; on a GPU reading a
value waits for the device, so they are read every few steps, in one transfer, and the first bad step
among them is the one reported. Either way the epoch's checkpoint is not written, so ``last.npz`` and
``best.npz`` stay those of the last finite epoch.
"""
from __future__ import annotations

import numpy as np

from .. import backend


class TrainingDiverged(RuntimeError):
    """The loss, a gradient or a parameter became NaN or infinite. ``epoch`` and ``step`` (1-based; step is
    None for the end-of-epoch check of the parameters) say where."""

    def __init__(self, message: str, epoch: int, step: int | None):
        super().__init__(message)
        self.epoch = epoch
        self.step = step


class FiniteWatch:
    """Collects each step's loss and gradient sum; ``check()`` raises TrainingDiverged at the first bad one."""

    def __init__(self, epoch: int, parameters, every: int, where: str = ""):
        self.epoch = epoch
        self.parameters = [param for param in parameters]
        self.every = max(1, int(every))
        self.where = where
        self.pending: list = []  # (step, loss array, gradient-sum array)

    def record(self, step: int, loss) -> None:
        grads = [param.grad.array for param in self.parameters if param.grad is not None]
        grad_sum = None
        for grad in grads:
            part = grad.sum()
            grad_sum = part if grad_sum is None else grad_sum + part
        self.pending.append((step, loss.array, grad_sum))
        if step % self.every == 0:
            self.check()

    def check(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        values = [value for _, loss, grad_sum in pending for value in (loss, grad_sum)]
        host = [None if value is None else float(backend.to_host(value)) for value in values]
        for index, (step, _, _) in enumerate(pending):
            loss, grad_sum = host[2 * index], host[2 * index + 1]
            if not np.isfinite(loss):
                self.fail(step, f"the loss is {loss}")
            if grad_sum is not None and not np.isfinite(grad_sum):
                self.fail(step, f"a gradient is {'nan' if np.isnan(grad_sum) else 'infinite'} (the loss was {loss:.4g})")

    def fail(self, step: int | None, what: str) -> None:
        at = f"epoch {self.epoch}, step {step}" if step is not None else f"the end of epoch {self.epoch}"
        raise TrainingDiverged(f"training diverged at {at}: {what}; {self.where}", self.epoch, step)


def non_finite_state(module) -> str | None:
    """The name of the first parameter or buffer of ``module`` holding a NaN or an infinity, else None."""
    for name, value in module.state_dict().items():
        array = getattr(value, "array", value)
        if getattr(array, "dtype", None) is None or array.dtype.kind != "f":
            continue
        xp = backend.get_array_module(array)
        if not bool(xp.isfinite(array).all()):
            return name
    return None
