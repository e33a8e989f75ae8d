"""How a Tensor behaves as a Python value, with torch's rules: ``bool``, ``int``, ``float``, list index,
``format``, ``len``, iteration, ``numpy.asarray``; and its sizes, casts and ``new_*`` constructors."""
from __future__ import annotations

from .. import backend, creation
from ..autograd import Tensor, float16, float32, float64, int32, int64, bool_, uint8
from ..size import Size
from .cast import cast
from .dims import normalize_dim


def __bool__(self) -> bool:
    if self.array.size == 1:
        return bool(backend.to_host(self.array).reshape(()))
    if self.array.size == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")


def _scalar(self, convert):
    if self.array.size != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")
    return convert(backend.to_host(self.array).reshape(()).item())


def __int__(self) -> int:
    return _scalar(self, int)


def __float__(self) -> float:
    return _scalar(self, float)


def __index__(self) -> int:
    """Lets a one-element integer tensor index a list: ``classes[labels[j]]``."""
    if self.array.size != 1 or self.dtype.kind not in "iub":
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return int(backend.to_host(self.array).reshape(()).item())


def __format__(self, spec: str) -> str:
    """A 0-d tensor formats as its number (``f"{loss:.4f}"``); others only with an empty spec."""
    if self.ndim == 0:
        return format(self.item(), spec)
    if spec:
        raise TypeError("unsupported format string passed to Tensor.__format__")
    return repr(self)


def __len__(self) -> int:
    if self.ndim == 0:
        raise TypeError("len() of a 0-d tensor")
    return int(self.array.shape[0])


def __iter__(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (self[i] for i in range(len(self)))


def __array__(self, dtype=None, copy=None):
    """``numpy.asarray(t)``: the host values (as torch, refused while t requires grad)."""
    values = self.numpy()
    return values if dtype is None else values.astype(dtype, copy=False)


def size(self, dim=None):
    """``size()`` the shape as a ``minicnn.Size``; ``size(d)`` the length of dimension d."""
    if dim is None:
        return Size(self.array.shape)
    if self.ndim == 0:
        raise IndexError(f"size: Dimension specified as {dim} but tensor has no dimensions")
    return int(self.array.shape[normalize_dim(dim, self.ndim, "size")])


def dim(self) -> int:
    return self.ndim


def element_size(self) -> int:
    return int(self.dtype.itemsize)


def is_floating_point(self) -> bool:
    return self.dtype.kind == "f"


def type_as(self, other: Tensor) -> Tensor:
    return cast(self, other.dtype)


def _to_dtype(dtype):
    return lambda self: cast(self, dtype)


def _constructor(make):
    def method(self, *size, dtype=None, device=None, requires_grad: bool = False, **kwargs):
        return make(*size, dtype=dtype or self.dtype, device=device or backend.device_of(self.array),
                    requires_grad=requires_grad, **kwargs)

    return method


def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return creation.tensor(data, dtype=dtype or self.dtype, device=device or backend.device_of(self.array),
                           requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return creation.full(size, fill_value, dtype=dtype or self.dtype,
                         device=device or backend.device_of(self.array), requires_grad=requires_grad)


METHODS = {
    "__bool__": __bool__, "__int__": __int__, "__float__": __float__, "__index__": __index__,
    "__format__": __format__, "__len__": __len__, "__iter__": __iter__, "__array__": __array__,
    "size": size, "dim": dim, "ndimension": dim, "nelement": lambda self: self.numel(),
    "element_size": element_size, "is_floating_point": is_floating_point, "type_as": type_as,
    "float": _to_dtype(float32), "double": _to_dtype(float64), "half": _to_dtype(float16),
    "long": _to_dtype(int64), "int": _to_dtype(int32), "bool": _to_dtype(bool_), "byte": _to_dtype(uint8),
    "new_zeros": _constructor(creation.zeros), "new_ones": _constructor(creation.ones),
    "new_empty": _constructor(creation.empty), "new_full": new_full, "new_tensor": new_tensor,
    "tolist": lambda self: backend.to_host(self.array).tolist(),
}
