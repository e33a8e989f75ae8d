"""``minicnn.Size``: the type of ``tensor.shape`` and ``tensor.size()``, a tuple of ints as torch's."""
from __future__ import annotations


class Size(tuple):
    """A tensor's shape. A tuple (compares equal to one, unpacks, indexes) whose slices and sums are
    Sizes again, with ``numel()`` the number of elements a tensor of this shape holds."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        return super().__new__(cls, (int(s) for s in sizes))

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(self) + tuple(other))

    def __mul__(self, times):
        return Size(tuple(self) * times)

    def numel(self) -> int:
        count = 1
        for s in self:
            count *= s
        return count

    def __repr__(self) -> str:
        return f"minicnn.Size({list(self)})"

    def __str__(self) -> str:
        # error messages throughout minicnn print shapes as tuples: "(3, 4)"
        return tuple.__repr__(tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))
