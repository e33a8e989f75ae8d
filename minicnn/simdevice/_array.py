"""``SimArray``: the simulated device's array type, a thin wrapper around a NumPy array.

It is deliberately *not* an ``ndarray`` subclass: NumPy must not recognise it, so that every place
where host and device data would meet on a real GPU raises here too. A SimArray shares memory with
the NumPy array it wraps, so slices, reshapes and strided views stay views and in-place writes go
through them, as they do with CuPy.
"""
from __future__ import annotations

import operator

import numpy as np

_SCALARS = (int, float, complex, np.generic)  # bool is an int; numpy scalars are allowed, as in CuPy
_IMPLICIT_MESSAGE = (
    "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array explicitly."
)


def _type_name(value) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def host_array_error(where: str, value) -> TypeError:
    return TypeError(
        f"{where}: unsupported type {_type_name(value)} (host memory) mixed with device 'sim' arrays; "
        "move it explicitly with minicnn.simdevice.asarray() (or backend.to_device) first"
    )


def _mix_error(symbol: str, left, right) -> TypeError:
    def side(value):
        return f"{_type_name(value)} (device 'sim')" if type(value) is SimArray else f"{_type_name(value)} (host 'cpu')"

    return TypeError(
        f"unsupported operand types for {symbol}: {side(left)} and {side(right)}; host and device arrays never "
        "mix: move one explicitly (minicnn.simdevice.asarray() / .get())"
    )


class TransferCounts:
    """How many copies crossed between host and device since the last ``reset()``.

    On a real GPU every device -> host read (``.get()``, ``.item()``, ``float(a)``, ``bool(a)``, ...)
    waits for all queued work, so a training step should make none; tests can check that here.
    """

    __slots__ = ("device_to_host", "host_to_device")

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.device_to_host = 0
        self.host_to_device = 0

    def __repr__(self):
        return f"TransferCounts(device_to_host={self.device_to_host}, host_to_device={self.host_to_device})"


transfers = TransferCounts()


# ----------------------------------------------------------------------------------------------
# Wrapping and unwrapping
# ----------------------------------------------------------------------------------------------

def wrap(result):
    """NumPy results -> SimArrays. Scalars become 0-d arrays, as CuPy returns them."""
    kind = type(result)
    if kind is np.ndarray:
        array = _new(SimArray)
        array._a = result
        return array
    if isinstance(result, (np.generic, np.ndarray)):
        array = _new(SimArray)
        array._a = np.asarray(result)
        return array
    if kind is tuple or kind is list:
        return kind([wrap(item) for item in result])
    if isinstance(result, tuple) and hasattr(result, "_fields"):  # named results (svd, unique_all...)
        return kind(*[wrap(item) for item in result])
    return result


def unwrap(value, where: str):
    """SimArrays -> their NumPy arrays (also inside lists and tuples); host arrays are refused."""
    kind = type(value)
    if kind is SimArray:
        return value._a
    if kind is tuple or kind is list:
        return kind([unwrap(item, where) for item in value])
    if isinstance(value, np.ndarray):
        raise host_array_error(where, value)
    return value


def _unwrap_index(key):
    """An index may hold SimArrays, ints, slices, None, Ellipsis, lists, and host integer/bool arrays
    (CuPy copies those to the device, so they are accepted here too)."""
    kind = type(key)
    if kind is SimArray:
        return key._a
    if kind is tuple:
        return tuple([part._a if type(part) is SimArray else part for part in key])
    return key


def _new_sim(array: np.ndarray) -> "SimArray":
    sim = _new(SimArray)
    sim._a = array
    return sim


# ----------------------------------------------------------------------------------------------
# The array type
# ----------------------------------------------------------------------------------------------

