"""``minicnn.optim``: SGD, Adam, AdamW and learning-rate schedulers, with torch.optim's names and updates."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Adam", "AdamW", "Optimizer", "SGD", "lr_scheduler"]
