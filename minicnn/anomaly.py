"""Anomaly detection: find the operation, and the layer, that first produced a NaN or an infinity.

    with minicnn.autograd.detect_anomaly():
        loss = model(images).sum()
        loss.backward()        # RuntimeError naming e.g. "LogBackward" in layer "head.1 (Log)"

While the mode is on, every ``Function.apply`` checks its output and every step of the backward walk
checks the gradients a Function's ``backward`` returned; the first non-finite value raises
``AnomalyError`` (a RuntimeError, as torch's) naming the Function, forward or backward, and the module
path of the layer that ran it (``Module.__call__`` keeps a stack of the modules being called while the
mode is on). Off, the cost is one test of a module-level flag per operation and per module call.
Checking reads every value back, so the mode is for finding a fault, not for every run (as in torch).
"""
from __future__ import annotations

import contextlib
import threading

from . import backend

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "AnomalyError"]

# Read on every operation: a plain module attribute is the cheapest test there is.
enabled = False
_modules = threading.local()  # .stack: the modules whose forward is running, outermost first


class AnomalyError(RuntimeError):
    """A Function's forward or backward produced a NaN or an infinity while anomaly mode was on."""


def is_anomaly_enabled() -> bool:
    return enabled


class set_detect_anomaly(contextlib.ContextDecorator):
    """Turn anomaly detection on or off: as a call (``set_detect_anomaly(True)``), a context manager or a
    decorator; leaving the ``with`` block restores the previous mode."""

    def __init__(self, mode: bool, check_nan: bool = True):
        global enabled
        self.previous = enabled
        enabled = bool(mode) and bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        global enabled
        enabled = self.previous
        return False


class detect_anomaly(contextlib.ContextDecorator):
    """Context manager (and decorator) that turns anomaly detection on inside it; see the module docstring."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        global enabled
        self.previous = enabled
        enabled = bool(self.check_nan)
        return self

    def __exit__(self, *exc_info):
        global enabled
        enabled = self.previous
        return False


# ----------------------------------------------------------------------------------------------
# Which layer is running
# ----------------------------------------------------------------------------------------------

def call_module(module, run, args, kwargs):
    """Run ``run(*args, **kwargs)`` (the module's forward, with its hooks) with ``module`` on the stack
    of running modules (anomaly mode only)."""
    stack = getattr(_modules, "stack", None)
    if stack is None:
        stack = _modules.stack = []
    stack.append(module)
    try:
        return run(*args, **kwargs)
    finally:
        stack.pop()


def _module_stack() -> tuple:
    return tuple(getattr(_modules, "stack", ()))


def layer_path(modules: tuple) -> str | None:
    """``"'features.3' (Conv2d)"``: the dotted name, from the outermost running module, of the innermost."""
    if not modules:
        return None
    names = []
    for parent, child in zip(modules, modules[1:]):
        name = next((name for name, module in parent.named_modules() if module is child and name), None)
        names.append(name if name is not None else f"<{type(child).__name__}>")
    innermost = type(modules[-1]).__name__
    return f"'{'.'.join(names)}' ({innermost})" if names else f"the model itself ({innermost})"


# ----------------------------------------------------------------------------------------------
# The checks Function.apply and the backward walk make while the mode is on
# ----------------------------------------------------------------------------------------------

def _non_finite(array) -> str | None:
    """"nan" or "inf" when a floating array holds one, else None."""
    if array is None or getattr(array, "dtype", None) is None or array.dtype.kind not in "fc":
        return None
    xp = backend.get_array_module(array)
    if bool(xp.isfinite(array).all()):
        return None
    return "nan" if bool(xp.isnan(array).any()) else "inf"


def _where(function) -> str:
    path = layer_path(getattr(function, "_anomaly_modules", ()))
    return f"in layer {path}" if path else "outside any module"


def check_forward(function, input_arrays, output) -> None:
    """After ``function.forward``: remember the running layer, raise if the output is newly non-finite."""
    function._anomaly_modules = _module_stack()
    kind = _non_finite(output)
    if kind is None:
        return
    name = type(function).__name__
    for position, array in enumerate(input_arrays):
        bad = _non_finite(array)
        if bad is not None:
            raise AnomalyError(f"Function '{name}' got {bad} values in its input {position} {_where(function)}: "
                               "they came from outside the recorded operations (the data or a parameter)")
    raise AnomalyError(f"Function '{name}' returned {kind} values in its forward output {_where(function)}")


def check_backward(function, grad_output, input_grads) -> None:
    """After ``function.backward``: raise if a gradient it returned is non-finite."""
    for position, grad in enumerate(input_grads):
        kind = _non_finite(grad)
        if kind is None:
            continue
        name = type(function).__name__
        received = _non_finite(grad_output)
        cause = f" (the gradient it received already held {received})" if received else ""
        raise AnomalyError(f"Function '{name}Backward' returned {kind} values in its {_ordinal(position)} output "
                           f"{_where(function)}{cause}")


def _ordinal(position: int) -> str:
    return f"{position}th"
