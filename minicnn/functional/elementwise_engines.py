"""The engine of the elementwise passes (ReLU, residual additions): large host arrays in shares on every core.

numpy's ufuncs release the GIL, so the Python threads of ``minicnn/cpu/parallel.py`` run the shares
side by side, the same images on the same core as the convolution before and after
(``parallel.over_leading_axis``). Arrays of fewer than 2^18 elements stay on the calling thread.
"""
from __future__ import annotations

import numpy as np

from ..cpu import parallel
from ..engines import Engine, EngineTable


class SharesOnEveryCore(Engine):
    name = "shares-on-every-core"
    why = "one ufunc per share of the leading axis, each share on its own core"

    def applies(self, geometry, x) -> bool:
        return type(x) is np.ndarray and x.ndim > 0

    def forward(self, task, length: int, elements: int) -> None:
        """``task(start, stop)`` over shares of range(length), on every core when ``elements`` is large."""
        parallel.over_leading_axis(task, length, elements)


ELEMENTWISE_ENGINES = EngineTable("elementwise", [SharesOnEveryCore()])
