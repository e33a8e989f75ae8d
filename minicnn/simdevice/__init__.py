"""A simulated GPU: CuPy's array module rebuilt on NumPy, with CuPy's rules enforced.

Device ``"sim"`` lets the GPU code path run (and fail where it would fail on a real GPU) on machines
without one. ``import minicnn.simdevice as sim`` is used like ``import cupy as cp``:

- device arrays are their own type, ``sim.ndarray`` (``SimArray``), not a ``numpy.ndarray`` subclass;
- host -> device is explicit: ``sim.asarray(host)`` / ``sim.array(host)``;
  device -> host is explicit: ``a.get()`` / ``sim.asnumpy(a)``; ``a.item()``, ``float(a)``, ``int(a)``,
  ``bool(a)`` and ``a.tolist()`` also work, as in CuPy (each is a synchronizing copy on a real GPU);
- implicit conversion raises: ``numpy.asarray(a)``, ``numpy.sum(a)``, ``numpy.exp(a)``, ``host + a``,
  ``a + host`` all raise TypeError; python and numpy *scalars* mix freely, host *arrays* never do;
- indices may be ints, slices, None, Ellipsis, device arrays, lists and host integer/boolean arrays
  (CuPy copies those to the device); assigned values must be device arrays or scalars;
- results that NumPy returns as scalars (``a.sum()``, ``a[0, 0]``) are 0-d device arrays;
- functions are those CuPy offers (``sim.exp``, ``sim.einsum``, ...); scatter-add is
  ``sim.scatter_add`` (CuPy spells it ``cupyx.scatter_add``) -- there is no ``ufunc.at``;
- ``sim.random.default_rng(seed)`` draws device arrays, with the methods CuPy's Generator has.

Slices and reshapes are views that share memory with their base, exactly as in NumPy and CuPy.
``sim.transfers`` counts the copies between host and device (``sim.transfers.reset()`` starts over), so
a test can check that a training step never waits on the device.
"""
from __future__ import annotations

import sys as _sys

import numpy as _np

from . import random
from ._array import SimArray, host_array_error, transfers, wrap
from . import _operators  # noqa: F401,E402 - installs SimArray's arithmetic and comparison operators
from ._functions import FUNCTION_NAMES, PASSTHROUGH_NAMES, lib, linalg, make_function

ndarray = SimArray


def array(obj, dtype=None, copy=True, order="K", ndmin=0):
    """A new device array from host data (a host -> device copy) or from a device array."""
    if type(obj) is SimArray:
        return wrap(_np.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
    transfers.host_to_device += 1
    return wrap(_np.array(_unwrap_nested(obj), dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asarray(a, dtype=None, order=None):
    """``a`` as a device array: itself when it already is one of that dtype, else a copy to the device."""
    if type(a) is SimArray:
        if dtype is None or a.dtype == _np.dtype(dtype):
            return a
        return a.astype(dtype)
    transfers.host_to_device += 1
    return wrap(_np.array(_unwrap_nested(a), dtype=dtype, order=order, copy=True))


asanyarray = asarray


def ascontiguousarray(a, dtype=None):
    if type(a) is not SimArray:
        raise host_array_error("minicnn.simdevice.ascontiguousarray", a)
    return wrap(_np.ascontiguousarray(a._a, dtype=dtype))


def asnumpy(a, stream=None, order="C", out=None):
    """A host copy of a device array (host arrays and other data pass through ``numpy.asarray``)."""
    if type(a) is SimArray:
        return a.get(order=order, out=out)
    return _np.asarray(a, order=order)


def get_array_module(*args):
    """This module when any argument is a device array, else numpy (``cupy.get_array_module``)."""
    for arg in args:
        if type(arg) is SimArray:
            return _sys.modules[__name__]
    return _np


# cupyx.scatter_add only supports these dtypes (CUDA's atomicAdd); the simulation refuses the others too.
_SCATTER_ADD_DTYPES = tuple(_np.dtype(t) for t in ("int32", "uint32", "uint64", "float16", "float32", "float64"))


def scatter_add(a, slices, value):
    """``a[slices] += value`` where repeated indices accumulate (``cupyx.scatter_add``)."""
    if type(a) is not SimArray:
        raise TypeError(f"scatter_add: expected a minicnn.simdevice array, got {type(a).__name__}")
    if a.dtype not in _SCATTER_ADD_DTYPES:
        raise TypeError(
            f"scatter_add: dtype {a.dtype} is not supported on the GPU (int32, uint32, uint64, float16, float32, float64)"
        )
    if type(value) is SimArray:
        value = value._a
    elif isinstance(value, _np.ndarray):
        raise host_array_error("minicnn.simdevice.scatter_add", value)
    index = slices._a if type(slices) is SimArray else (
        tuple(s._a if type(s) is SimArray else s for s in slices) if type(slices) is tuple else slices
    )
    _np.add.at(a._a, index, value)


def _unwrap_nested(obj):
    """Host data for a transfer: device arrays inside lists are taken as their values."""
    if type(obj) is SimArray:
        return obj._a
    if type(obj) in (list, tuple):
        return type(obj)(_unwrap_nested(item) for item in obj)
    return obj


def __getattr__(name):
    if name in FUNCTION_NAMES:
        function = make_function(name, getattr(_np, name))
    elif name in PASSTHROUGH_NAMES:
        function = getattr(_np, name)
    else:
        raise AttributeError(f"module 'minicnn.simdevice' has no attribute {name!r} (CuPy does not provide it either)")
    globals()[name] = function  # created once, then found directly
    return function


def __dir__():
    return sorted(set(globals()) | FUNCTION_NAMES | PASSTHROUGH_NAMES)


__all__ = ["SimArray", "ndarray", "array", "asarray", "asanyarray", "ascontiguousarray", "asnumpy",
           "get_array_module", "scatter_add", "random", "lib", "linalg", "transfers"]
