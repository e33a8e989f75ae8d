"""``profile``: time every Function's forward and backward while the block runs.

    with minicnn.profiler.profile(record_shapes=True, profile_memory=True) as prof:
        with minicnn.profiler.record_function("train_step"):
            loss = F.cross_entropy(model(x), y)
            loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")   # open in https://ui.perfetto.dev or chrome://tracing

While a profile is active, ``autograd._profiler`` points at it and ``Function.apply`` and the backward
walk call ``forward``/``backward`` below instead of the op directly; when none is, they pay one global
lookup per op. On a GPU each op's time is measured after synchronizing the device, so it is the op's
own time, not its launch's (which also makes the profiled run slower than an unprofiled one).
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
import time

from . import flops as _flops
from .events import EventList, FunctionEvent


class ProfilerActivity:
    CPU = "cpu"
    CUDA = "cuda"


def _now_us() -> float:
    return time.perf_counter_ns() / 1000.0


def _synchronize(array) -> None:
    """Wait for the GPU's queued work (cupy arrays only), so an op's time covers its execution."""
    module = type(array).__module__
    if module.startswith("cupy"):
        import cupy

        cupy.cuda.get_current_stream().synchronize()


class profile:
    """Collects a ``FunctionEvent`` per op call (forward and backward) and ``record_function`` range.

    Args:
        activities: accepted for torch's signature; minicnn times what runs, on whichever device.
        record_shapes: keep each op's input shapes (``key_averages(group_by_input_shape=True)``).
        profile_memory: count the bytes each forward saves for its backward.
        with_flops: count FLOPs of convolutions and matrix products (on by default here; it is cheap).
        enabled: False makes the block run unprofiled.
    """

    def __init__(self, activities=None, record_shapes: bool = False, profile_memory: bool = False,
                 with_flops: bool = True, enabled: bool = True):
        self.activities = activities
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_flops = with_flops
        self.enabled = enabled
        self._events: list[FunctionEvent] = []
        self._local = threading.local()
        self._previous = None
        self._started_us = 0.0

    # -- the context ------------------------------------------------------------------------------
    def __enter__(self) -> "profile":
        if self.enabled:
            self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.enabled:
            self.stop()

    def start(self) -> None:
        from .. import autograd

        self._previous, autograd._profiler = autograd._profiler, self
        self._started_us = _now_us()
        _active.append(self)

    def stop(self) -> None:
        from .. import autograd

        autograd._profiler = self._previous
        if self in _active:
            _active.remove(self)

    # -- recording -------------------------------------------------------------------------------
    def _stack(self) -> list:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def open(self, name: str, direction: str, shapes=None) -> FunctionEvent:
        event = FunctionEvent(name, direction, _now_us() - self._started_us, thread=threading.get_ident(),
                              input_shapes=shapes if self.record_shapes and shapes is not None else [])
        self._stack().append(event)
        return event

    def close(self, event: FunctionEvent) -> None:
        event.duration_us = _now_us() - self._started_us - event.start_us
        stack = self._stack()
        if stack and stack[-1] is event:
            stack.pop()
        if stack:
            stack[-1].children_us += event.duration_us
        self._events.append(event)

    def forward(self, ctx, arrays, params):
        """``ctx.forward(*arrays, **params)``, timed; called by ``Function.apply``."""
        name = type(ctx).__name__
        shapes = [None if array is None else tuple(array.shape) for array in arrays]
        event = self.open(name, "forward", shapes)
        try:
            output = ctx.forward(*arrays, **params)
            _synchronize(output)
        finally:
            self.close(event)
        if self.with_flops:
            event.flops = _flops.forward_flops(name, shapes, getattr(output, "shape", ()))
            if event.flops:
                ctx.__dict__["_profiled_flops"] = event.flops
        if self.profile_memory and any(ctx.needs_input_grad):
            event.saved_bytes = _flops.saved_bytes(ctx)
        return output

    def backward(self, node, grad_output):
        """``node.backward(grad_output)``, timed; called by the backward walk."""
        forward_flops = node.__dict__.get("_profiled_flops", 0)
        event = self.open(type(node).__name__, "backward", [tuple(grad_output.shape)])
        try:
            grads = node.backward(grad_output)
            _synchronize(grad_output)
        finally:
            self.close(event)
        event.flops = _flops.backward_flops(forward_flops, node.needs_input_grad)
        return grads

    # -- results ---------------------------------------------------------------------------------
    def events(self) -> EventList:
        return EventList(self._events)

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        return self.events().key_averages(group_by_input_shape)

    def table(self, *args, **kwargs) -> str:
        return self.key_averages().table(*args, **kwargs)

    def export_chrome_trace(self, path) -> None:
        """Write the events in the Trace Event Format (complete "X" events, microseconds)."""
        pid = os.getpid()
        trace = [{"name": event.key, "cat": event.direction or "user_annotation", "ph": "X",
                  "ts": round(event.start_us, 3), "dur": round(event.duration_us, 3), "pid": pid,
                  "tid": event.thread,
                  "args": {"Input Dims": event.input_shapes, "flops": event.flops,
                           "saved_bytes": event.saved_bytes}}
                 for event in sorted(self._events, key=lambda e: e.start_us)]
        with open(os.fspath(path), "w") as file:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, file)


_active: list[profile] = []  # the profiles recording now (record_function writes into the innermost)


class record_function(contextlib.ContextDecorator):
    """A named range in the profile (``with record_function("data"): ...`` or as a decorator);
    the ops inside count towards its total time, not its self time. Does nothing when no profile runs."""

    def __init__(self, name: str, args=None):
        self.name = name
        self._open = []  # (profile, event) per entry still open: a decorated function may recurse

    def __enter__(self) -> "record_function":
        if _active:
            profiler = _active[-1]
            self._open.append((profiler, profiler.open(self.name, "")))
        else:
            self._open.append(None)
        return self

    def __exit__(self, *exc_info) -> None:
        entry = self._open.pop() if self._open else None
        if entry is not None:
            entry[0].close(entry[1])
