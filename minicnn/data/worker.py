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
import queue
import random
import traceback
from dataclasses import dataclass

import numpy as np

from .. import random as _random

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


def _seed_worker(seed: int) -> None:
    random.seed(seed)
    _random.manual_seed(seed)
    np.random.seed(seed % 2**32)


def _worker_loop(fetcher, worker_id, num_workers, seed, worker_init_fn, tasks, results, stopping):
    global _worker_info
    _worker_info = WorkerInfo(worker_id, num_workers, seed, fetcher.dataset)
    _seed_worker(seed)
    init_error = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except BaseException as error:
            init_error = _RaisedInWorker(error, worker_id)
    streams = {}  # token -> this worker's iterator over an IterableDataset for that pass
    while True:
        task = tasks.get()
        if task is None or stopping.is_set():  # shutting down: tasks still queued are not worth doing
            return
        token, batch_index, indices = task
        if init_error is not None:
            results.put((token, batch_index, "error", init_error))
            continue
        try:
            if indices is None:  # the next batch of this worker's own pass over an IterableDataset
                if token not in streams:
                    streams.clear()
                    streams[token] = fetcher.iterate(token[1])
                stream = streams[token]
                try:
                    results.put((token, batch_index, "batch", next(stream)))
                except StopIteration:
                    results.put((token, batch_index, "exhausted", None))
            else:
                results.put((token, batch_index, "batch", fetcher.fetch(token[1], batch_index, indices)))
        except BaseException as error:
            results.put((token, batch_index, "error", _RaisedInWorker(error, worker_id)))


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
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.timeout = timeout
        self.results = context.Queue()
        self.stopping = context.Event()
        self.tasks = [context.Queue() for _ in range(num_workers)]
        self.processes = []
        for worker_id in range(num_workers):
            process = context.Process(
                target=_worker_loop, name=f"minicnn-data-worker-{worker_id}", daemon=True,
                args=(fetcher, worker_id, num_workers, base_seed + worker_id, worker_init_fn,
                      self.tasks[worker_id], self.results, self.stopping))
            process.start()
            self.processes.append(process)
        self._passes = 0

    def _receive(self):
        waited = 0.0
        while True:
            try:
                return self.results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                waited += _POLL_SECONDS
                dead = [p.pid for p in self.processes if not p.is_alive()]
                if dead:
                    self.shutdown()
                    raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited unexpectedly")
                if self.timeout and waited >= self.timeout:
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds")

    def run(self, epoch: int, batches=None):
        """Yield the payloads of one pass: ``batches`` is a list of index arrays, or None for an
        IterableDataset (each worker then runs its own pass until it is exhausted)."""
        self._passes += 1
        token = (self._passes, epoch)  # answers carrying an older token belong to an abandoned pass
        active = list(range(self.num_workers))
        pending, owner = {}, {}
        sent = next_out = 0
        total = None if batches is None else len(batches)

        def send():
            nonlocal sent
            worker = active[sent % len(active)]
            owner[sent] = worker
            self.tasks[worker].put((token, sent, None if batches is None else batches[sent]))
            sent += 1

        while active and (total is None or sent < total) and sent - next_out < self.prefetch_factor * len(active):
            send()
        while next_out < sent:
            if next_out not in pending:
                answer_token, index, kind, payload = self._receive()
                if answer_token == token:
                    pending[index] = (kind, payload)
                continue
            kind, payload = pending.pop(next_out)
            next_out += 1
            if kind == "error":
                payload.reraise()
            if kind == "exhausted":
                worker = owner[next_out - 1]
                if worker in active:
                    active.remove(worker)
            else:
                yield payload
            while active and (total is None or sent < total) and sent - next_out < self.prefetch_factor * len(active):
                send()

    def shutdown(self) -> None:
        self.stopping.set()
        for tasks, process in zip(self.tasks, self.processes):
            if process.is_alive():
                try:
                    tasks.put(None)
                except (OSError, ValueError):
                    pass
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()
        for q in self.tasks + [self.results]:
            q.cancel_join_thread()
            q.close()
        self.processes = []
