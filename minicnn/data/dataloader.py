"""DataLoader: batches from a dataset, shuffled reproducibly, prepared one step ahead in a thread.

Order and randomness. Epoch ``e`` visits the indices in the permutation drawn from
``numpy.random.default_rng([seed, e])``, and its random transforms draw from
``default_rng([seed, e, 1])``. ``seed`` is the argument if given, else one number drawn from
``generator`` or from minicnn's host generator when the loader is made (so ``minicnn.manual_seed``
fixes it). Each pass over the loader advances the epoch by one; ``set_epoch(k)`` sets the epoch of
the next pass, so a run resumed at epoch k sees exactly the batches the original run saw (as
``DistributedSampler.set_epoch``). ``state_dict()`` / ``load_state_dict()`` carry (seed, epoch).

Speed. When the dataset has ``get_batch`` (every dataset in ``minicnn.data`` does), a batch is one
fancy-index plus one vectorized transform, not ``batch_size`` calls of ``__getitem__``. With
``prefetch`` on, a background thread prepares the next batches while the training step runs: the
NumPy work of indexing, augmenting and converting releases the GIL for its heavy parts, so it
overlaps with the step. Because each pass owns its generator, the batches are identical with
prefetch on or off.

Measured on the 2-core reference machine (busy, so rounded): a batch of 128 CIFAR-sized images with
crop + flip + normalize costs about 5 ms to prepare. Prefetching gains 1.2x per step when the host
is idle during the step (as it is while a GPU computes), about 1.1x when the step is host NumPy
work, and costs about 10% when nothing else runs (iterating the loader alone). For a CPU model
whose step takes hundreds of milliseconds the difference is lost in the noise either way.
"""
from __future__ import annotations

import math
import numbers
import queue
import threading

import numpy as np

from .. import backend
from .. import random as _random
from ..autograd import Tensor
from . import transforms as T
from .dataset import collate_arrays

__all__ = ["DataLoader", "default_collate"]


def default_collate(samples):
    """Stack samples into a tuple of host Tensors (ints -> int64, floats -> float32, arrays keep dtype)."""
    return tuple(Tensor(column) for column in collate_arrays(samples))


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: anything with ``__len__`` and ``__getitem__``; ``get_batch(indices)`` is used when present.
        batch_size: samples per batch.
        shuffle: a fresh permutation each epoch (reproducible, see the module docstring).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        seed / generator: where the shuffling and augmentation seed comes from (see above).
        sampler: an iterable of indices to visit instead of 0..n-1 (excludes ``shuffle``).
        collate_fn: turns a list of ``dataset[i]`` into a batch; given, the per-sample path is used and
            its result is returned as is.
        transform: a batch transform applied to the first element of each batch (the images, an
            (N, C, H, W) float array) before it becomes a Tensor, e.g. ``RandomCrop(32, padding=4)``.
        prefetch: number of batches prepared ahead in a background thread; True means 2, False or 0
            prepares each batch when it is asked for.
        device: if given, batches are moved there; by default they stay on the host.

    Yields tuples of Tensors, e.g. ``(images float32 (N, C, H, W), labels int64 (N,))``.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, generator=None, sampler=None, collate_fn=None, transform=None,
                 prefetch=True, device=None):
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other")
        if collate_fn is not None and transform is not None:
            raise ValueError("DataLoader: a batch transform needs the default collation; apply it in collate_fn")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.sampler = sampler
        self.collate_fn = collate_fn
        self.transform = transform
        self.prefetch = 2 if prefetch is True else int(prefetch or 0)
        self.device = None if device is None else backend.normalize_device(device)
        if seed is None:
            source = generator if generator is not None else _random.host_generator()
            seed = int(source.integers(0, 2**63 - 1))
        self.seed = int(seed)
        self.epoch = 0

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
        count = self._num_samples()
        return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)

    def indices_for_epoch(self, epoch: int) -> np.ndarray:
        """The order in which epoch ``epoch`` visits the dataset."""
        if self.sampler is not None:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.intp)
        if self.shuffle:
            return np.random.default_rng([self.seed, epoch]).permutation(len(self.dataset))
        return np.arange(len(self.dataset))

    # -- making one batch --------------------------------------------------------------------------
    def _make_batch(self, indices: np.ndarray, augment: np.random.Generator):
        with T.using_generator(augment):
            if self.collate_fn is not None:
                return self.collate_fn([self.dataset[int(i)] for i in indices])
            if hasattr(self.dataset, "get_batch"):
                columns = list(self.dataset.get_batch(indices))
            else:
                columns = list(collate_arrays([self.dataset[int(i)] for i in indices]))
            if self.transform is not None:
                columns[0] = self.transform(columns[0])
        return tuple(Tensor(np.ascontiguousarray(column.array if isinstance(column, Tensor) else column))
                     for column in columns)

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
        order = self.indices_for_epoch(epoch)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        batches = [order[start:start + self.batch_size] for start in range(0, stop, self.batch_size)]
        augment = np.random.default_rng([self.seed, epoch, 1])
        if self.prefetch > 0 and len(batches) > 1:
            return self._prefetched(batches, augment)
        return self._in_order(batches, augment)

    def _in_order(self, batches, augment):
        for indices in batches:
            yield self._to_device(self._make_batch(indices, augment))

    def _prefetched(self, batches, augment):
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
                for indices in batches:
                    if not put(("batch", self._make_batch(indices, augment))):
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
                yield self._to_device(item)
        finally:
            # Also runs when the consumer stops early (break): release the worker and wait for it.
            stopping.set()
            worker.join()

    def __repr__(self) -> str:
        return (f"DataLoader(n={self._num_samples()}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, prefetch={self.prefetch}, seed={self.seed}, epoch={self.epoch})")
