"""The named pairs torch's reductions return: ``values, indices = x.max(1)``, ``x.max(1).indices``."""
from __future__ import annotations

from collections import namedtuple

__all__ = ["max", "min", "sort", "topk", "median", "mode", "kthvalue"]


def _pair(name: str):
    base = namedtuple(name, ["values", "indices"])

    def __repr__(self) -> str:
        return f"minicnn.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__})


max = _pair("max")  # noqa: A001 - torch's names
min = _pair("min")  # noqa: A001
sort = _pair("sort")
topk = _pair("topk")
median = _pair("median")
mode = _pair("mode")
kthvalue = _pair("kthvalue")
