"""Importing torchvision beside a CPU build of torch, for comparisons and weight conversion.

torchvision's C++ operators (nms, roi_align, ...) live in ``torchvision/_C.so``. Where that library
cannot load -- a CUDA build of torchvision beside a CPU build of torch, as PyPI serves them -- importing
torchvision fails on the first fake kernel it registers (``operator torchvision::nms does not exist``).
Its models are pure Python and never call those operators, so once the two operator schemas that the
import touches exist, everything in ``torchvision.models`` works. The schemas are those torchvision's
C++ code defines; they are defined only when the real library did not load.
"""
from __future__ import annotations

import importlib.util
import os

__all__ = ["import_torchvision"]

_IMPORT_TIME_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_schema_library = []  # keeps the torch.library.Library alive: its definitions die with it


def import_torchvision():
    """torchvision, importable even where its C++ extension is not; raises ImportError saying why not."""
    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None:
        raise ImportError("torchvision is not installed")
    if not _schema_library and not hasattr(torch.ops.torchvision, "nms"):
        try:
            torch.ops.load_library(os.path.join(os.path.dirname(spec.origin), "_C.so"))
        except (OSError, ImportError):  # e.g. it was built for CUDA and needs libc10_cuda.so
            library = torch.library.Library("torchvision", "DEF")
            for schema in _IMPORT_TIME_SCHEMAS:
                library.define(schema)
            _schema_library.append(library)
    try:
        import torchvision
    except RuntimeError as error:
        raise ImportError(f"torchvision cannot be imported: {error}") from error
    return torchvision
