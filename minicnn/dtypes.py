"""dtype names (numpy dtypes under torch's names) and the default float dtype python floats become."""
from __future__ import annotations

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)


_default_float = [float32]  # set_default_dtype changes it: the dtype python floats become


def get_default_dtype() -> np.dtype:
    """The dtype python floats (and lists of them) become, float32 unless ``set_default_dtype`` changed it."""
    return _default_float[0]


def set_default_dtype(dtype) -> None:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating point dtypes are supported, got {dtype}")
    _default_float[0] = dtype


def _default_dtype_for(data) -> np.dtype | None:
    """The default float dtype for python floats and lists of them, int64 for python ints; arrays keep
    their dtype."""
    if isinstance(data, bool):
        return bool_
    if isinstance(data, int):
        return int64
    if isinstance(data, float):
        return _default_float[0]
    return None
