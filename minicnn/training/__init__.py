"""Training classifiers: the loop (``fit``/``Trainer``), ``evaluate``, the History and checkpoints."""
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .divergence import TrainingDiverged
from .evaluation import Evaluation, evaluate
from .history import History
from .trainer import Trainer, fit

__all__ = ["Checkpoint", "Evaluation", "History", "Trainer", "evaluate", "fit", "load_checkpoint", "save_checkpoint",
           "TrainingDiverged"]
