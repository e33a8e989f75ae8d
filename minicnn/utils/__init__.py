"""``minicnn.utils``: where ``torch.utils``'s names live (``minicnn.utils.data``)."""
from . import data

__all__ = ["data"]
