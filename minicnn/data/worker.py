"""DataLoader worker processes: each makes whole batches, the main process yields them in order.

The main process sends tasks ``(token, batch_index, indices)`` to the workers round-robin, keeping
``prefetch_factor`` tasks per worker in flight, and puts the answers back in batch order. A worker
builds a batch exactly as the main process would (the same ``BatchFetcher``), so a loader yields the
same batches with any number of workers.

Seeding, as torch does it: worker ``i`` of a pool started with base seed ``b`` gets seed ``b + i`` and
seeds minicnn (``manual_seed``), Python's ``random`` and NumPy's global generator with it before
``worker_init_fn(i)`` runs. ``get_worker_info()`` tells code running in a worker which one it is.

Workers are forked where the platform allows (the dataset is inherited, not pickled), else spawned
(then the dataset, collate_fn and worker_init_fn must pickle).
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import queue
import random
import time
import traceback
from dataclasses import dataclass
from multiprocessing import resource_tracker, shared_memory

import numpy as np

from .. import random as _random
from ..cpu import forking_single_threaded, get_num_threads, keep_freed_memory, restore_after_fork, set_num_threads

__all__ = ["WorkerInfo", "get_worker_info", "WorkerPool"]

_worker_info = None
_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info() -> WorkerInfo | None:
    """The current worker's ``WorkerInfo``; None in the main process."""
    return _worker_info


class _RaisedInWorker:
    """An exception from a worker, carried as its type and formatted traceback (always picklable)."""

    def __init__(self, error: BaseException, worker_id: int):
        self.type = type(error)
        self.message = (f"Caught {type(error).__name__} in DataLoader worker process {worker_id}.\n"
                        f"Original {traceback.format_exc()}")

    def reraise(self):
        try:
            error = self.type(self.message)
        except Exception:  # an exception type whose constructor wants other arguments
            error = RuntimeError(self.message)
        raise error


_SHARED_FROM_BYTES = 1 << 16  # smaller arrays travel pickled: a shared block costs more than it saves


class _Blocks:
    """A worker's shared memory blocks. A batch's large arrays are written into blocks and sent by name;
    the main process copies them out as soon as they arrive and hands the names back with the worker's
    next task, so blocks are reused and the batch is copied twice (in, out) with no fresh pages, instead
    of the four copies of pickling through a pipe."""

    def __init__(self):
        self.free, self.lent = [], {}

    def take_back(self, names) -> None:
        for name in names:
            if name in self.lent:
                self.free.append(self.lent.pop(name))

    def _block(self, size: int):
        fitting = [block for block in self.free if block.size >= size]
        if fitting:
            block = min(fitting, key=lambda b: b.size)
            self.free.remove(block)
            return block
        return shared_memory.SharedMemory(create=True, size=size)

    def pack(self, payload):
        kind, value = payload
        if kind != "columns":
            return payload
        columns = []
        for column in value:
            if column.nbytes < _SHARED_FROM_BYTES:
                columns.append(column)
                continue
            block = self._block(column.nbytes)
            np.ndarray(column.shape, column.dtype, buffer=block.buf)[...] = column
            self.lent[block.name] = block
            columns.append(("shared", block.name, column.shape, column.dtype.str))
        return "shared_columns", tuple(columns)

    def release_all(self) -> None:
        for block in self.free + list(self.lent.values()):
            block.close()
            block.unlink()
        self.free, self.lent = [], {}


class _Attached:
    """The main process's view of the workers' blocks: attached once, copied out of, names returned."""

    def __init__(self, workers: int):
        self.blocks, self.returned = {}, [[] for _ in range(workers)]

    def unpack(self, worker: int, payload):
        kind, value = payload
        if kind != "shared_columns":
            return payload
        columns = []
        for column in value:
            if isinstance(column, tuple) and column and column[0] == "shared":
                _, name, shape, dtype = column
                if name not in self.blocks:
                    self.blocks[name] = shared_memory.SharedMemory(name=name)  # the worker owns and unlinks it
                columns.append(np.array(np.ndarray(shape, np.dtype(dtype), buffer=self.blocks[name].buf)))
                self.returned[worker].append(name)
            else:
                columns.append(column)
        return "columns", tuple(columns)

    def hand_back(self, worker: int) -> list:
        names, self.returned[worker] = self.returned[worker], []
        return names

    def close(self) -> None:
        for block in self.blocks.values():
            block.close()
        self.blocks = {}


