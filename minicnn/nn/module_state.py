"""``state_dict`` and ``load_state_dict`` of every Module, as torch's: the dotted names of parameters and
persistent buffers, and loading values (arrays, Tensors, torch tensors) into them in place."""
from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from ..autograd import Tensor


class StateDictError(RuntimeError, ValueError):
    """``load_state_dict`` found missing or unexpected keys, or values whose shapes do not match."""


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _host_values(value, what: str) -> np.ndarray:
    """A state-dict value (numpy array, Tensor, device array, torch tensor, number) as a host array."""
    if isinstance(value, Tensor):
        return backend.to_host(value.array)
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        return np.asarray(value.detach().cpu())
    if isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        return np.asarray(value)
    if hasattr(value, "shape") and hasattr(value, "dtype"):  # cupy or simulated-device array
        return backend.to_host(value)
    raise TypeError(f"load_state_dict: value for {what!r} must be an array or a Tensor, got {type(value).__name__}")


class StateDictMethods:
    """The state-dict half of ``Module`` (a mixin: it uses the registries ``Module`` keeps)."""

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """An OrderedDict from dotted names to every parameter and persistent buffer, as torch's: detached
        Tensors that share memory with them (so later training changes them; ``copy.deepcopy`` or
        ``clone()`` keeps a snapshot). ``keep_vars=True`` gives the Parameters themselves."""
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _state_entries(self) -> "OrderedDict[str, Tensor]":
        return self.state_dict(keep_vars=True)

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` (numpy arrays or Tensors) into this module's parameters and
        buffers, in place: each keeps its device, and values are cast to its dtype.

        Shape mismatches are always an error; missing and unexpected keys are an error when ``strict``,
        and are returned as ``(missing_keys, unexpected_keys)`` otherwise.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        targets = self._state_entries()
        # Checkpoints written before BatchNorm counted its batches lack num_batches_tracked: torch keeps
        # the module's own counter then instead of reporting the key missing.
        missing = [key for key in targets if key not in state_dict and not key.endswith("num_batches_tracked")]
        unexpected = [key for key in state_dict if key not in targets]
        errors = []
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        converted = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            values = _host_values(state_dict[key], key)
            if values.shape != target.shape:
                errors.append(f"size mismatch for {key}: expected shape {target.shape} (in the model), "
                              f"got shape {values.shape} (in the state dict).")
            elif values.dtype.kind not in "fiub":
                errors.append(f"dtype mismatch for {key}: expected numbers, got dtype {values.dtype}.")
            else:
                converted[key] = values
        if errors:
            raise StateDictError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(errors))
        for key, values in converted.items():
            target = targets[key]
            target.array[...] = backend.to_device(values.astype(target.dtype, copy=False), target.device)
        return IncompatibleKeys(missing, unexpected)
