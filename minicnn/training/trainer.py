"""The training loop: epochs of (forward, loss, backward, step), validation, history and checkpoints.

    trainer = Trainer(model, optimizer, scheduler=scheduler, out_dir="runs/lenet")
    history = trainer.fit(train_loader, val_loader, epochs=10)

or in one call, ``fit(model, train_loader, val_loader, optimizer=..., epochs=10, out_dir=...)``.

With ``out_dir`` the trainer writes, after every epoch, ``last.npz`` (the run so far), ``best.npz``
(the epoch with the best validation accuracy) and history.json/.csv; history.png when training ends. ``resume=True`` reloads
``last.npz`` and continues: model, optimizer, scheduler, history and the random generator come back as
they were, so on the cpu a run of 4 epochs and a run of 2 epochs resumed for 2 more end with the same
weights, bit for bit: a ``minicnn.data.DataLoader`` orders each epoch from its seed and the epoch number
(``set_epoch``), and that seed is saved in the checkpoint too.

A run whose loss or gradients become NaN or infinite stops with ``TrainingDiverged`` naming the epoch
and step, before that epoch's checkpoint is written (see divergence.py); ``detect_anomaly=True`` also
names the operation and the layer that first produced the non-finite value (minicnn.anomaly).
"""
from __future__ import annotations

import os
import time

from .. import anomaly, backend, functional, optim
from ..cpu import keep_freed_memory
from .. import random as minicnn_random
from ..distributed.training import Ranks
from .checkpoint import load_checkpoint, save_checkpoint
from .divergence import FiniteWatch, TrainingDiverged, non_finite_state
from .evaluation import evaluate, to_device_batch
from .history import History
from .progress import progress_bar
from . import tensorboard_log

# How often (in batches) the progress bar reads the running loss back from the device: each read
# waits for the device to finish, so it is kept rare.
_REFRESH_EVERY = 10