def _seed_worker(seed: int) -> None:
    random.seed(seed)
    _random.manual_seed(seed)
    np.random.seed(seed % 2**32)


def _worker_loop(fetcher, worker_id, num_workers, seed, worker_init_fn, tasks, results, stopping):
    global _worker_info
    _worker_info = WorkerInfo(worker_id, num_workers, seed, fetcher.dataset)
    # The workers already share the cores among themselves: threads of their own would only take the
    # cores from one another and from the main process.
    set_num_threads(1)
    # A fresh process starts with glibc's low thresholds, so each batch's large temporaries went back to
    # the kernel when freed and were faulted in again, page by page, for the next batch. No heap is
    # faulted in ahead: a worker's batches are small next to a training step, and there may be many workers.
    keep_freed_memory(reserve_bytes=0)
    _seed_worker(seed)
    init_error = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except BaseException as error:
            init_error = _RaisedInWorker(error, worker_id)
    streams = {}  # token -> this worker's iterator over an IterableDataset for that pass
    blocks = _Blocks()
    released = False
    try:
        while True:
            task = tasks.get()
            if task is None or stopping.is_set():  # shutting down: tasks still queued are not worth doing
                released = task is None and not stopping.is_set()  # the pass is over, every answer is in
                return
            token, batch_index, indices, returned = task
            blocks.take_back(returned)

            def answer(kind, payload=None):
                results.put((token, batch_index, worker_id, kind, payload))

            if init_error is not None:
                answer("error", init_error)
                continue
            try:
                if indices is None:  # the next batch of this worker's own pass over an IterableDataset
                    if token not in streams:
                        streams.clear()
                        streams[token] = fetcher.iterate(token[1])
                    try:
                        answer("batch", blocks.pack(next(streams[token])))
                    except StopIteration:
                        answer("exhausted")
                else:
                    answer("batch", blocks.pack(fetcher.fetch(token[1], batch_index, indices)))
            except BaseException as error:
                answer("error", _RaisedInWorker(error, worker_id))
    finally:
        results.close()
        results.join_thread()  # every answer is in the pipe before the blocks it names go away...
        if not released:
            stopping.wait(timeout=60)  # ...and the main process is done reading them
        blocks.release_all()


def _context(multiprocessing_context):
    if multiprocessing_context is None:
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context("fork" if "fork" in methods else methods[0])
    if isinstance(multiprocessing_context, str):
        return multiprocessing.get_context(multiprocessing_context)
    return multiprocessing_context


