"""What ``fit(..., tensorboard=DIR)`` logs after every epoch: the curves and each layer's histograms.

Scalars ``loss/train``, ``accuracy/train``, ``loss/val``, ``accuracy/val`` and ``lr``; histograms
``weights/NAME`` and ``grads/NAME`` per parameter (the gradients of the epoch's last batch), each at
step = the epoch number, so a resumed run continues the same curves.
"""
from __future__ import annotations


def open_writer(log_dir):
    from ..utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir)


def log_epoch(writer, model, epoch: int, train_loss, train_acc, val_loss, val_acc, lr) -> None:
    writer.add_scalar("loss/train", train_loss, epoch)
    writer.add_scalar("accuracy/train", train_acc, epoch)
    if val_loss is not None:
        writer.add_scalar("loss/val", val_loss, epoch)
        writer.add_scalar("accuracy/val", val_acc, epoch)
    writer.add_scalar("lr", lr, epoch)
    for name, parameter in model.named_parameters():
        writer.add_histogram(f"weights/{name}", parameter, epoch)
        if parameter.grad is not None:
            writer.add_histogram(f"grads/{name}", parameter.grad, epoch)
    writer.flush()