class Trainer:
    """Trains a classifier; see the module docstring.

    Args:
        model: an ``nn.Module`` returning logits (N, num_classes) for images (N, C, H, W).
        optimizer: an ``optim`` optimizer over the model's parameters (SGD, lr 0.01, momentum 0.9 if None).
        loss_fn: ``loss_fn(logits, labels) -> scalar Tensor``; cross entropy by default.
        scheduler: an ``optim.lr_scheduler`` stepped once per epoch, or None.
        device: "cpu", "cuda" or "sim"; the model is moved there.
        out_dir: where checkpoints and history go (nothing is written when None).
        progress: show a tqdm bar per epoch (only ever on a terminal).
        config: a JSON-able dict stored in every checkpoint (how to rebuild the model; see minicnn.cli).
        log: called with one line of text per epoch (``print`` by default; None for silence).
        plot: also write history.png (needs matplotlib).
        detect_anomaly: run every step in anomaly mode (slow): a divergence then names the operation
            and the layer that first produced a NaN or an infinity.
        tensorboard: a folder for TensorBoard event files (curves, weight and gradient histograms; see
            tensorboard_log.py), or None.
    """

    def __init__(self, model, optimizer=None, loss_fn=None, scheduler=None, device="cpu", out_dir=None,
                 progress: bool = True, config: dict | None = None, log=print, plot: bool = True,
                 detect_anomaly: bool = False, tensorboard=None):
        self.device = backend.normalize_device(device)
        self.model = model.to(self.device)
        self.optimizer = optimizer or optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        self.loss_fn = loss_fn or functional.cross_entropy
        self.scheduler = scheduler
        self.out_dir = None if out_dir is None else os.fspath(out_dir)
        self.progress = progress
        self.config = dict(config or {})
        self.log = log or (lambda line: None)
        self.plot = plot
        self.detect_anomaly = bool(detect_anomaly)
        self.history = History()
        self.epoch = 0  # epochs finished
        self.best_val_acc: float | None = None
        self.train_loader = None  # the loader being trained on: its state goes into checkpoints
        # Several processes (mpiexec): gradients averaged by DistributedDataParallel, metrics summed
        # over the ranks, and only rank 0 prints and writes files.
        self.ranks = Ranks.current()
        self.forward_model = self.ranks.wrap(self.model)
        if not self.ranks.is_main:
            self.log, self.progress, self.plot = (lambda line: None), False, False
        self.tensorboard = tensorboard if self.ranks.is_main else None  # one writer: rank 0's
        self._writer = None

    # ------------------------------------------------------------------------------------------
    def checkpoint_path(self, name: str = "last") -> str:
        if self.out_dir is None:
            raise ValueError("Trainer: out_dir is None, so there are no checkpoints")
        return os.path.join(self.out_dir, f"{name}.npz")

    def save(self, name: str = "last") -> str:
        path = self.checkpoint_path(name)
        save_checkpoint(path, self.model, self.optimizer, self.scheduler, epoch=self.epoch, history=self.history,
                        best_val_acc=self.best_val_acc, config=self.config, loader=self.train_loader)
        return path

    def resume(self, path=None, train_loader=None) -> None:
        """Continue from a checkpoint (``out_dir/last.npz`` by default); ``train_loader`` gets back its
        shuffling seed when it has ``load_state_dict`` (as ``minicnn.data.DataLoader`` does)."""
        checkpoint = load_checkpoint(path or self.checkpoint_path("last"))
        self.model.load_state_dict(checkpoint.model_state)
        if checkpoint.optimizer_state is not None:
            self.optimizer.load_state_dict(checkpoint.optimizer_state)
        if self.scheduler is not None and checkpoint.scheduler_state is not None:
            self.scheduler.load_state_dict(checkpoint.scheduler_state)
        self.history = checkpoint.history
        self.epoch = checkpoint.epoch
        self.best_val_acc = checkpoint.best_val_acc
        self.config = {**checkpoint.config, **self.config}
        if checkpoint.loader_state is not None and hasattr(train_loader, "load_state_dict"):
            train_loader.load_state_dict(checkpoint.loader_state)
        # Last: building the model and optimizer above may have drawn random numbers.
        minicnn_random.set_rng_state(checkpoint.rng_state)

    # ------------------------------------------------------------------------------------------
    def train_epoch(self, loader, description: str = "train") -> tuple[float, float, float]:
        """One pass over ``loader`` in train mode. Returns (mean loss, accuracy, images per second)."""
        self.model.train()
        bar = progress_bar(loader, _length(loader), description, enabled=self.progress)
        loss_sum = correct = None  # device scalars: summed without waiting for the device
        count, started = 0, time.perf_counter()
        watch = self._finite_watch()
        try:  # a diverging run raises from inside the loop: the bar is closed all the same
            for step, batch in enumerate(bar, 1):
                images, labels = to_device_batch(batch, self.device)
                logits, loss = self._forward_backward(images, labels, watch, step)
                watch.record(step, loss)  # raises before the step is applied when it is checked at once (cpu)
                self.optimizer.step()

                batch_size = labels.shape[0]
                batch_loss = loss.array * batch_size
                batch_correct = (logits.array.argmax(axis=1) == labels.array).sum()
                loss_sum = batch_loss if loss_sum is None else loss_sum + batch_loss
                correct = batch_correct if correct is None else correct + batch_correct
                count += batch_size
                if step % _REFRESH_EVERY == 0:
                    rate = count / max(time.perf_counter() - started, 1e-9)
                    bar.set_postfix_str(_running_text(loss_sum, correct, count, rate))
        finally:
            bar.close()
        watch.check()
        if count == 0:
            raise ValueError("Trainer.train_epoch: the training loader yielded no batches")
        loss_total, correct_total, count = self.ranks.sum(_host_float(loss_sum), _host_float(correct), count)
        seconds = max(time.perf_counter() - started, 1e-9)
        return loss_total / count, correct_total / count, count / seconds

    def _finite_watch(self) -> FiniteWatch:
        parameters = [param for group in self.optimizer.param_groups for param in group["params"]]
        if self.out_dir is None:
            where = "nothing was saved (no out_dir)"
        elif self.epoch == 0:
            where = "no checkpoint was saved (the first epoch did not finish)"
        else:
            where = f"kept the checkpoints of epoch {self.epoch} in {self.out_dir}"
        every = 1 if self.device == "cpu" else _REFRESH_EVERY
        return FiniteWatch(self.epoch + 1, parameters, every, where)

    def _forward_backward(self, images, labels, watch: FiniteWatch, step: int):
        """Logits and loss of one batch, gradients filled; in anomaly mode a non-finite value raises
        TrainingDiverged naming the operation and the layer."""
        if not self.detect_anomaly:
            logits, loss = self._forward_with_loss(images, labels)
            self.optimizer.zero_grad()
            loss.backward()
            return logits, loss
        try:
            with anomaly.detect_anomaly():
                logits, loss = self._forward_with_loss(images, labels)
                self.optimizer.zero_grad()
                loss.backward()
        except anomaly.AnomalyError as error:
            watch.fail(step, str(error))
        return logits, loss

    def _forward_with_loss(self, images, labels):
        """Logits and training loss. Models with auxiliary classifiers (GoogLeNet in training mode)
        return (logits, aux2, aux1): their losses are added with weight 0.3, as in the GoogLeNet paper."""
        outputs = self.forward_model(images)
        if isinstance(outputs, tuple):
            logits, *auxiliary = outputs
            loss = self.loss_fn(logits, labels)
            for aux_logits in auxiliary:
                if aux_logits is not None:
                    loss = loss + 0.3 * self.loss_fn(aux_logits, labels)
            return logits, loss
        return outputs, self.loss_fn(outputs, labels)

    def _run_epoch(self, train_loader, val_loader, epochs: int) -> None:
        epoch = self.epoch + 1
        started = time.perf_counter()
        if hasattr(train_loader, "set_epoch"):
            train_loader.set_epoch(epoch)
        if hasattr(getattr(train_loader, "sampler", None), "set_epoch"):  # a DistributedSampler
            train_loader.sampler.set_epoch(epoch)
        lr = self.optimizer.param_groups[0]["lr"]
        train_loss, train_acc, rate = self.train_epoch(train_loader, f"epoch {epoch}/{epochs}")
        self.ranks.share_buffers(self.model)
        val_loss = val_acc = None
        if val_loader is not None:
            result = self.ranks.combine(evaluate(self.model, val_loader, self.device, self.loss_fn))
            val_loss, val_acc = result.loss, result.accuracy
        if self.scheduler is not None:
            self.scheduler.step()
        seconds = time.perf_counter() - started
        broken = non_finite_state(self.model)
        if broken is not None:  # e.g. a BatchNorm running variance that overflowed: never saved
            self._finite_watch().fail(None, f"{broken} holds NaN or infinite values")
        self.epoch = epoch
        self.history.append(epoch=epoch, train_loss=train_loss, train_acc=train_acc, val_loss=val_loss,
                            val_acc=val_acc, lr=lr, time=seconds)
        # Without a validation set, "best" falls back to training accuracy.
        score = val_acc if val_acc is not None else train_acc
        improved = self.best_val_acc is None or score > self.best_val_acc
        if improved:
            self.best_val_acc = score
        if self.out_dir is not None and self.ranks.is_main:
            self.save("last")
            if improved:
                self.save("best")
            self.history.save(self.out_dir, plot=False)  # the plot is drawn once, when fit ends
        if self._writer is not None:
            tensorboard_log.log_epoch(self._writer, self.model, epoch, train_loss, train_acc, val_loss, val_acc, lr)
        self.log(_epoch_line(epoch, epochs, train_loss, train_acc, val_loss, val_acc, lr, seconds, rate))

    def fit(self, train_loader, val_loader=None, epochs: int = 1, resume: bool = False) -> History:
        """Train until ``epochs`` epochs are finished in total (counting those before a resume)."""
        keep_freed_memory()  # a training process: each step reuses the memory the last one freed
        self.train_loader = train_loader
        with self.ranks.stop_all_on_error("Trainer.fit"):
            if resume:
                self.resume(train_loader=train_loader)
            if self.tensorboard is not None:
                self._writer = tensorboard_log.open_writer(self.tensorboard)
            self._train_until(train_loader, val_loader, epochs)
        return self.history

    def _train_until(self, train_loader, val_loader, epochs: int) -> None:
        try:
            while self.epoch < epochs:
                self._run_epoch(train_loader, val_loader, epochs)
        finally:  # also after Ctrl-C: the curves of the epochs that did finish
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            if self.out_dir is not None and self.plot and len(self.history):
                self.history.plot(os.path.join(self.out_dir, "history.png"), notice=self.log)


