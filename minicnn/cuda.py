"""``minicnn.cuda``: is a CUDA GPU usable here, and if not, why not."""
from . import backend


def is_available() -> bool:
    """True when CuPy is installed and sees at least one NVIDIA GPU."""
    return backend.cuda_is_available()


def unavailable_reason():
    """None when CUDA works, else what is missing and how to install it."""
    return backend.cuda_unavailable_reason()


def device_count() -> int:
    if not is_available():
        return 0
    return backend.array_module_for("cuda").cuda.runtime.getDeviceCount()


def synchronize() -> None:
    """Wait for queued GPU work to finish (benchmarks need this for honest timings)."""
    if is_available():
        backend.array_module_for("cuda").cuda.Device().synchronize()
