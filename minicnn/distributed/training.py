"""What the training loop needs from the other processes; one process is a world of one.

``Ranks.current()`` describes this process's job. The trainer asks it to wrap the model
(DistributedDataParallel when there are several ranks), to add up its metrics over the ranks, to
combine the held-out evaluation of each rank's shard, and whether it is the rank that prints and
writes files (rank 0). ``stop_all_on_error`` turns an exception on any rank into the end of every
rank: the failing rank prints its error and aborts the MPI job, so no other rank waits for it in a
collective forever.
"""
from __future__ import annotations

import contextlib
import sys
import traceback

import numpy as np

from . import process_group


class Ranks:
    def __init__(self, rank: int = 0, world_size: int = 1):
        self.rank, self.world_size = rank, world_size

    @classmethod
    def current(cls) -> "Ranks":
        if process_group.is_initialized():
            return cls(process_group.get_rank(), process_group.get_world_size())
        return cls()

    @classmethod
    def from_launcher(cls, threads_per_rank: int | None = None) -> "Ranks":
        """Join the process group when an MPI launcher started several processes (the group is
        left alone when it already exists), and give each rank its share of the cores."""
        from . import environment, threads

        if environment.launched_world_size() > 1 and not process_group.is_initialized():
            process_group.init_process_group("mpi")
        ranks = cls.current()
        if ranks.several or threads_per_rank is not None:
            threads.set_threads_per_rank(threads_per_rank or threads.default_threads_per_rank())
        return ranks

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def several(self) -> bool:
        return self.world_size > 1

    def wrap(self, model):
        """The model to run forward/backward through: DistributedDataParallel over several ranks."""
        if not self.several:
            return model
        from .ddp import DistributedDataParallel

        return DistributedDataParallel(model)

    def share_buffers(self, model) -> None:
        """Give every rank rank 0's buffers (BatchNorm running statistics), as DistributedDataParallel
        does before each forward: after an epoch, so that evaluation and checkpoints see one model."""
        if self.several:
            from .ddp import _broadcast_coalesced

            buffers = [b.array for b in model.buffers()]
            if buffers:
                _broadcast_coalesced(buffers)

    def sum(self, *values) -> tuple:
        """The floats ``values`` added up over the ranks (as themselves for one rank)."""
        if not self.several:
            return tuple(float(v) for v in values)
        from .collectives import all_reduce_array

        totals = np.array(values, dtype=np.float64)
        all_reduce_array(totals)
        return tuple(float(v) for v in totals)

    def shard(self, dataset):
        """This rank's part of a held-out set: every world_size-th example, none repeated (so the
        combined evaluation counts each example once, unlike a padded DistributedSampler)."""
        if not self.several:
            return dataset
        from ..data import Subset

        return Subset(dataset, np.arange(self.rank, len(dataset), self.world_size))

    def combine(self, evaluation):
        """The Evaluation of every rank's shard together."""
        if not self.several:
            return evaluation
        from ..training.evaluation import Evaluation
        from .collectives import all_reduce_array

        confusion = evaluation.confusion.astype(np.int64)
        all_reduce_array(confusion)
        loss_sum, count = self.sum(evaluation.loss * evaluation.count, evaluation.count)
        total = confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_class = np.where(total > 0, np.diag(confusion) / total, np.nan)
        return Evaluation(loss=loss_sum / count, accuracy=float(np.trace(confusion)) / count, count=int(count),
                          confusion=confusion, per_class_accuracy=per_class)

    @contextlib.contextmanager
    def stop_all_on_error(self, program: str = "minicnn"):
        """Inside it, an exception on this rank ends every rank of the job (with several ranks)."""
        if not self.several:
            yield
            return
        try:
            yield
        except SystemExit as stop:
            if stop.code in (0, None):
                raise
            process_group.abort(None, stop.code if isinstance(stop.code, int) else 1)
        except BaseException as error:  # noqa: BLE001 - any failure must reach the other ranks
            usage = type(error).__name__ == "UsageError"
            where = f"rank {self.rank} of {self.world_size}"
            if usage:
                message = f"{program}: error ({where}): {error}"
            else:
                message = (f"{''.join(traceback.format_exception(error))}{program}: {where} failed with "
                           f"{type(error).__name__}: {error}; stopping every rank")
            sys.stdout.flush()
            process_group.abort(message, 2 if usage else 1)
