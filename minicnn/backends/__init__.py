"""``minicnn.backends``: torch.backends' switches that apply here (``cudnn``)."""
from . import cudnn

__all__ = ["cudnn"]
