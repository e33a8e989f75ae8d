"""``Parameter``: a Tensor that a Module registers as learnable when assigned as an attribute."""
from __future__ import annotations

import numpy as np

from ..autograd import Tensor


class Parameter(Tensor):
    """A learnable tensor. ``Parameter(data, requires_grad=True)``.

    It shares ``data``'s array (no copy, as in PyTorch), so ``Parameter(t)`` and ``t`` see the same values.
    Optimizers update ``param.array`` in place and ``Module.to`` replaces it, so the Parameter object
    itself lives as long as its module: that is what lets an optimizer built before ``model.to(...)``
    keep working after it.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        super().__init__(data.array if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

