"""DataLoader: batches from a dataset, shuffled reproducibly, prepared ahead in a thread or in worker processes.

The signature is torch's (``dataset, batch_size, shuffle, sampler, batch_sampler, num_workers,
collate_fn, pin_memory, drop_last, timeout, worker_init_fn, multiprocessing_context, generator,
prefetch_factor, persistent_workers``) plus four keyword-only extras: ``seed``, a batch
``transform``, ``prefetch`` (a background thread when ``num_workers=0``) and ``device``.

Order and randomness. Epoch ``e`` visits the indices in the permutation drawn from
``numpy.random.default_rng([seed, e])``, and batch ``b`` of it draws its random transforms from
``default_rng([seed, e, 1, b])``. ``seed`` is the argument if given, else one number drawn from
``generator`` or from minicnn's host generator when the loader is made (so ``minicnn.manual_seed``
fixes it). Each pass over the loader advances the epoch by one; ``set_epoch(k)`` sets the epoch of
the next pass, so a run resumed at epoch k sees exactly the batches the original run saw (as
``DistributedSampler.set_epoch``). ``state_dict()`` / ``load_state_dict()`` carry (seed, epoch).
Because every batch owns its generator, the batches are identical with prefetch on or off and with
any ``num_workers``. A ``sampler`` or ``batch_sampler`` given by the caller decides the order itself.

Speed. When the dataset has ``get_batch`` (every dataset in ``minicnn.data`` does), a batch is one
fancy-index plus one vectorized transform, not ``batch_size`` calls of ``__getitem__``. With
``num_workers=0`` and ``prefetch`` on, a background thread prepares the next batches while the
training step runs (NumPy releases the GIL for its heavy parts). With ``num_workers > 0``, worker
processes (see ``worker.py``) make whole batches, which pays when a sample costs Python work that
holds the GIL, such as decoding image files; ``benchmarks/bench_dataloader.py`` measures both
(``benchmarks/results/dataloader.md``: 1.8x with two persistent workers on two idle cores, about even
when the workers are started afresh each epoch, slower when the cores are busy).
"""
from __future__ import annotations

import math
import numbers
import queue
import threading
import warnings

import numpy as np

from .. import backend, cuda
from .. import random as _random
from ..autograd import Tensor
from . import transforms as T
from .dataset import IterableDataset, collate_arrays
from .samplers import BatchSampler, RandomSampler, SequentialSampler
from .worker import WorkerPool

__all__ = ["DataLoader", "default_collate", "default_convert"]


def default_collate(samples):
    """Stack samples into a tuple of host Tensors (ints -> int64, floats -> float32, arrays keep dtype)."""
    return tuple(Tensor(column) for column in collate_arrays(samples))


def default_convert(sample):
    """One sample with its arrays turned into Tensors (what a loader with ``batch_size=None`` yields)."""
    if isinstance(sample, (np.ndarray, np.generic)) and sample.dtype.kind in "biuf":
        return Tensor(np.asarray(sample))
    if isinstance(sample, tuple):
        return tuple(default_convert(item) for item in sample)
    if isinstance(sample, list):
        return [default_convert(item) for item in sample]
    if isinstance(sample, dict):
        return {key: default_convert(value) for key, value in sample.items()}
    return sample


