"""DistributedDataParallel: the same model on every rank, gradients averaged during backward.

What is kept of torch's design, and why:

- **Start equal.** Construction broadcasts every parameter and buffer from rank 0, so ranks that
  seeded differently (or loaded different files) still train one model.
- **Buckets in reverse parameter order.** Backward produces gradients roughly from the last layer to
  the first, so parameters are grouped, last first, into buckets of ``bucket_cap_mb`` (25 MB, torch's
  default; the first bucket is 1 MB, also as torch, so that communication starts early). One
  allreduce per bucket amortizes MPI's per-message cost without waiting for all of backward.
- **Launch as soon as a bucket is ready.** A hook on each parameter (``register_post_accumulate_grad_hook``,
  torch's AccumulateGrad hook) counts down its bucket; a full bucket is flattened and its non-blocking
  ``Iallreduce`` started, while backward goes on with earlier layers. Buckets are launched in bucket
  order even when their gradients arrive out of order: MPI (and NCCL) require every rank to issue
  its collectives in the same order. An MPI without its own progress thread moves the data of a
  non-blocking collective only inside MPI calls, so while reductions are in flight a helper thread
  tests them every millisecond (Horovod's background thread does the same job); it sleeps between
  tests, so it costs little of a core that backward needs.
- **Wait before the optimizer.** The first hook of a backward queues a callback for the end of that
  backward (torch's ``queue_callback``); it waits for every bucket and writes the averaged gradients
  into ``.grad``, so ``loss.backward()`` returns with them in place and ``optimizer.step()`` sees them.
- **Average = sum / world size**, divided after the sum (torch divides before): in float64 the result
  then equals one process's gradient of the mean loss over the combined batch to rounding.
- ``no_sync()`` skips the communication (gradients accumulate locally); the first backward outside it
  reduces the accumulated gradients. ``find_unused_parameters`` walks the graph from the forward's
  outputs to find parameters that get no gradient, counts them as ready (contributing zeros) and,
  with one small allreduce of a used-flag per parameter, leaves ``.grad`` alone for those no rank used.
- ``broadcast_buffers``: before each training forward the buffers (BatchNorm running statistics) are
  copied from rank 0, in one message per dtype.

Left out: gradient_as_bucket_view (minicnn's leaf gradients may share memory with other arrays, so
the averages are written as new arrays), rebuilding buckets in the order observed in the first
iteration (for chains of layers, reverse registration order already is that order), static_graph,
communication hooks (compression), join() for uneven inputs, and modules spread over several devices.
"""
from __future__ import annotations

import contextlib
import threading
import time
import weakref

import numpy as np

from .. import backend
from ..autograd import Tensor, is_grad_enabled, queue_callback, topological_order
from ..nn.module import Module
from .collectives import all_reduce_array, broadcast_array
from .process_group import ReduceOp, default_group

_FIRST_BUCKET_BYTES = 1 << 20


class _Bucket:
    __slots__ = ("params", "ready", "buffer", "work")

    def __init__(self, params):
        self.params, self.ready, self.buffer, self.work = params, 0, None, None


