"""Load PyTorch / torchvision weights into a minicnn model.

The models of ``minicnn.models`` use torchvision's module and parameter names, so a torchvision state
dict fits key for key. The workflow (``examples/convert_torch_weights.py`` does steps 1-3):

1. Where torch is installed, read the checkpoint:
       state = torch.load("resnet18-f37072fd.pth", map_location="cpu")
       arrays = convert_torch_state_dict(state)           # {key: numpy array}, torch no longer needed
2. Build the same architecture in minicnn and load:
       model = minicnn.models.resnet18()
       load_torch_state_dict(model, arrays)
3. Save a minicnn checkpoint, readable without torch:
       minicnn.save(model.state_dict(), "resnet18.minicnn")
4. Anywhere later: ``model.load_state_dict(minicnn.load("resnet18.minicnn"))``.

``load_torch_state_dict`` accepts numpy arrays or torch tensors (converted with
``.detach().cpu().numpy()``), so this module itself never imports torch. It checks keys and shapes
before touching the model and raises ValueError listing every missing key, unexpected key and shape
mismatch. BatchNorm's ``num_batches_tracked`` may be absent from old checkpoints (the model keeps its
own) or present when the model has none (it is ignored); ``module.`` prefixes written by
``DataParallel`` are stripped.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Tensor

__all__ = ["convert_torch_state_dict", "load_torch_state_dict"]

_OPTIONAL_SUFFIX = "num_batches_tracked"
_MAX_LISTED = 10


def _to_numpy(value, key: str) -> np.ndarray:
    """A host numpy array from a torch tensor, a minicnn Tensor, a numpy array or a python number."""
    if isinstance(value, Tensor):
        return backend.to_host(value.array)
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic, int, float)):
        return np.asarray(value)
    raise TypeError(f"load_torch_state_dict: value of {key!r} must be an array or tensor, got {type(value).__name__}")


def convert_torch_state_dict(state_dict) -> dict:
    """``{key: numpy array}`` from a PyTorch state dict (tensors or arrays); strips ``module.`` prefixes.

    Accepts a checkpoint wrapping its state dict under "state_dict" or "model" as well.
    """
    if not hasattr(state_dict, "items"):
        raise TypeError(f"convert_torch_state_dict: expected a dict of tensors, got {type(state_dict).__name__}")
    for wrapper_key in ("state_dict", "model"):
        if wrapper_key in state_dict and hasattr(state_dict[wrapper_key], "items"):
            state_dict = state_dict[wrapper_key]
            break
    keys = list(state_dict.keys())
    strip = bool(keys) and all(key.startswith("module.") for key in keys)
    return {(key[len("module."):] if strip else key): _to_numpy(value, key) for key, value in state_dict.items()}


def _format_keys(keys) -> str:
    keys = sorted(keys)
    listed = ", ".join(keys[:_MAX_LISTED])
    return listed + (f", ... ({len(keys) - _MAX_LISTED} more)" if len(keys) > _MAX_LISTED else "")


def load_torch_state_dict(model, state_dict, strict: bool = True):
    """Copy PyTorch weights into ``model`` (in place) after checking every key and shape; returns model.

    Args:
        model: a minicnn Module whose names match the source (e.g. ``minicnn.models.resnet50()`` for
            torchvision's resnet50 weights).
        state_dict: ``{name: array or torch tensor}``, e.g. ``torch_model.state_dict()``.
        strict: when False, missing and unexpected keys are allowed (only matching keys are copied);
            shape mismatches are always errors.

    Values are cast to the dtype of the model's tensors and copied to their device. Raises ValueError
    naming every missing key, unexpected key and (key, expected shape, got).
    """
    source = convert_torch_state_dict(state_dict)
    target = model.state_dict(keep_vars=True)  # the model's own tensors: no copy just to read shapes
    missing = [key for key in target if key not in source and not key.endswith(_OPTIONAL_SUFFIX)]
    unexpected = [key for key in source if key not in target and not key.endswith(_OPTIONAL_SUFFIX)]
    mismatched = [
        f"{key}: model has {tuple(target[key].shape)}, checkpoint has {tuple(source[key].shape)}"
        for key in target
        if key in source and tuple(target[key].shape) != tuple(source[key].shape)
    ]
    problems = []
    if missing and strict:
        problems.append(f"{len(missing)} missing key(s): {_format_keys(missing)}")
    if unexpected and strict:
        problems.append(f"{len(unexpected)} unexpected key(s): {_format_keys(unexpected)}")
    if mismatched:
        problems.append(f"{len(mismatched)} shape mismatch(es): " + "; ".join(mismatched[:_MAX_LISTED]))
    if problems:
        raise ValueError(f"load_torch_state_dict: the checkpoint does not fit {type(model).__name__}: "
                         + " | ".join(problems))

    # Every key the model has: the checkpoint's value when it has one, else the model's own (possible only
    # for num_batches_tracked, or when strict=False). The model casts each value to its tensor's dtype and
    # device.
    merged = {key: source.get(key, current) for key, current in target.items()}
    model.load_state_dict(merged)
    return model