class WorkerPool:
    """``num_workers`` processes that answer batch tasks; ``run`` yields one pass's batches in order."""

    def __init__(self, fetcher, num_workers: int, base_seed: int, worker_init_fn=None, prefetch_factor: int = 2,
                 timeout: float = 0, multiprocessing_context=None):
        context = _context(multiprocessing_context)
        resource_tracker.ensure_running()  # one tracker, inherited by forked workers
        get_num_threads()  # BLAS found once here, so forked workers need not search for it
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.timeout = timeout
        self.results = context.Queue()
        self.stopping = context.Event()
        self.tasks = [context.Queue() for _ in range(num_workers)]
        self.attached = _Attached(num_workers)
        self.processes = []
        with forking_single_threaded():  # the workers' BLAS on one thread, no spinning starts
            for worker_id in range(num_workers):
                process = context.Process(
                    target=_worker_loop, name=f"minicnn-data-worker-{worker_id}", daemon=True,
                    args=(fetcher, worker_id, num_workers, base_seed + worker_id, worker_init_fn,
                          self.tasks[worker_id], self.results, self.stopping))
                process.start()
                self.processes.append(process)
        self._passes = 0
        self._released = set()  # workers told to exit

    def _receive(self):
        waited = 0.0
        while True:
            try:
                return self.results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                waited += _POLL_SECONDS
                dead = [p.pid for worker, p in enumerate(self.processes)
                        if worker not in self._released and not p.is_alive()]
                if dead:
                    self.shutdown()
                    raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited unexpectedly")
                if self.timeout and waited >= self.timeout:
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds")

    def run(self, epoch: int, batches=None, last: bool = False):
        """Yield the payloads of one pass: ``batches`` is a list of index arrays, or None for an
        IterableDataset (each worker then runs its own pass until it is exhausted).

        ``last``: no pass follows (workers that do not persist), so each worker is told to exit as
        soon as its last answer is in, and exits while the remaining batches are consumed instead
        of after them."""
        self._passes += 1
        token = (self._passes, epoch)  # answers carrying an older token belong to an abandoned pass
        active = list(range(self.num_workers))
        pending, owner = {}, {}
        sent = next_out = 0
        total = None if batches is None else len(batches)
        unanswered = [0] * self.num_workers  # tasks of this pass a worker has not answered yet

        def release_if_done(worker):
            if last and total is not None and sent == total and unanswered[worker] == 0:
                self._release(worker)

        def fill():
            nonlocal sent
            while active and (total is None or sent < total) and sent - next_out < self.prefetch_factor * len(active):
                worker = active[sent % len(active)]
                owner[sent] = worker
                self.tasks[worker].put((token, sent, None if batches is None else batches[sent],
                                        self.attached.hand_back(worker)))
                unanswered[worker] += 1
                sent += 1
            if sent == total:
                for worker in range(self.num_workers):
                    release_if_done(worker)

        fill()
        while next_out < sent:
            if next_out not in pending:
                answer_token, index, worker, kind, payload = self._receive()
                if kind == "batch":  # copied out at once, so the worker gets its blocks back soon
                    payload = self.attached.unpack(worker, payload)
                if answer_token == token:
                    pending[index] = (kind, payload)
                    unanswered[worker] -= 1
                    release_if_done(worker)
                continue
            kind, payload = pending.pop(next_out)
            next_out += 1
            if kind == "error":
                payload.reraise()
            if kind == "exhausted":
                if owner[next_out - 1] in active:
                    active.remove(owner[next_out - 1])
            else:
                yield payload
            fill()

    def _release(self, worker: int) -> None:
        """Tell a worker to exit: every answer it sent is in, and copied out of its blocks."""
        if worker not in self._released:
            self._released.add(worker)
            try:
                self.tasks[worker].put(None)
            except (OSError, ValueError):
                pass

    def shutdown(self) -> None:
        self.stopping.set()
        for worker, process in enumerate(self.processes):
            if process.is_alive():
                self._release(worker)
        deadline = time.monotonic() + 10
        reader = getattr(self.results, "_reader", None)  # to wake up as answers arrive, not poll
        while time.monotonic() < deadline:
            living = [p.sentinel for p in self.processes if p.is_alive()]
            if not living:
                break
            try:  # drain, so no worker blocks writing its last answers
                while True:
                    self.results.get_nowait()
            except (queue.Empty, OSError, ValueError, EOFError):
                pass
            multiprocessing.connection.wait(living + ([reader] if reader is not None else []),
                                            timeout=0.05 if reader is None else 1.0)
        for process in self.processes:
            if process.is_alive():  # stuck in a task: it cannot be waited for
                process.terminate()
            process.join()
        self.attached.close()
        restore_after_fork()  # this process's BLAS count, if no product has given it back yet
        for q in self.tasks + [self.results]:
            q.cancel_join_thread()
            q.close()
        self.processes = []
