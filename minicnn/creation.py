"""Making tensors: from data, filled with constants, or random (drawn from minicnn's seeded generators).

Float tensors get the default dtype (float32 unless ``minicnn.set_default_dtype`` changed it).
"""
from __future__ import annotations

import numpy as np

from . import backend, random
from .autograd import Tensor, get_default_dtype


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(int(s) for s in size[0])
    return tuple(int(s) for s in size)


def _float(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


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
    """A new tensor holding ``data`` (copied). Float data becomes the default dtype unless it is a float
    array or ``dtype`` says otherwise; integer data stays integer (int64 for python ints)."""
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, (list, tuple)) and any(isinstance(item, Tensor) for item in data):
        data = [item.tolist() if isinstance(item, Tensor) else item for item in data]
    if isinstance(data, (np.ndarray, np.generic)) or hasattr(data, "__array_namespace__") or hasattr(data, "get"):
        xp = backend.get_array_module(data)
        data = xp.array(data, dtype=dtype, copy=True)
    elif isinstance(data, (list, tuple)):
        error = nested_sequence_error(data)
        if error is not None:
            raise error
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a Tensor, sharing memory when it already is one (or an array) of that dtype and device."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (device or dtype) else data
    return Tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a numpy array (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _filled(make, size, dtype, device, requires_grad) -> Tensor:
    device = backend.normalize_device(device)
    xp = backend.array_module_for(device)
    with backend.device_scope(device):
        return Tensor(make(xp, size, dtype), requires_grad=requires_grad)


def zeros(*size, dtype=None, device="cpu", requires_grad: bool = False) -> Tensor:
    return _filled(lambda xp, s, d: xp.zeros(s, dtype=d), _shape(size), _float(dtype), device, requires_grad)


def ones(*size, dtype=None, device="cpu", requires_grad: bool = False) -> Tensor:
    return _filled(lambda xp, s, d: xp.ones(s, dtype=d), _shape(size), _float(dtype), device, requires_grad)


def empty(*size, dtype=None, device="cpu", requires_grad: bool = False) -> Tensor:
    return _filled(lambda xp, s, d: xp.empty(s, dtype=d), _shape(size), _float(dtype), device, requires_grad)


def full(size, fill_value, dtype=None, device="cpu", requires_grad: bool = False) -> Tensor:
    """``size`` filled with ``fill_value``; the dtype follows the value (bool, int64, default float)."""
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else None
    return _filled(lambda xp, s, d: xp.full(s, fill_value, dtype=d), _shape((size,)) if isinstance(size, int)
                   else tuple(size), _float(dtype), device, requires_grad)


def _like(make):
    def like(input: Tensor, *args, dtype=None, device=None, requires_grad: bool = False, **kwargs) -> Tensor:
        return make(tuple(input.shape), *args, dtype=dtype or input.dtype,
                    device=device or backend.device_of(input.array), requires_grad=requires_grad, **kwargs)

    like.__name__ = make.__name__ + "_like"
    like.__doc__ = f"``{make.__name__}`` with ``input``'s shape, dtype and device (each may be overridden)."
    return like


def arange(start, end=None, step=1, dtype=None, device="cpu", requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = np.int64 if values.dtype.kind in "iu" else get_default_dtype()
    return Tensor(values.astype(dtype), device=device, requires_grad=requires_grad)


def linspace(start, end, steps: int, dtype=None, device="cpu", requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    values = np.linspace(start, end, int(steps)).astype(_float(dtype))
    return Tensor(values, device=device, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device="cpu", requires_grad: bool = False) -> Tensor:
    return Tensor(np.eye(n, m, dtype=_float(dtype)), device=device, requires_grad=requires_grad)


def randn(*size, dtype=None, device="cpu", requires_grad: bool = False, generator=None) -> Tensor:
    """Standard normal samples from the seeded host generator (so results match across devices)."""
    values = random.host_generator().standard_normal(_shape(size)).astype(_float(dtype))
    return Tensor(values, device=device, requires_grad=requires_grad)


def rand(*size, dtype=None, device="cpu", requires_grad: bool = False, generator=None) -> Tensor:
    """Uniform samples in [0, 1) from the seeded host generator."""
    values = random.host_generator().random(_shape(size)).astype(_float(dtype))
    return Tensor(values, device=device, requires_grad=requires_grad)


def randint(low, high=None, size=(1,), dtype=np.int64, device="cpu", requires_grad: bool = False,
            generator=None) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` starts at 0)."""
    if high is None:
        low, high = 0, low
    values = random.host_generator().integers(low, high, size=tuple(size)).astype(dtype or np.int64)
    return Tensor(values, device=device)


def randperm(n: int, dtype=np.int64, device="cpu", requires_grad: bool = False, generator=None) -> Tensor:
    """A random permutation of 0 .. n-1 from the seeded host generator."""
    values = random.host_generator().permutation(int(n)).astype(dtype or np.int64)
    return Tensor(values, device=device)


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(input: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                device=device or backend.device_of(input.array), requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=device or backend.device_of(input.array))
