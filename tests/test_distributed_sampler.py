"""DistributedSampler: shards that cover the dataset, equal in length, reshuffled by epoch, as torch's."""
import numpy as np
import pytest

from minicnn.data import DataLoader, DistributedSampler, TensorDataset
from helpers import import_torch

import minicnn


def shards(size, replicas, **kwargs):
    return [list(DistributedSampler(range(size), num_replicas=replicas, rank=r, **kwargs)) for r in range(replicas)]


@pytest.mark.parametrize("size, replicas", [(10, 3), (12, 4), (2, 3), (7, 2)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_lengths_and_unshuffled_indices_match_torch(size, replicas, drop_last):
    torch = import_torch()
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    ours = shards(size, replicas, shuffle=False, drop_last=drop_last)
    theirs = [list(TorchSampler(range(size), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last))
              for r in range(replicas)]
    assert ours == theirs
    assert [len(DistributedSampler(range(size), replicas, r, drop_last=drop_last)) for r in range(replicas)] == \
        [len(s) for s in theirs]


@pytest.mark.parametrize("size, replicas", [(10, 3), (13, 4)])
def test_padded_shards_are_equal_and_cover_every_index(size, replicas):
    parts = shards(size, replicas, seed=5)
    assert len({len(p) for p in parts}) == 1
    assert set().union(*map(set, parts)) == set(range(size))
    assert sum(map(len, parts)) - size == (-size) % replicas  # only the padding repeats


def test_drop_last_shards_do_not_overlap():
    parts = shards(10, 3, drop_last=True)
    flat = [i for p in parts for i in p]
    assert len(flat) == len(set(flat)) == 9


def test_set_epoch_reshuffles_the_same_way_on_every_rank():
    a = DistributedSampler(range(20), num_replicas=2, rank=0, seed=3)
    b = DistributedSampler(range(20), num_replicas=2, rank=1, seed=3)
    first = list(a) + list(b)
    assert list(a) + list(b) == first  # same epoch, same order
    a.set_epoch(1)
    b.set_epoch(1)
    second = list(a) + list(b)
    assert sorted(first) == sorted(second) == list(range(20)) and first != second


def test_invalid_rank_is_refused_as_torch():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


def test_loader_with_the_sampler_yields_the_shard():
    data = TensorDataset(minicnn.tensor(np.arange(10.0)))
    sampler = DistributedSampler(data, num_replicas=2, rank=1, shuffle=False)
    values = [float(v) for (batch,) in DataLoader(data, batch_size=2, sampler=sampler) for v in batch.tolist()]
    assert values == [1.0, 3.0, 5.0, 7.0, 9.0]
