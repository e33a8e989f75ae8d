"""Which array module serves a device, and the few helpers whose spelling differs between them.

A device is named by a string:

- ``"cpu"``  -- NumPy arrays in host memory;
- ``"cuda"`` -- CuPy arrays on an NVIDIA GPU (``"cuda:1"`` picks a GPU by index);
- ``"sim"``  -- a simulated GPU: NumPy underneath, but with CuPy's rules (device arrays are their own
  type, implicit conversion to host arrays raises, host and device arrays never mix). It exists so that
  the GPU code path can be tested on machines without a GPU.

Every Function computes with ``xp = get_array_module(array)`` and never calls ``numpy`` directly on
data, so one code path serves all three devices.
"""
from __future__ import annotations

import contextlib
import importlib

import numpy as np

_cupy = None
_cupy_import_error: Exception | None = None


def _load_cupy():
    """Import cupy on first use; remember why it failed so the error can say so."""
    global _cupy, _cupy_import_error
    if _cupy is None and _cupy_import_error is None:
        try:
            _cupy = importlib.import_module("cupy")
        except Exception as error:  # ImportError, or a CUDA library that fails to load
            _cupy_import_error = error
    return _cupy


def _load_sim():
    from . import simdevice

    return simdevice


# ----------------------------------------------------------------------------------------------
# Device names
# ----------------------------------------------------------------------------------------------

def normalize_device(device) -> str:
    """Return the canonical name of ``device`` ("cpu", "cuda", "cuda:N" or "sim")."""
    if device is None:
        return "cpu"
    name = str(device)
    if name in ("cpu", "sim", "cuda"):
        return name
    if name.startswith("cuda:") and name[5:].isdigit():
        return "cuda" if name == "cuda:0" else name
    raise ValueError(f"unknown device {device!r}: expected 'cpu', 'cuda', 'cuda:N' or 'sim'")


def cuda_unavailable_reason() -> str | None:
    """None when a CUDA device can be used, else a sentence saying what is missing and how to fix it."""
    cupy = _load_cupy()
    if cupy is None:
        return (
            "device 'cuda' needs CuPy, which is not installed "
            f"({type(_cupy_import_error).__name__}: {_cupy_import_error}). Install the wheel that matches "
            "your CUDA toolkit: `pip install cupy-cuda12x` for CUDA 12, `pip install cupy-cuda13x` for CUDA 13"
        )
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:
        return f"device 'cuda' needs an NVIDIA GPU: CuPy is installed but found none ({error})"
    if count == 0:
        return "device 'cuda' needs an NVIDIA GPU: CuPy is installed but found none"
    return None


def cuda_is_available() -> bool:
    return cuda_unavailable_reason() is None


def array_module_for(device):
    """The array module (numpy, cupy or the simulated device) that holds arrays for ``device``."""
    device = normalize_device(device)
    if device == "cpu":
        return np
    if device == "sim":
        return _load_sim()
    reason = cuda_unavailable_reason()
    if reason is not None:
        raise RuntimeError(reason)
    return _cupy


def device_scope(device):
    """A context in which new arrays are allocated on ``device``: it makes GPU N current for "cuda:N"
    (CuPy allocates on the current GPU), and does nothing for "cpu" and "sim"."""
    device = normalize_device(device)
    if not device.startswith("cuda"):
        return contextlib.nullcontext()
    cupy = array_module_for(device)
    return cupy.cuda.Device(0 if device == "cuda" else int(device[5:]))


def get_array_module(array):
    """The array module an array belongs to; python scalars and numpy arrays belong to numpy."""
    if isinstance(array, (np.ndarray, np.generic)):
        return np
    module_name = type(array).__module__
    if module_name.startswith("cupy"):
        return _load_cupy()
    if module_name.startswith("minicnn.simdevice"):
        return _load_sim()
    return np


def device_of(array) -> str:
    """The device name an array lives on."""
    if isinstance(array, (np.ndarray, np.generic)):
        return "cpu"
    module_name = type(array).__module__
    if module_name.startswith("cupy"):
        index = array.device.id
        return "cuda" if index == 0 else f"cuda:{index}"
    if module_name.startswith("minicnn.simdevice"):
        return "sim"
    return "cpu"


def to_host(array) -> np.ndarray:
    """Copy an array of any device into a host numpy array (no copy when it is already there)."""
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, np.generic):
        return np.asarray(array)
    if hasattr(array, "get"):  # cupy and the simulated device both spell the transfer .get()
        return array.get()
    return np.asarray(array)


def to_device(array, device):
    """Move ``array`` to ``device`` (a copy across devices, the same array when it is already there)."""
    device = normalize_device(device)
    if device_of(array) == device:
        return array
    host = to_host(array)
    if device == "cpu":
        return host
    if device == "sim":
        return _load_sim().asarray(host)
    cupy = array_module_for(device)
    with device_scope(device):
        return cupy.asarray(host)


# ----------------------------------------------------------------------------------------------
# Helpers whose spelling differs between numpy and cupy
# ----------------------------------------------------------------------------------------------

def as_strided(array, shape, strides):
    """A strided view of ``array`` (strides in bytes); read-only use only."""
    xp = get_array_module(array)
    if xp is np:
        return np.lib.stride_tricks.as_strided(array, shape=shape, strides=strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(array, shape=shape, strides=strides)


def scatter_add(target, indices, values):
    """``target[indices] += values`` where repeated indices accumulate (unbuffered)."""
    xp = get_array_module(target)
    if xp is np:
        np.add.at(target, indices, values)
    elif xp is _cupy:
        import cupyx  # CuPy keeps scatter-add in its extension namespace

        cupyx.scatter_add(target, indices, values)
    else:  # the simulated device spells it at top level
        xp.scatter_add(target, indices, values)
