"""``minicnn.device``: a device name that also answers ``.type`` and ``.index``, as torch's.

It is a ``str`` subclass holding the canonical name ("cpu", "cuda", "cuda:1", "sim"), so everything in
minicnn that takes a device name takes it, and ``torch.device("cuda:0" if ok else "cpu")`` works.
"""
from __future__ import annotations

import numpy as np

from . import backend


class device(str):  # noqa: N801 - torch's name
    """``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 1)``; ``.type`` and ``.index``."""

    def __new__(cls, type_or_name="cpu", index: int | None = None):
        if isinstance(type_or_name, device) and index is None:
            return type_or_name
        name = str(type_or_name)
        if index is not None:
            if ":" in name:
                raise RuntimeError(f"device: type {name!r} already has an index, cannot add index {index}")
            name = f"{name}:{int(index)}"
        canonical = backend.normalize_device(name)
        self = super().__new__(cls, canonical)
        self._index = int(name.split(":")[1]) if ":" in name else None
        return self

    @property
    def type(self) -> str:
        return str.split(self, ":")[0]

    @property
    def index(self) -> int | None:
        return self._index

    def __str__(self) -> str:
        # the name as written: "cuda:0" stays "cuda:0" although minicnn's canonical name for it is "cuda"
        return self.type if self._index is None else f"{self.type}:{self._index}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self._index})"

    def __reduce__(self):
        return (device, (str(self),))


_CANONICAL: dict = {}


def canonical(name: str) -> device:
    """The cached ``device`` for a canonical name (``Tensor.device`` asks for one on every call)."""
    found = _CANONICAL.get(name)
    if found is None:  # a tensor's device has an index, as torch's: cuda:0, not cuda
        found = _CANONICAL[name] = device("cuda:0" if name == "cuda" else name)
    return found


def _is_device(value) -> bool:
    return isinstance(value, str)


def _is_dtype(value) -> bool:
    if isinstance(value, (str, int, float)) or value is None:
        return False
    try:
        np.dtype(value)
    except TypeError:
        return False
    return True


def parse_to_arguments(args, kwargs):
    """``Tensor.to``'s overloads as (device or None, dtype or None, copy): ``to(device)``,
    ``to(dtype)``, ``to(device, dtype)``, ``to(other_tensor)``, and the same as keywords."""
    target, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    positional = list(args)
    if positional and hasattr(positional[0], "array") and hasattr(positional[0], "dtype"):
        other = positional.pop(0)  # to(other): other's device and dtype
        target, dtype = backend.device_of(other.array), other.dtype
    for value in positional:
        if isinstance(value, bool):
            continue  # the legacy non_blocking / copy flags
        if _is_device(value) and target is None:
            target = value
        elif _is_dtype(value) and dtype is None:
            dtype = value
        else:
            raise TypeError(f"to(): cannot interpret argument {value!r} as a device or a dtype")
    return target, dtype, copy
