"""``minicnn.utils``: where ``torch.utils``'s names live (``minicnn.utils.data``, ``minicnn.utils.tensorboard``)."""
from . import data

__all__ = ["data"]
