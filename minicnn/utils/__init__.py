"""``minicnn.utils``: where ``torch.utils``'s names live: ``data``, ``checkpoint`` (recompute activations in
backward), ``tensorboard`` (imported on demand: it needs the tensorboard package)."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]
