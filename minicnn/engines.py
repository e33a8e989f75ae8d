"""The switch between each Function's reference algorithm and the engines that compute the same thing faster.

Every layer family's Function is written once as the textbook algorithm (im2col + GEMM for a
convolution, the windows for pooling, the batch norm formulas). Faster ways to the same numbers
(direct convolution, Winograd, chunks of images on every core, numba kernels) are *engines*: objects
with

    applies(geometry, x) -> bool     can it compute this case? (``x``: the raw input array, whose
                                     device, dtype, shape and memory layout it may need)
    forward(...) / backward(...)     the same results as the reference, its own way

listed in one ``EngineTable`` per family, in order of preference. A Function asks its table
``choose(geometry, x)`` and runs the first engine that applies, or its own reference code when none
does, or when engines are switched off:

    with minicnn.engines.reference_only():      # this block runs the reference algorithms only
        loss.backward()

or for a whole process, ``MINICNN_ENGINES=reference`` in the environment before minicnn is imported.
"""
from __future__ import annotations

import contextlib
import os
import threading

ENVIRONMENT_VARIABLE = "MINICNN_ENGINES"
_CHOICES = ("default", "reference")


def _from_environment() -> bool:
    value = os.environ.get(ENVIRONMENT_VARIABLE, "default").strip().lower() or "default"
    if value not in _CHOICES:
        raise ValueError(f"{ENVIRONMENT_VARIABLE} must be one of {_CHOICES}, got {value!r}")
    return value == "default"


_state = {"enabled": _from_environment()}
_lock = threading.Lock()


def enabled() -> bool:
    """True when the Functions may use their engines (the default), False for the reference paths only."""
    return _state["enabled"]


def reference_only():
    """``with reference_only():`` every Function runs its reference algorithm, for study or debugging.

    The setting is process-wide (the engines' own worker threads must see it too) and restored on exit."""
    return engines_enabled(False)


@contextlib.contextmanager
def engines_enabled(flag: bool = True):
    """``with engines_enabled(flag):`` engines on (True) or off (False) inside the block."""
    with _lock:
        previous, _state["enabled"] = _state["enabled"], bool(flag)
    try:
        yield
    finally:
        _state["enabled"] = previous


class Engine:
    """One faster way to compute a family's Function. Subclasses set ``name`` and ``why`` (one line each)
    and define ``applies``; ``forward``/``backward`` take what their family's Function hands them."""

    name = "engine"
    why = ""

    def applies(self, geometry, x) -> bool:
        raise NotImplementedError

    def __repr__(self):
        return f"<engine {self.name}>"


class EngineTable:
    """A family's engines in order of preference: the first that applies to a case computes it."""

    def __init__(self, family: str, engines):
        self.family = family
        self.engines = tuple(engines)

    def choose(self, geometry, x):
        """The engine for this case, or None: the Function then runs its reference code."""
        if not _state["enabled"]:
            return None
        for engine in self.engines:
            if engine.applies(geometry, x):
                return engine
        return None

    def __iter__(self):
        return iter(self.engines)

    def __getitem__(self, name: str) -> Engine:
        for engine in self.engines:
            if engine.name == name:
                return engine
        raise KeyError(f"{self.family} has no engine {name!r}; it has {[e.name for e in self.engines]}")

    def describe(self) -> str:
        """The table as text: each engine, in order, with why it is there."""
        return "\n".join(f"{index}. {e.name}: {e.why}" for index, e in enumerate(self.engines, 1))