class DistributedDataParallel(Module):
    """Wraps ``module``; ``forward`` is the module's, ``backward`` averages gradients over the ranks.

    Args:
        module: the model (all its parameters on one device).
        broadcast_buffers: copy the buffers from rank 0 before every forward in training mode.
        bucket_cap_mb: the size of a gradient bucket in MiB (25 by default, as torch).
        find_unused_parameters: allow parameters that get no gradient in some iterations.
        overlap: (minicnn's own) start each bucket's allreduce during backward (True) or all of them
            after backward has finished (False, to measure what the overlap gains).

    ``module`` is the wrapped model; its state_dict keys appear here with the prefix ``module.``.
    ``last_wait_seconds`` is how long the last backward waited for communication after it finished;
    ``last_launched_early`` how many of its buckets had started reducing while other gradients were
    still being computed.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb: float = 25,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False, *, overlap: bool = True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        group = default_group()  # raises when init_process_group was not called
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.overlap = overlap
        self.world_size = group.size
        self.last_wait_seconds = 0.0
        self.last_launched_early = 0
        params = [p for p in module.parameters() if p.requires_grad]
        devices = {p.device for p in params}
        if len(devices) > 1:
            raise ValueError(f"DistributedDataParallel: the module's parameters are on several devices {devices}")
        self._names = {id(p): name for name, p in module.named_parameters()}
        self._buckets = _make_buckets(params, int(bucket_cap_mb * (1 << 20)))
        self._bucket_of = {id(p): index for index, bucket in enumerate(self._buckets) for p in bucket.params}
        self._unused: set = set()
        self._pending = False  # a backward of this iteration has started reducing
        self._gradients_left = self._early = 0
        self._next_launch = 0
        _broadcast_coalesced([p.array for p in module.parameters()] + [b.array for b in module.buffers()])
        # Weakly bound: a wrapper that is dropped (or replaced by a new one) stops reducing gradients.
        ready = weakref.WeakMethod(self._gradient_ready)
        self._handles = [p.register_post_accumulate_grad_hook(lambda p, ready=ready: _call_if_alive(ready, p))
                         for p in params]
        self._progress = _Progress()

    # ------------------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self.training and self.broadcast_buffers and self.world_size > 1:
            buffers = [b.array for b in self.module.buffers()]
            if buffers:
                _broadcast_coalesced(buffers)
        output = self.module(*inputs, **kwargs)
        if self.find_unused_parameters and is_grad_enabled() and self.require_backward_grad_sync:
            used = _leaves_reached(output)
            self._unused = {id(p) for bucket in self._buckets for p in bucket.params if id(p) not in used}
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Within this context backward only accumulates gradients locally (no communication)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # -- during backward ---------------------------------------------------------------------------
    def _gradient_ready(self, param) -> None:
        if not self.require_backward_grad_sync:
            return
        if not self._pending:
            self._pending = True
            queue_callback(self._finish_backward)
            for bucket in self._buckets:
                bucket.ready = sum(1 for p in bucket.params if id(p) in self._unused)
            self._gradients_left = len(self._bucket_of) - len(self._unused)
            self._early = 0
        self._gradients_left -= 1
        self._buckets[self._bucket_of[id(param)]].ready += 1
        if self.overlap:
            launched = self._next_launch
            self._launch_ready_buckets()
            if self._next_launch > launched:
                self._progress.watch([b.work for b in self._buckets[launched:self._next_launch]])

    def _launch_ready_buckets(self) -> None:
        while self._next_launch < len(self._buckets):
            bucket = self._buckets[self._next_launch]
            if bucket.ready < len(bucket.params):
                return
            self._launch(bucket)
            self._next_launch += 1

    def _launch(self, bucket: _Bucket) -> None:
        first = bucket.params[0]
        xp = backend.get_array_module(first.array)
        pieces = [(p.grad.array if p.grad is not None else xp.zeros_like(p.array)).reshape(-1)
                  for p in bucket.params]
        bucket.buffer = xp.concatenate(pieces) if len(pieces) > 1 else pieces[0].copy()
        bucket.work = all_reduce_array(bucket.buffer, ReduceOp.SUM, async_op=True)
        if self._gradients_left > 0:
            self._early += 1

    def _finish_backward(self) -> None:
        self._progress.stop()  # before waiting: one request must not be tested by two threads at once
        self._launch_ready_buckets()
        self.last_launched_early = self._early
        if self._next_launch < len(self._buckets):
            missing = [self._names.get(id(p), "?") for b in self._buckets for p in b.params
                       if p.grad is None and id(p) not in self._unused]
            self._reset()
            raise RuntimeError(
                "DistributedDataParallel: some parameters received no gradient in this backward, so their "
                f"bucket could not be reduced: {missing[:10]}{' ...' if len(missing) > 10 else ''}. Pass "
                "find_unused_parameters=True when parts of the model are not used in every iteration")
        started = time.perf_counter()
        for bucket in self._buckets:
            bucket.work.wait()
        used_anywhere = self._used_anywhere() if self._unused else None
        self.last_wait_seconds = time.perf_counter() - started
        for bucket in self._buckets:
            bucket.buffer /= self.world_size
            offset = 0
            for p in bucket.params:
                count = p.numel()
                if used_anywhere is None or used_anywhere[id(p)]:
                    p.grad = Tensor._wrap(bucket.buffer[offset:offset + count].reshape(p.shape))
                offset += count
            bucket.buffer = bucket.work = None
        self._reset()

    def _used_anywhere(self) -> dict:
        params = [p for bucket in self._buckets for p in bucket.params]
        flags = np.array([id(p) not in self._unused or p.grad is not None for p in params], dtype=np.int32)
        all_reduce_array(flags, ReduceOp.MAX)
        return {id(p): bool(flag) for p, flag in zip(params, flags)}

    def _reset(self) -> None:
        self._pending = False
        self._next_launch = 0
        self._unused = set()

    def __del__(self):
        for handle in getattr(self, "_handles", ()):
            handle.remove()

    def extra_repr(self) -> str:
        sizes = [sum(p.numel() * p.dtype.itemsize for p in b.params) for b in self._buckets]
        return f"world_size={self.world_size}, buckets={len(sizes)} ({sum(sizes) / 2**20:.1f} MiB)"


# ----------------------------------------------------------------------------------------------
def _call_if_alive(method_ref, param) -> None:
    method = method_ref()
    if method is not None:
        method(param)


class _Progress:
    """A thread that tests in-flight MPI requests every ``interval`` seconds until ``stop()``."""

    def __init__(self, interval: float = 1e-3):
        self.interval = interval
        self.requests: list = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = None

    def watch(self, works) -> None:
        requests = [w._request for w in works if w is not None and w._request is not None]
        if not requests:
            return
        with self.lock:
            self.requests.extend(requests)
        if self.thread is None:
            self.stopping.clear()
            self.thread = threading.Thread(target=self._run, name="minicnn-allreduce-progress", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            with self.lock:
                requests = list(self.requests)
            for request in requests:
                request.Test()

    def stop(self) -> None:
        if self.thread is not None:
            self.stopping.set()
            self.thread.join()
            self.thread = None
        with self.lock:
            self.requests = []


def _make_buckets(params, cap_bytes: int) -> list:
    """Parameters in reverse order, cut into buckets of at most ``cap_bytes`` (the first 1 MiB) of one
    device and dtype; a parameter larger than the cap gets a bucket of its own."""
    buckets, current, size, key = [], [], 0, None
    for p in reversed(params):
        nbytes = p.numel() * p.dtype.itemsize
        limit = min(cap_bytes, _FIRST_BUCKET_BYTES) if not buckets else cap_bytes
        p_key = (p.device, p.dtype)
        if current and (size + nbytes > limit or p_key != key):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(p)
        size += nbytes
        key = p_key
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _broadcast_coalesced(arrays, src: int = 0) -> None:
    """Broadcast arrays from ``src`` in place, in one message per (device, dtype)."""
    groups: dict = {}
    for array in arrays:
        groups.setdefault((backend.device_of(array), array.dtype.str), []).append(array)
    for members in groups.values():
        xp = backend.get_array_module(members[0])
        flat = xp.concatenate([a.reshape(-1) for a in members])
        broadcast_array(flat, src)
        offset = 0
        for a in members:
            a[...] = flat[offset:offset + a.size].reshape(a.shape)
            offset += a.size


def _leaves_reached(output) -> set:
    """ids of the leaf Tensors the graph of ``output`` (a Tensor or nested tuple/list/dict) reaches."""
    tensors, stack = [], [output]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            tensors.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    reached = {id(t) for t in tensors if t.requires_grad and t._ctx is None}
    for tensor in tensors:
        if tensor._ctx is not None:
            for node in topological_order(tensor._ctx):
                reached.update(id(t) for t in node.inputs if isinstance(t, Tensor))
    return reached