class Flags:
    """The contiguity flags CuPy exposes (read-only)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, flags):
        self.c_contiguous = flags.c_contiguous
        self.f_contiguous = flags.f_contiguous
        self.owndata = flags.owndata

    def __getitem__(self, name):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous", "OWNDATA": "owndata"}[name])

    def __repr__(self):
        return f"  C_CONTIGUOUS : {self.c_contiguous}\n  F_CONTIGUOUS : {self.f_contiguous}\n  OWNDATA : {self.owndata}"


class SimArray:
    """An array on the simulated device (``minicnn.simdevice.ndarray``), CuPy's ``ndarray`` on NumPy.

    ``SimArray(shape, dtype=float)`` allocates an uninitialized array, as ``cupy.ndarray`` does; arrays
    normally come from the module functions (``asarray``, ``zeros``, ...) or from operations.
    """

    __slots__ = ("_a", "__weakref__")
    # NumPy must refuse SimArrays instead of converting them: ufuncs raise, ``ndarray + SimArray``
    # returns NotImplemented from NumPy and lands in our reflected operator, which raises.
    __array_ufunc__ = None
    __array_priority__ = 100.0

    def __init__(self, shape, dtype=float, order="C"):
        self._a = np.empty(shape, dtype=dtype, order=order)

    # -- refusing implicit conversion ------------------------------------------------------------
    def __array__(self, *args, **kwargs):
        raise TypeError(_IMPLICIT_MESSAGE)

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(
            f"numpy.{func.__name__}() got a minicnn.simdevice array: " + _IMPLICIT_MESSAGE
            + " Use the array module of the data (backend.get_array_module) instead of numpy."
        )

    # -- explicit transfers (a sync on a real GPU) -------------------------------------------------
    def get(self, stream=None, order="C", out=None) -> np.ndarray:
        """A host copy of the values (CuPy's device -> host transfer)."""
        transfers.device_to_host += 1
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order, copy=True)

    def set(self, array, stream=None) -> None:
        """Copy a host array of the same shape into this device array (host -> device)."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"set(): expected a numpy.ndarray, got {_type_name(array)}")
        if array.shape != self._a.shape:
            raise ValueError(f"set(): shape mismatch, {array.shape} into {self._a.shape}")
        transfers.host_to_device += 1
        self._a[...] = array

    # Each of these reads a value back to the host: a synchronizing copy on a real GPU.
    def item(self, *args):
        transfers.device_to_host += 1
        return self._a.item(*args)

    def tolist(self):
        transfers.device_to_host += 1
        return self._a.tolist()

    def __bool__(self):
        transfers.device_to_host += 1
        return bool(self._a)

    def __float__(self):
        transfers.device_to_host += 1
        return float(self._a)

    def __int__(self):
        transfers.device_to_host += 1
        return int(self._a)

    def __complex__(self):
        transfers.device_to_host += 1
        return complex(self._a)

    def __index__(self):
        transfers.device_to_host += 1
        return operator.index(self._a)

    def __format__(self, spec):
        transfers.device_to_host += 1
        return format(self._a, spec) if self._a.ndim == 0 else format(str(self), spec)

    # -- attributes ------------------------------------------------------------------------------
    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    @property
    def strides(self):
        return self._a.strides

    @property
    def itemsize(self):
        return self._a.itemsize

    @property
    def nbytes(self):
        return self._a.nbytes

    @property
    def flags(self):
        return Flags(self._a.flags)

    @property
    def base(self):
        return None if self._a.base is None else _new_sim(self._a.base)

    @property
    def T(self):
        return _new_sim(self._a.T)

    @property
    def real(self):
        return wrap(self._a.real)

    @property
    def imag(self):
        return wrap(self._a.imag)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._a.shape[0]))

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __reduce__(self):
        return (_new_sim, (self._a,))

    def __copy__(self):
        return _new_sim(self._a.copy())

    def __deepcopy__(self, memo):
        return _new_sim(self._a.copy())

    __hash__ = None  # arrays are unhashable, like numpy's and cupy's

    # -- indexing --------------------------------------------------------------------------------
    def __getitem__(self, key):
        result = self._a[_unwrap_index(key)]
        if type(result) is np.ndarray:
            return _new_sim(result)
        return _new_sim(np.asarray(result))  # a scalar element comes back as a 0-d device array

    def __setitem__(self, key, value):
        kind = type(value)
        if kind is SimArray:
            value = value._a
        elif not isinstance(value, _SCALARS):
            raise host_array_error("__setitem__", value)
        self._a[_unwrap_index(key)] = value

    # -- hot methods, written out to skip argument unwrapping --------------------------------------
    def reshape(self, *shape, order="C"):
        return _new_sim(self._a.reshape(*shape, order=order))

    def transpose(self, *axes):
        return _new_sim(self._a.transpose(*axes))

    def astype(self, dtype, order="K", casting="unsafe", copy=True):
        return wrap(self._a.astype(dtype, order=order, casting=casting, copy=copy))

    def copy(self, order="C"):
        return _new_sim(self._a.copy(order=order))

    def ravel(self, order="C"):
        return _new_sim(self._a.ravel(order))

    def view(self, *args, **kwargs):
        return _new_sim(self._a.view(*args, **kwargs))

    def fill(self, value):
        if not isinstance(value, _SCALARS):
            value = unwrap(value, "fill")
        self._a.fill(value)

    def scatter_add(self, slices, value):
        """``self[slices] += value`` with repeated indices accumulating (CuPy's ``ndarray.scatter_add``)."""
        from . import scatter_add

        scatter_add(self, slices, value)


def _method(name):
    numpy_method = getattr(np.ndarray, name)
    where = f"ndarray.{name}"

    def method(self, *args, **kwargs):
        if args:
            args = unwrap(args, where)
        out = kwargs.get("out")
        if kwargs:
            kwargs = {key: unwrap(value, where) for key, value in kwargs.items()}
        result = numpy_method(self._a, *args, **kwargs)
        return out if type(out) is SimArray else wrap(result)

    method.__name__ = name
    method.__qualname__ = f"SimArray.{name}"
    method.__doc__ = f"CuPy's ``ndarray.{name}``, computed by NumPy on the wrapped array."
    return method


# Methods CuPy's ndarray has, computed by NumPy; names NumPy has and CuPy lacks are left out on purpose.
_METHODS = (
    "sum", "mean", "var", "std", "max", "min", "argmax", "argmin", "prod", "cumsum", "cumprod", "all", "any",
    "flatten", "squeeze", "swapaxes", "clip", "dot", "nonzero", "take", "put", "repeat", "round", "conj",
    "conjugate", "diagonal", "trace", "sort", "argsort", "partition", "argpartition", "choose", "compress",
    "tobytes", "dump", "dumps", "tofile",
)
for _name in _METHODS:
    setattr(SimArray, _name, _method(_name))


SimArray.__module__ = "minicnn.simdevice"
_new = object.__new__