class BatchFetcher:
    """Makes one batch from its indices; the same object runs in the main process and in workers."""

    def __init__(self, dataset, collate_fn, transform, seed: int, batch_size):
        self.dataset, self.collate_fn, self.transform = dataset, collate_fn, transform
        self.seed, self.batch_size = seed, batch_size

    def fetch(self, epoch: int, batch_index: int, indices):
        """``("columns", arrays)`` for the default collation, else ``("collated", whatever it made)``."""
        with T.using_generator(np.random.default_rng([self.seed, epoch, 1, batch_index])):
            if self.batch_size is None:  # automatic batching off: one sample per "batch"
                sample = self.dataset[int(indices)]
                return "collated", (self.collate_fn(sample) if self.collate_fn else default_convert(sample))
            if self.collate_fn is not None:
                return "collated", self.collate_fn([self.dataset[int(i)] for i in indices])
            if hasattr(self.dataset, "get_batch"):
                columns = list(self.dataset.get_batch(indices))
            else:
                columns = list(collate_arrays([self.dataset[int(i)] for i in indices]))
            if self.transform is not None:
                columns[0] = self.transform(columns[0])
        return "columns", tuple(np.ascontiguousarray(column.array if isinstance(column, Tensor) else column)
                                for column in columns)

    def iterate(self, epoch: int):
        """Batches of one pass over an IterableDataset."""
        stream = iter(self.dataset)
        batch_index = 0
        while True:
            with T.using_generator(np.random.default_rng([self.seed, epoch, 1, batch_index])):
                if self.batch_size is None:
                    try:
                        sample = next(stream)
                    except StopIteration:
                        return
                    yield "collated", (self.collate_fn(sample) if self.collate_fn else default_convert(sample))
                else:
                    samples = [sample for _, sample in zip(range(self.batch_size), stream)]
                    if not samples or (self.drop_last and len(samples) < self.batch_size):
                        return
                    if self.collate_fn is not None:
                        yield "collated", self.collate_fn(samples)
                    else:
                        yield "columns", tuple(np.ascontiguousarray(c) for c in collate_arrays(samples))
            batch_index += 1

    drop_last = False


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader: {name} must be a bool, got {value!r}")
    return bool(value)


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args (torch's, in torch's order):
        dataset: map-style (``__len__``/``__getitem__``; ``get_batch(indices)`` used when present) or an
            ``IterableDataset``.
        batch_size: samples per batch; None turns automatic batching off (each sample on its own).
        shuffle: a fresh permutation each epoch (reproducible, see the module docstring).
        sampler: an iterable of indices to visit (excludes ``shuffle``).
        batch_sampler: an iterable of lists of indices (excludes batch_size, shuffle, sampler, drop_last).
        num_workers: worker processes making batches; 0 makes them in this process.
        collate_fn: turns a list of ``dataset[i]`` into a batch; its result is returned as is.
        pin_memory: accepted; page-locked host memory matters only for copies to a GPU.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout: seconds to wait for a worker's batch before a RuntimeError (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after it is seeded.
        multiprocessing_context: "fork", "spawn", "forkserver" or a context (default: fork where available).
        generator: a numpy Generator the seed is drawn from.
        prefetch_factor: batches in flight per worker (default 2 with workers).
        persistent_workers: keep the worker processes between epochs.
    Keyword-only extras:
        seed: the loader's seed (see above); drawn from ``generator`` / the host generator if None.
        transform: a batch transform applied to the first element of each batch (the images, an
            (N, C, H, W) float array) before it becomes a Tensor, e.g. ``RandomCrop(32, padding=4)``.
        prefetch: with ``num_workers=0``, batches prepared ahead in a background thread (True means 2).
        device: if given, batches are moved there; by default they stay on the host.

    Yields tuples of Tensors, e.g. ``(images float32 (N, C, H, W), labels int64 (N,))``.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True, seed: int | None = None, transform=None,
                 prefetch=True, device=None):
        shuffle = _check_flag(bool(shuffle) if shuffle is None else shuffle, "shuffle")
        drop_last = _check_flag(drop_last, "drop_last")
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                                       or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive int or None, got {batch_size!r}")
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. "
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(dataset, IterableDataset):
            if shuffle:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size = None if batch_size is None else 1
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if collate_fn is not None and transform is not None:
            raise ValueError("DataLoader: a batch transform needs the default collation; apply it in collate_fn")
        if pin_memory and not cuda.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", UserWarning, stacklevel=2)
        self.dataset = dataset
        self._iterable = isinstance(dataset, IterableDataset)
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._own_order = sampler is None and batch_sampler is None and not self._iterable
        if self._iterable:
            self.sampler = None
        elif sampler is None:
            self.sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        else:
            self.sampler = sampler
        if batch_sampler is None and self.batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(self.sampler, self.batch_size, drop_last)
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn
        self.pin_memory = bool(pin_memory)
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = (2 if prefetch_factor is None else int(prefetch_factor)) if num_workers else None
        self.persistent_workers = bool(persistent_workers)
        self.in_order = in_order
        self.transform = transform
        self.prefetch = 2 if prefetch is True else int(prefetch or 0)
        self.device = None if device is None else backend.normalize_device(device)
        if seed is None:
            source = generator if generator is not None else _random.host_generator()
            seed = int(source.integers(0, 2**63 - 1))
        self.seed = int(seed)
        self.epoch = 0
        self._pool = None

    # -- resumable state ---------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """The epoch the next pass uses: its shuffle order and augmentation draws."""
        self.epoch = int(epoch)

    def state_dict(self) -> dict:
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])

    # -- sizes and order ---------------------------------------------------------------------------
    def _num_samples(self) -> int:
        return len(self.sampler) if self.sampler is not None else len(self.dataset)

    def __len__(self) -> int:
        if self._iterable:
            count = len(self.dataset)  # TypeError when the IterableDataset has no length, as torch
            if self.batch_size is None:
                return count
            return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def indices_for_epoch(self, epoch: int) -> np.ndarray:
        """The order in which epoch ``epoch`` visits the dataset."""
        if not self._own_order:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.intp)
        if self.shuffle:
            return np.random.default_rng([self.seed, epoch]).permutation(len(self.dataset))
        return np.arange(len(self.dataset))

    def _batches_for_epoch(self, epoch: int) -> list:
        if self.batch_sampler is not None and not self._own_order:  # the caller's order
            return [np.asarray(batch, dtype=np.intp) for batch in self.batch_sampler]
        order = self.indices_for_epoch(epoch)
        if self.batch_size is None:
            return list(order)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        return [order[start:start + self.batch_size] for start in range(0, stop, self.batch_size)]

    def _fetcher(self) -> BatchFetcher:
        fetcher = BatchFetcher(self.dataset, self.collate_fn, self.transform, self.seed, self.batch_size)
        fetcher.drop_last = self.drop_last
        return fetcher

    # -- turning payloads into batches ---------------------------------------------------------------
    def _finish(self, payload):
        kind, value = payload
        if kind == "columns":
            value = tuple(Tensor(column) for column in value)
        return self._to_device(value)

    def _to_device(self, batch):
        if self.device is None:
            return batch
        if isinstance(batch, Tensor):
            return batch.to(self.device)
        if isinstance(batch, (tuple, list)):
            return type(batch)(self._to_device(item) for item in batch)
        return batch

    # -- iteration ---------------------------------------------------------------------------------
    def __iter__(self):
        epoch = self.epoch
        self.epoch += 1
        batches = None if self._iterable else self._batches_for_epoch(epoch)
        if self.num_workers > 0:
            return self._from_workers(epoch, batches)
        fetcher = self._fetcher()
        if batches is None:
            payloads = fetcher.iterate(epoch)
        else:
            payloads = (fetcher.fetch(epoch, b, indices) for b, indices in enumerate(batches))
        if self.prefetch > 0 and (batches is None or len(batches) > 1):
            return self._prefetched(payloads)
        return (self._finish(payload) for payload in payloads)

    def _from_workers(self, epoch, batches):
        pool = self._pool
        if pool is None:
            base_seed = int(np.random.default_rng([self.seed, epoch, 2]).integers(0, 2**62))
            pool = WorkerPool(self._fetcher(), self.num_workers, base_seed, self.worker_init_fn,
                              self.prefetch_factor, self.timeout, self.multiprocessing_context)
            if self.persistent_workers:
                self._pool = pool
        try:
            for payload in pool.run(epoch, batches, last=not self.persistent_workers):
                yield self._finish(payload)
        finally:
            if not self.persistent_workers:
                pool.shutdown()

    def _prefetched(self, payloads):
        ready: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stopping = threading.Event()

        def put(item) -> bool:
            while not stopping.is_set():
                try:
                    ready.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        def produce():
            try:
                for payload in payloads:
                    if not put(("batch", payload)):
                        return
                put(("done", None))
            except BaseException as error:  # handed to the consumer, raised there
                put(("error", error))

        worker = threading.Thread(target=produce, name="minicnn-prefetch", daemon=True)
        worker.start()
        try:
            while True:
                kind, item = ready.get()
                if kind == "done":
                    return
                if kind == "error":
                    raise item
                yield self._finish(item)
        finally:
            # Also runs when the consumer stops early (break): release the worker and wait for it.
            stopping.set()
            worker.join()

    def __del__(self):
        pool = self.__dict__.get("_pool")
        if pool is not None:
            pool.shutdown()

    def __repr__(self) -> str:
        size = "?" if self._iterable else self._num_samples()
        return (f"DataLoader(n={size}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, num_workers={self.num_workers}, prefetch={self.prefetch}, "
                f"seed={self.seed}, epoch={self.epoch})")
