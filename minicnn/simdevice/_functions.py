"""The module-level functions of the simulated device: NumPy's, wrapped to take and return SimArrays.

Only names CuPy also provides are exposed, so code that runs on the simulated device also finds its
functions in ``cupy``. Each wrapper unwraps SimArray arguments (also inside lists and tuples), refuses
host ``numpy.ndarray`` arguments as CuPy does, calls NumPy, and wraps array results; an ``out=``
SimArray is written in place and returned.
"""
from __future__ import annotations

import numpy as np

from ._array import SimArray, unwrap, wrap

# Functions CuPy has under the same name and signature (a subset of NumPy's, the ones worth having).
FUNCTION_NAMES = frozenset("""
abs absolute add all allclose amax amin angle any append arange arccos arccosh arcsin arcsinh arctan arctan2
arctanh argmax argmin argpartition argsort argwhere around array_equal array_split asfortranarray atleast_1d
atleast_2d atleast_3d average bincount bitwise_and bitwise_not bitwise_or bitwise_xor broadcast_arrays
broadcast_shapes broadcast_to can_cast cbrt ceil choose clip column_stack common_type compress concatenate conj
conjugate convolve copy copysign copyto corrcoef correlate cos cosh count_nonzero cov cross cumprod cumsum deg2rad
degrees diag diag_indices diagflat diagonal diff digitize divide divmod dot dsplit dstack einsum empty empty_like
equal exp exp2 expand_dims expm1 extract eye fabs fill_diagonal flatnonzero flip fliplr flipud float_power floor
floor_divide fmax fmin fmod frexp full full_like gcd greater greater_equal heaviside histogram hsplit hstack hypot
i0 identity imag indices inner interp invert isclose iscomplexobj isfinite isinf isnan isreal isrealobj isscalar
ix_ kron lcm ldexp left_shift less less_equal lexsort linspace log log10 log1p log2 logaddexp logaddexp2
logical_and logical_not logical_or logical_xor logspace matmul max maximum mean median meshgrid min min_scalar_type
minimum mod modf moveaxis multiply nan_to_num nanargmax nanargmin nancumprod nancumsum nanmax nanmean nanmedian
nanmin nanprod nanstd nansum nanvar ndim negative nextafter nonzero not_equal ones ones_like outer packbits pad
partition percentile place positive power prod promote_types ptp put put_along_axis putmask quantile rad2deg
radians ravel ravel_multi_index real reciprocal remainder repeat reshape resize result_type right_shift rint roll
rollaxis rot90 round searchsorted select shape split fix isin apply_along_axis sign signbit sin sinc sinh size sort sqrt square squeeze stack std
subtract sum swapaxes take take_along_axis tan tanh tensordot tile trace transpose tri tril tril_indices triu
triu_indices true_divide trunc unique unpackbits unravel_index vander var vdot vsplit vstack where zeros zeros_like
""".split())

# Names NumPy and CuPy share that are not functions of arrays (dtypes, constants, helpers).
PASSTHROUGH_NAMES = frozenset("""
bool_ byte ubyte short ushort intc uintc int_ uint longlong ulonglong intp uintp int8 int16 int32 int64 uint8
uint16 uint32 uint64 float16 float32 float64 half single double complex64 complex128 csingle cdouble
dtype finfo iinfo issubdtype number integer signedinteger unsignedinteger inexact floating complexfloating
generic newaxis pi e inf nan euler_gamma s_ index_exp mgrid ogrid r_ c_ ndindex
""".split())


def make_function(name: str, numpy_function, where_prefix: str = "minicnn.simdevice"):
    """Wrap ``numpy_function`` so it takes and returns device arrays and refuses host arrays."""
    where = f"{where_prefix}.{name}"

    def function(*args, **kwargs):
        args = unwrap(args, where)
        out = None
        if kwargs:
            out = kwargs.get("out")
            kwargs = {key: unwrap(value, where) for key, value in kwargs.items()}
        result = numpy_function(*args, **kwargs)
        return out if type(out) is SimArray else wrap(result)

    function.__name__ = name
    function.__qualname__ = name
    function.__doc__ = f"``cupy.{name}`` on the simulated device (NumPy's ``{name}`` underneath)."
    return function


class Namespace:
    """A wrapped submodule (``linalg``, ``lib.stride_tricks``): the listed NumPy functions, wrapped."""

    def __init__(self, qualified_name: str, numpy_module, names, extra=None):
        self._qualified_name = qualified_name
        self._numpy_module = numpy_module
        self._names = frozenset(names)
        self.__dict__.update(extra or {})

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._names:
            raise AttributeError(f"{self._qualified_name} has no attribute {name!r} (CuPy does not provide it)")
        function = make_function(name, getattr(self._numpy_module, name), self._qualified_name)
        setattr(self, name, function)
        return function

    def __dir__(self):
        return sorted(set(self.__dict__) | self._names)

    def __repr__(self):
        return f"<namespace {self._qualified_name}>"


def as_strided(x, shape=None, strides=None):
    """A strided view of a device array (``cupy.lib.stride_tricks.as_strided``): it shares memory."""
    array = unwrap(x, "minicnn.simdevice.lib.stride_tricks.as_strided")
    if type(x) is not SimArray:
        raise TypeError(f"as_strided: expected a minicnn.simdevice array, got {type(x).__name__}")
    return wrap(np.lib.stride_tricks.as_strided(array, shape=shape, strides=strides))


stride_tricks = Namespace(
    "minicnn.simdevice.lib.stride_tricks",
    np.lib.stride_tricks,
    ["sliding_window_view"],
    extra={"as_strided": as_strided},
)
lib = Namespace("minicnn.simdevice.lib", np.lib, [], extra={"stride_tricks": stride_tricks})
linalg = Namespace(
    "minicnn.simdevice.linalg",
    np.linalg,
    "cholesky det eigh eigvalsh inv lstsq matrix_power matrix_rank norm pinv qr slogdet solve svd tensorinv "
    "tensorsolve".split(),
)