def fit(model, train_loader, val_loader=None, optimizer=None, loss_fn=None, epochs: int = 1, scheduler=None,
        device="cpu", out_dir=None, resume: bool = False, progress: bool = True, config: dict | None = None,
        log=print, plot: bool = True, detect_anomaly: bool = False,
        tensorboard=None) -> History:
    """Train ``model`` for ``epochs`` epochs and return its History; the arguments are ``Trainer``'s."""
    trainer = Trainer(model, optimizer, loss_fn=loss_fn, scheduler=scheduler, device=device, out_dir=out_dir,
                      progress=progress, config=config, log=log, plot=plot, detect_anomaly=detect_anomaly,
                      tensorboard=tensorboard)
    return trainer.fit(train_loader, val_loader, epochs=epochs, resume=resume)


# ----------------------------------------------------------------------------------------------
def _length(loader):
    try:
        return len(loader)
    except TypeError:
        return None


def _host_float(value) -> float:
    return float(backend.to_host(value))


def _running_text(loss_sum, correct, count, rate) -> str:
    return f"loss {_host_float(loss_sum) / count:.4f}  acc {100 * _host_float(correct) / count:.2f}%  {rate:.0f} img/s"


def _epoch_line(epoch, epochs, train_loss, train_acc, val_loss, val_acc, lr, seconds, rate) -> str:
    width = len(str(epochs))
    line = f"epoch {epoch:>{width}}/{epochs}  train loss {train_loss:.4f} acc {100 * train_acc:6.2f}%"
    if val_loss is not None:
        line += f"  val loss {val_loss:.4f} acc {100 * val_acc:6.2f}%"
    return line + f"  lr {lr:.3g}  {seconds:.1f}s  {rate:.0f} img/s"
