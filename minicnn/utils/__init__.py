"""Utilities with the names of ``torch.utils``: ``checkpoint`` (recompute activations in backward)."""
from . import checkpoint

__all__ = ["checkpoint"]
