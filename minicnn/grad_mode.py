"""Whether operations record a graph: ``is_grad_enabled`` and torch's ``no_grad`` / ``enable_grad`` /
``set_grad_enabled``, per thread, as context managers and decorators."""
from __future__ import annotations

import contextlib
import threading

_grad_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_grad_state, "enabled", True)


def _set_grad_enabled(mode: bool) -> None:
    _grad_state.enabled = bool(mode)


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets whether operations record a graph."""

    def __init__(self, mode: bool):
        self.mode = mode

    def __enter__(self):
        self.previous = is_grad_enabled()
        _set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc_info):
        _set_grad_enabled(self.previous)
        return False


def no_grad():
    """``with minicnn.no_grad():`` runs operations without recording a graph (inference, updates)."""
    return _GradMode(False)


def enable_grad():
    return _GradMode(True)


def set_grad_enabled(mode: bool):
    return _GradMode(mode)
