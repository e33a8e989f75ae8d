"""``Optimizer``: parameter groups, per-parameter state, and saving both in PyTorch's format.

``param_groups`` is a list of dicts, each holding ``"params"`` (a list of Parameters) and that group's
options (``lr``, ``momentum``, ...). ``state`` maps each Parameter to its own dict (momentum buffer,
Adam moments, step count). ``state_dict()`` replaces Parameters by their index (counted across groups
in order) and arrays by host numpy copies, so ``minicnn.save`` can store it and a fresh optimizer over
a fresh model can take it back.
"""
from __future__ import annotations

import copy
from collections import defaultdict

import numpy as np

from .. import backend
from ..autograd import Tensor


class _RequiredParameter:
    """Marks an option (``lr``) that has no default and must be given."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class: subclasses set ``defaults`` and implement ``step()``."""

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)  # Parameter -> its state; Tensors hash by identity
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options; missing options take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ValueError("a parameter group lists the same parameter twice")
        known = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in known for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    param.grad.array[...] = 0

    def step(self, closure=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def _scratch_like(self, array, slot: int = 0):
        """An uninitialized array shaped like ``array`` for a temporary of one update (``slot`` picks
        one of several that must coexist). One flat buffer per slot, device and dtype, grown to the
        largest parameter, serves every parameter: a fresh array per update would be new memory pages
        each step (the kernel zeroes them on first touch), which costs as much as the update itself."""
        xp = backend.get_array_module(array)
        key = (slot, backend.device_of(array), array.dtype.str)
        buffers = self.__dict__.setdefault("_scratch_buffers", {})
        buffer = buffers.get(key)
        if buffer is None or buffer.size < array.size:
            with backend.device_scope(backend.device_of(array)):
                buffer = buffers[key] = xp.empty(array.size, dtype=array.dtype)
        return buffer[: array.size].reshape(array.shape)

    def _params_with_grad(self, group: dict):
        """The group's parameters that have a gradient; frozen ones (requires_grad=False) are left alone."""
        for param in group["params"]:
            if param.grad is not None and param.requires_grad:
                yield param

    # -- saving ------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {name: value}}, "param_groups": [{..., "params": [indices]}]}``, as torch's:
        the per-parameter buffers are Tensors sharing the optimizer's memory (deepcopy for a snapshot)."""
        index_of, param_groups, next_index = {}, [], 0
        for group in self.param_groups:
            indices = []
            for param in group["params"]:
                if id(param) not in index_of:
                    index_of[id(param)] = next_index
                    next_index += 1
                indices.append(index_of[id(param)])
            saved = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            saved["params"] = indices
            param_groups.append(saved)
        state = {}
        for group in self.param_groups:
            for param in group["params"]:
                if self.state.get(param) and index_of[id(param)] not in state:
                    state[index_of[id(param)]] = {  # Tensors on the state's memory, as torch's
                        key: Tensor._wrap(value) if _is_array(value) else copy.deepcopy(value)
                        for key, value in self.state[param].items()
                    }
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Take back a ``state_dict()``: group options, and per-parameter state moved to each parameter's
        device (floating point arrays cast to its dtype)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        for position, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict's parameter group {position} has {len(saved['params'])} "
                                 f"parameters, this optimizer's has {len(group['params'])}")
        param_of = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for index, param in zip(saved["params"], group["params"]):
                param_of[int(index)] = param
        new_state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            param = param_of.get(int(index))
            if param is None:
                continue
            new_state[param] = {name: _to_param(value, param, name) for name, value in values.items()}
        for group, saved in zip(self.param_groups, saved_groups):
            for key, value in saved.items():
                if key != "params":
                    group[key] = copy.deepcopy(value)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for position, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {position}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _is_array(value) -> bool:
    return isinstance(value, np.ndarray) or (hasattr(value, "shape") and hasattr(value, "dtype")
                                             and not isinstance(value, (Tensor, np.generic)))


def _to_param(value, param: Tensor, name: str):
    """A saved state value placed beside ``param``: arrays on its device, floats in its dtype."""
    if isinstance(value, Tensor):
        value = value.array
    if not _is_array(value):
        return copy.deepcopy(value)
    if tuple(value.shape) != param.shape and value.ndim:
        raise ValueError(f"optimizer state {name!r} has shape {tuple(value.shape)}, its parameter has {param.shape}")
    host = backend.to_host(value)
    if host.dtype.kind == "f":
        host = host.astype(param.dtype, copy=False)
    return backend.to_device(host.copy(), param.device)
