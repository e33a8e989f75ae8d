"""``minicnn.backends.cudnn``: torch.backends.cudnn's flags.

minicnn's GPU convolutions are its own kernels and cuBLAS matrix products, not cuDNN calls, so the flags
are read, not obeyed by cuDNN: ``deterministic`` and ``benchmark`` have nothing to choose between
(every GPU path here takes one fixed algorithm, and its reductions run in a fixed order), and
``enabled`` is recorded for code that inspects it. ``is_available()`` reports whether CuPy can reach
a cuDNN library.
"""
from __future__ import annotations

benchmark: bool = False
deterministic: bool = False
enabled: bool = True
allow_tf32: bool = True


def is_available() -> bool:
    try:
        from cupy import cuda

        return bool(cuda.is_available()) and cuda.cudnn is not None
    except Exception:  # no CuPy, no GPU or no cuDNN library
        return False


def version():
    """cuDNN's version number where CuPy links it, else None (torch's answer without cuDNN)."""
    try:
        from cupy.cuda import cudnn

        return cudnn.getVersion()
    except Exception:
        return None
