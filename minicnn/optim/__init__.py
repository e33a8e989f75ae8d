"""``minicnn.optim``: SGD, Adam, AdamW and learning-rate schedulers, with torch.optim's names and updates."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD
from .adaptive import Adadelta, Adagrad, RMSprop
from .adam_variants import Adamax, NAdam, RAdam

__all__ = ["Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "NAdam", "Optimizer", "RAdam", "RMSprop", "SGD",
           "lr_scheduler"]
