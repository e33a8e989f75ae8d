"""``minicnn.train``: fit a classifier, evaluate it, keep its history and checkpoints.

The pieces live in ``minicnn/training/`` (trainer, evaluation, history, checkpoint, progress); this
module is the short name to import them by::

    from minicnn.train import fit, evaluate
"""
from .training import *  # noqa: F401,F403
from .training import __all__  # noqa: F401
