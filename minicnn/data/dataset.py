"""Datasets: indexable collections of samples, plus the batched fast path the DataLoader uses.

A dataset answers ``len(ds)`` and ``ds[i]``. Besides that, every dataset here has
``get_batch(indices) -> tuple of arrays``: the samples at ``indices`` already stacked. The default
calls ``ds[i]`` for each index and stacks; datasets that hold all their data in arrays
(``TensorDataset``, ``ArrayImageDataset`` and its subclasses MNIST, CIFAR10, Digits, SyntheticImages)
override it with one fancy-index plus one transform call on the whole batch, which is what makes
loading a batch of 256 cost about as much as loading one sample.
"""
from __future__ import annotations

import bisect
import numbers

import numpy as np

from .. import backend
from .. import random as _random
from ..autograd import Tensor
from . import transforms as T

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ArrayImageDataset", "Subset", "ConcatDataset", "random_split",
           "collate_arrays"]


def _host_array(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return backend.to_host(value.array)
    return np.asarray(value)


def collate_arrays(samples) -> tuple:
    """Stack a list of samples (tuples of arrays / numbers / Tensors) into a tuple of host arrays.

    Python ints become int64, python floats float32; arrays keep their dtype.
    """
    if not samples:
        raise ValueError("collate: got an empty list of samples")
    first = samples[0]
    if not isinstance(first, (tuple, list)):
        samples = [(sample,) for sample in samples]
        first = samples[0]
    columns = []
    for position in range(len(first)):
        values = [sample[position] for sample in samples]
        if isinstance(values[0], (bool, np.bool_)):
            columns.append(np.asarray(values, dtype=np.bool_))
        elif isinstance(values[0], numbers.Integral):
            columns.append(np.asarray(values, dtype=np.int64))
        elif isinstance(values[0], float):
            columns.append(np.asarray(values, dtype=np.float32))
        else:
            arrays = [_host_array(v) for v in values]
            shapes = {tuple(array.shape) for array in arrays}
            if len(shapes) > 1:
                odd = next(i for i, array in enumerate(arrays) if array.shape != arrays[0].shape)
                raise RuntimeError(f"collate: stack expects each sample to have the same shape, but element "
                                   f"{position} of sample 0 has shape {arrays[0].shape} and of sample {odd} shape "
                                   f"{arrays[odd].shape} (resize the images to one size, e.g. transforms.Resize)")
            columns.append(np.stack(arrays))
    return tuple(columns)


def _as_index_array(indices) -> np.ndarray:
    return np.asarray(indices, dtype=np.intp).reshape(-1)


class Dataset:
    """Base class: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def get_batch(self, indices) -> tuple:
        """The samples at ``indices`` stacked into a tuple of arrays (one ``__getitem__`` each here)."""
        return collate_arrays([self[int(i)] for i in _as_index_array(indices)])

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__``. With DataLoader workers, every worker runs
    its own copy of the stream; split the work with ``get_worker_info()`` (as in torch)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it is iterated, not indexed")

    def __len__(self) -> int:  # a stream has no length unless a subclass gives one (torch)
        raise TypeError(f"object of type '{type(self).__name__}' has no len()")

    def __add__(self, other):
        raise TypeError("IterableDatasets are chained, not concatenated")


class TensorDataset(Dataset):
    """Samples are the rows of arrays (or Tensors) sharing their first dimension.

    ``ds[i]`` is ``(a[i], b[i], ...)``; the arrays are kept on the host with their dtypes.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one array")
        self.tensors = tuple(_host_array(t) for t in tensors)
        sizes = [len(t) for t in self.tensors]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: all arrays must have the same first dimension, got {sizes}")

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def get_batch(self, indices) -> tuple:
        indices = _as_index_array(indices)
        return tuple(t[indices] for t in self.tensors)


class ArrayImageDataset(Dataset):
    """Images held in memory as uint8 ``data`` (N, H, W, C) with int64 ``targets`` (N,).

    ``ds[i]`` returns ``(transform(data[i]), int(targets[i]))``. The default transform is
    ``ToTensor()``: float32 (C, H, W) in [0, 1]. ``get_batch`` applies the transform to the whole
    (N, H, W, C) slice at once when it accepts batches (all of ``minicnn.data.transforms`` do), else
    one image at a time.
    """

    classes: list = []

    def __init__(self, data: np.ndarray, targets: np.ndarray, transform=None, classes=None):
        name = type(self).__name__
        if data.dtype != np.uint8 or data.ndim != 4:
            raise ValueError(f"{name}: data must be uint8 (N, H, W, C), got {data.dtype} of shape {data.shape}")
        if targets.shape != (len(data),):
            raise ValueError(f"{name}: {len(data)} images but targets of shape {targets.shape}")
        self.data = data
        self.targets = targets.astype(np.int64, copy=False)
        self.transform = T.ToTensor() if transform is None else transform
        if classes is not None:
            self.classes = list(classes)

    @property
    def class_to_idx(self) -> dict:
        return {name: index for index, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        return self.transform(self.data[index]), int(self.targets[index])

    def get_batch(self, indices) -> tuple:
        indices = _as_index_array(indices)
        images = self.data[indices]
        if T.supports_batches(self.transform):
            images = self.transform(images)
        else:
            images = np.stack([np.asarray(self.transform(image)) for image in images])
        return images, self.targets[indices]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={len(self)}, image={self.data.shape[1:]}, classes={len(self.classes)})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = _as_index_array(indices)
        size = len(dataset)
        if len(self.indices) and (self.indices.min() < -size or self.indices.max() >= size):
            raise IndexError(f"Subset: indices must lie in [0, {size}), got range "
                             f"[{self.indices.min()}, {self.indices.max()}]")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices) -> tuple:
        inner = self.indices[_as_index_array(indices)]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(inner)
        return collate_arrays([self.dataset[int(i)] for i in inner])


