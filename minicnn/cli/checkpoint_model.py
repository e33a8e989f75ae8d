"""Rebuilding a trained model from a checkpoint file alone (its config says which model and input)."""
from __future__ import annotations

import os

from ..serialization import CheckpointError
from ..training import load_checkpoint
from .errors import UsageError
from .model_builder import build_model


def load_trained_model(path: str):
    """(model in eval mode, checkpoint) from a checkpoint written by ``minicnn train``."""
    if os.path.isdir(path):
        raise UsageError(f"{path} is a folder, not a checkpoint file (e.g. {os.path.join(path, 'best.npz')})")
    try:
        checkpoint = load_checkpoint(path)
    except FileNotFoundError:
        raise UsageError(f"no checkpoint file {path}") from None
    except (CheckpointError, ValueError, OSError, KeyError) as error:
        raise UsageError(f"{path} is not a readable minicnn checkpoint ({type(error).__name__}: {error})") from None
    config = checkpoint.config
    if "model" not in config or "input_shape" not in config:
        raise UsageError(f"checkpoint {path} does not say which model it holds (it was not written by minicnn train)")
    model = build_model(config["model"], config.get("model_kwargs", {}))
    try:
        model.load_state_dict(checkpoint.model_state)
    except (ValueError, RuntimeError, KeyError) as error:
        raise UsageError(f"checkpoint {path} does not fit model {config['model']!r}: {error}") from None
    model.eval()
    return model, checkpoint
