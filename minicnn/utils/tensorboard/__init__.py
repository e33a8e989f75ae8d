"""``SummaryWriter``: TensorBoard event files from minicnn, as ``torch.utils.tensorboard`` writes them.

Needs the ``tensorboard`` package (``pip install tensorboard`` or ``'minicnn[tensorboard]'``); view with
``tensorboard --logdir runs``.
"""
try:
    import tensorboard  # noqa: F401
except ImportError:
    raise ImportError("minicnn.utils.tensorboard needs the tensorboard package: pip install tensorboard "
                      "(or pip install 'minicnn[tensorboard]')") from None

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
