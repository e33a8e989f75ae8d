"""Evaluating a classifier on a data loader: loss, accuracy, per-class accuracy and confusion matrix."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import backend, functional
from ..autograd import Tensor, no_grad


@dataclass
class Evaluation:
    """The result of ``evaluate``.

    loss: mean loss per example; accuracy: fraction correct in [0, 1]; count: number of examples;
    confusion: int64 (num_classes, num_classes), row = true class, column = predicted class;
    per_class_accuracy: float (num_classes,), NaN for a class with no example.
    """

    loss: float
    accuracy: float
    count: int
    confusion: np.ndarray
    per_class_accuracy: np.ndarray


def to_device_batch(batch, device):
    """(images, labels) of a loader batch, as tensors on ``device``."""
    images, labels = batch[0], batch[1]
    images = images.to(device) if isinstance(images, Tensor) else Tensor(images, device=device)
    labels = labels.to(device) if isinstance(labels, Tensor) else Tensor(labels, device=device)
    return images, labels


def evaluate(model, loader, device="cpu", loss_fn=None, num_classes: int | None = None) -> Evaluation:
    """Run ``model`` in eval mode without a graph over every batch of ``loader``.

    ``loader`` yields (images (N, C, H, W), labels (N,)) batches; ``loss_fn(logits, labels)`` returns the
    mean loss of a batch (cross entropy by default). ``num_classes`` defaults to the model's output width.
    """
    loss_fn = loss_fn or functional.cross_entropy
    model.eval()
    loss_sum, count = 0.0, 0
    confusion = None
    with no_grad():
        for batch in loader:
            images, labels = to_device_batch(batch, device)
            logits = model(images)
            batch_size = labels.shape[0]
            # Evaluation may sync with the device once per batch: only the small label arrays move.
            loss_sum += float(backend.to_host(loss_fn(logits, labels).array)) * batch_size
            predicted = backend.to_host(logits.array.argmax(axis=1)).astype(np.int64)
            truth = backend.to_host(labels.array).astype(np.int64)
            if confusion is None:
                width = num_classes or logits.shape[1]
                confusion = np.zeros((width, width), dtype=np.int64)
            width = confusion.shape[0]
            confusion += np.bincount(truth * width + predicted, minlength=width * width).reshape(width, width)
            count += batch_size
    if count == 0:
        raise ValueError("evaluate: the loader yielded no examples")
    per_class_total = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class_accuracy = np.where(per_class_total > 0, np.diag(confusion) / per_class_total, np.nan)
    return Evaluation(
        loss=loss_sum / count,
        accuracy=float(np.trace(confusion)) / count,
        count=count,
        confusion=confusion,
        per_class_accuracy=per_class_accuracy,
    )
