"""DistributedSampler: each process of a data-parallel job visits its own, equally long, shard.

As ``torch.utils.data.distributed.DistributedSampler``: the indices of an epoch are shuffled (from
``seed`` and the epoch given to ``set_epoch``, so every rank draws the same permutation), padded by
repeating the first indices until they divide evenly among the ranks (or, with ``drop_last``, cut
to a multiple), and rank r takes every ``num_replicas``-th index starting at r. Equal shards keep the
ranks in step: each runs the same number of batches, so no collective waits for a rank that finished.
The permutation is NumPy's (``default_rng([seed, epoch])``), not torch's.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["DistributedSampler"]


class DistributedSampler:
    """Yields this rank's indices into ``dataset`` (anything with ``len``).

    Args:
        num_replicas, rank: the world size and this process's rank (by default the process group's).
        shuffle: a new permutation each epoch (``set_epoch``) instead of 0..n-1.
        seed: the seed of the permutation; the same on every rank.
        drop_last: cut the tail that does not divide evenly instead of padding with repeats.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            from .. import distributed

            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be at least 1, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = shuffle, int(seed), drop_last
        self.epoch = 0
        size = len(dataset)
        if drop_last and size % self.num_replicas:
            self.num_samples = math.ceil((size - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(size / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose permutation the next pass uses (call it before each epoch)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self):
        size = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng([self.seed, self.epoch]).permutation(size)
        else:
            indices = np.arange(size)
        if self.total_size > size:  # pad with the first indices, repeated as often as needed
            indices = np.concatenate([indices, np.resize(indices, self.total_size - size)])
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas].tolist())

    def __repr__(self) -> str:
        return (f"DistributedSampler(n={len(self.dataset)}, num_replicas={self.num_replicas}, rank={self.rank}, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last}, epoch={self.epoch})")
