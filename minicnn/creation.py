"""Making tensors: from data, filled with constants, or random (drawn from minicnn's seeded generators)."""
from __future__ import annotations

import numpy as np

from . import backend, random
from .autograd import Tensor, float32


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def nested_sequence_error(data, op: str = "tensor"):
    """torch's ValueError for a ragged nested list (``[[1, 2], [3]]``), TypeError for elements that are not
    numbers; None when ``data`` is a well-formed nested sequence of numbers."""
    shape: list = []
    level = [data]
    dim = 0
    while level and all(isinstance(item, (list, tuple)) for item in level):
        length = len(level[0])
        for item in level:
            if len(item) != length:
                return ValueError(f"{op}: expected sequence of length {length} at dim {dim} (got {len(item)}): "
                                  f"the nested lists are ragged, so they have no shape (outer shape {tuple(shape)})")
        shape.append(length)
        level = [element for item in level for element in item]
        dim += 1
    for item in level:
        if isinstance(item, (list, tuple)):
            return ValueError(f"{op}: expected a number at dim {dim} but got a sequence of length {len(item)} "
                              f"(the nested lists are ragged)")
        if not isinstance(item, (bool, int, float, complex, np.generic, Tensor)):
            return TypeError(f"{op}: invalid data type {type(item).__name__!r} at dim {dim}; expected numbers")
    return None


def tensor(data, requires_grad: bool = False, dtype=None, device=None) -> Tensor:
    """A new tensor holding ``data`` (copied). Float data becomes float32 unless it is a float64 array
    or ``dtype`` says otherwise; integer data stays integer (int64 for python ints)."""
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, (np.ndarray, np.generic)) or hasattr(data, "__array_namespace__") or hasattr(data, "get"):
        xp = backend.get_array_module(data)
        data = xp.array(data, dtype=dtype, copy=True)
    elif isinstance(data, (list, tuple)):
        error = nested_sequence_error(data)
        if error is not None:
            raise error
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a numpy array (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=float32, device="cpu", requires_grad: bool = False) -> Tensor:
    xp = backend.array_module_for(device)
    with backend.device_scope(device):
        return Tensor(xp.zeros(_shape(size), dtype=dtype), requires_grad=requires_grad)


def ones(*size, dtype=float32, device="cpu", requires_grad: bool = False) -> Tensor:
    xp = backend.array_module_for(device)
    with backend.device_scope(device):
        return Tensor(xp.ones(_shape(size), dtype=dtype), requires_grad=requires_grad)


def full(size, fill_value, dtype=float32, device="cpu", requires_grad: bool = False) -> Tensor:
    xp = backend.array_module_for(device)
    with backend.device_scope(device):
        return Tensor(xp.full(tuple(size), fill_value, dtype=dtype), requires_grad=requires_grad)


def empty(*size, dtype=float32, device="cpu") -> Tensor:
    xp = backend.array_module_for(device)
    with backend.device_scope(device):
        return Tensor(xp.empty(_shape(size), dtype=dtype))


def zeros_like(t: Tensor, dtype=None) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, device=t.device)


def ones_like(t: Tensor, dtype=None) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, device=t.device)


def arange(start, end=None, step=1, dtype=None, device="cpu") -> Tensor:
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = np.int64 if values.dtype.kind in "iu" else float32
    return Tensor(values.astype(dtype), device=device)


def randn(*size, dtype=float32, device="cpu", requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the seeded host generator (so results match across devices)."""
    values = random.host_generator().standard_normal(_shape(size)).astype(dtype)
    return Tensor(values, device=device, requires_grad=requires_grad)


def rand(*size, dtype=float32, device="cpu", requires_grad: bool = False) -> Tensor:
    values = random.host_generator().random(_shape(size)).astype(dtype)
    return Tensor(values, device=device, requires_grad=requires_grad)


def randint(low, high=None, size=(1,), dtype=np.int64, device="cpu") -> Tensor:
    if high is None:
        low, high = 0, low
    values = random.host_generator().integers(low, high, size=tuple(size)).astype(dtype)
    return Tensor(values, device=device)
