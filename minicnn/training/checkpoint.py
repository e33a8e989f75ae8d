"""Checkpoints: everything needed to continue a run exactly, or to rebuild its model from the file alone.

A checkpoint is one ``minicnn.save`` file (npz, written atomically) holding

    format      "minicnn-training-checkpoint"
    version     1
    model       the model's state_dict
    optimizer   the optimizer's state_dict (absent when there was none)
    scheduler   the learning-rate scheduler's state_dict (absent when there was none)
    loader      the training DataLoader's state_dict: its shuffling seed (absent for other loaders)
    epoch       the number of epochs finished
    best_val_acc  the best validation accuracy so far (-1 before any)
    history     the History rows, as JSON text
    rng         minicnn's host random-generator state at the end of ``epoch``, as JSON text
    config      how to rebuild the model and prepare its inputs, as JSON text: model name and keyword
                arguments, input shape, class names, normalization, dataset (see ``minicnn.cli``)

JSON text keeps the nested lists and 128-bit integers of those three entries exact whatever the
array format can hold.
"""
from __future__ import annotations

import json
import os

from .. import random as minicnn_random
from ..serialization import CheckpointError, load, save
from .history import History

FORMAT = "minicnn-training-checkpoint"
VERSION = 1


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch: int = 0, history: History | None = None,
                    best_val_acc: float | None = None, config: dict | None = None, loader=None) -> None:
    """Write a checkpoint to ``path`` (atomically: a reader never sees half a file)."""
    state = {
        "format": FORMAT,
        "version": VERSION,
        "model": model.state_dict(),
        "epoch": int(epoch),
        "best_val_acc": -1.0 if best_val_acc is None else float(best_val_acc),
        "history": (history or History()).to_json(),
        "rng": json.dumps(minicnn_random.get_rng_state()),
        "config": json.dumps(config or {}),
    }
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if loader is not None and hasattr(loader, "state_dict"):
        state["loader"] = loader.state_dict()
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    save(state, path)


class Checkpoint:
    """A loaded checkpoint: ``model_state``, ``optimizer_state``, ``scheduler_state``, ``loader_state``
    (None when absent),
    ``epoch``, ``best_val_acc``, ``history``, ``rng_state`` and ``config``."""

    def __init__(self, state: dict, path):
        self.path = path
        self.model_state = state["model"]
        self.optimizer_state = state.get("optimizer")
        self.scheduler_state = state.get("scheduler")
        self.loader_state = state.get("loader")
        self.epoch = int(state["epoch"])
        best = float(state["best_val_acc"])
        self.best_val_acc = None if best < 0 else best
        self.history = History.from_json(str(state["history"]))
        self.rng_state = json.loads(str(state["rng"]))
        self.config = json.loads(str(state["config"]))


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint``.

    Raises FileNotFoundError when there is no file, and CheckpointError (a ValueError) when the file
    is not a readable minicnn checkpoint.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    state = load(path)
    if not isinstance(state, dict) or str(state.get("format", "")) != FORMAT:
        raise CheckpointError(f"{path} is a minicnn file but not a training checkpoint (no format {FORMAT!r})")
    missing = [key for key in ("model", "epoch", "best_val_acc", "history", "rng", "config") if key not in state]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {missing}")
    try:
        return Checkpoint(state, path)
    except (ValueError, TypeError, KeyError) as error:
        raise CheckpointError(f"checkpoint {path} is damaged: {error}") from error