class ConcatDataset(Dataset):
    """Datasets one after another: indices [0, len(a)) are a's, then b's, and so on."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def _locate(self, index: int):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return which, index - start

    def __getitem__(self, index):
        which, inner = self._locate(int(index))
        return self.datasets[which][inner]

    def get_batch(self, indices) -> tuple:
        indices = _as_index_array(indices)
        which = np.searchsorted(self.cumulative_sizes, indices, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]])
        columns = None
        for part in np.unique(which):
            positions = np.nonzero(which == part)[0]
            dataset = self.datasets[part]
            inner = indices[positions] - starts[part]
            piece = dataset.get_batch(inner) if hasattr(dataset, "get_batch") else \
                collate_arrays([dataset[int(i)] for i in inner])
            if columns is None:
                columns = [np.empty((len(indices),) + p.shape[1:], dtype=p.dtype) for p in piece]
            for column, values in zip(columns, piece):
                column[positions] = values
        return tuple(columns)


def random_split(dataset, lengths, generator=None, seed=None) -> list:
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths``: ints summing to ``len(dataset)``, or fractions summing to 1 (remainders go to the
    first parts, one each, as torch does). Randomness: ``seed`` if given, else ``generator`` (a numpy
    Generator), else minicnn's host generator, so ``minicnn.manual_seed`` makes it reproducible.
    """
    total = len(dataset)
    lengths = list(lengths)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1.0) < 1e-6:
        if any(not 0 <= x <= 1 for x in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [int(np.floor(total * x)) for x in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != total or any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative ints summing to the dataset size "
                         f"{total} (or fractions summing to 1), got {lengths}")
    if seed is not None:
        generator = np.random.default_rng(seed)
    elif generator is None:
        generator = _random.host_generator()
    order = generator.permutation(total)
    bounds = np.cumsum([0] + [int(x) for x in lengths])
    return [Subset(dataset, order[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]
