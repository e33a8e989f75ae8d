"""``ModuleDict``, ``ParameterList`` and ``ParameterDict``: modules and parameters held by name or position,
registered so that ``parameters()``, ``state_dict()`` and ``to()`` see them."""
from __future__ import annotations

from collections import OrderedDict

from ..autograd import Tensor
from .module import Module
from .parameter import Parameter


class ModuleDict(Module):
    """An ordered dict of modules: ``d["conv"]``, ``d.keys()``, ``d.update(...)``, iteration over keys."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        value = self[key]
        del self[key]
        return value

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        if isinstance(modules, (dict, OrderedDict, ModuleDict)):
            pairs = modules.items()
        else:
            pairs = []
            for index, entry in enumerate(modules):
                if len(entry) != 2:
                    raise ValueError(f"ModuleDict update sequence element #{index} has length {len(entry)}; 2 is "
                                     "required")
                pairs.append(entry)
        for key, module in pairs:
            self[key] = module


def _as_parameter(value):
    if isinstance(value, Parameter) or value is None:
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"ParameterList/ParameterDict hold Parameters or Tensors, got {type(value).__name__}")


class ParameterList(Module):
    """A list of parameters, registered under the names "0", "1", ..."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList(list(self._parameters.values())[index])
        length = len(self)
        if not -length <= index < length:
            raise IndexError(f"index {index} is out of range")
        return self._parameters[str(index % length)]

    def __setitem__(self, index: int, value) -> None:
        self.register_parameter(str(index % len(self)), _as_parameter(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value) -> "ParameterList":
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values) -> "ParameterList":
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        lines = []
        for key, param in self._parameters.items():
            size = "x".join(str(s) for s in param.shape)
            lines.append(f"  ({key}): Parameter containing: [{type(param).__name__} of size {size}]")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{self._get_name()}(\n{self.extra_repr()}\n)" if len(self) else f"{self._get_name()}()"


class ParameterDict(Module):
    """An ordered dict of parameters, registered under their keys."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key) -> bool:
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def update(self, parameters) -> None:
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in pairs:
            self[key] = value
