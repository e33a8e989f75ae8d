"""minicnn.utils.data: torch.utils.data's names, samplers, and DataLoader's full signature with worker processes."""
import os
import time

import numpy as np
import pytest

import minicnn
from minicnn.data import transforms as T
from minicnn.utils.data import (BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler,
                                SequentialSampler, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                                get_worker_info)

from helpers import host


class Numbers(Dataset):
    """Sample i is (float image filled with i, i)."""

    def __init__(self, size):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        return np.full((1, 2, 2), index, np.float32), index


def labels_of(loader):
    return [host(labels).tolist() for _, labels in loader]


def test_utils_data_is_an_attribute_path_of_minicnn_and_the_same_implementation_as_minicnn_data():
    assert minicnn.utils.data.DataLoader is minicnn.data.DataLoader
    assert minicnn.utils.data.TensorDataset is minicnn.data.TensorDataset
    assert minicnn.utils.data.WeightedRandomSampler is minicnn.data.WeightedRandomSampler


def test_sequential_and_batch_sampler_match_torch():
    torch_data = pytest.importorskip("torch.utils.data")
    for drop_last in (False, True):
        ours = list(BatchSampler(SequentialSampler(range(7)), 3, drop_last))
        theirs = list(torch_data.BatchSampler(torch_data.SequentialSampler(range(7)), 3, drop_last))
        assert ours == theirs and len(BatchSampler(range(7), 3, drop_last)) == len(theirs)


def test_random_sampler_permutes_reproducibly_and_draws_with_replacement():
    first = list(RandomSampler(range(10), generator=np.random.default_rng(3)))
    assert sorted(first) == list(range(10)) and first != list(range(10))
    assert first == list(RandomSampler(range(10), generator=np.random.default_rng(3)))
    minicnn.manual_seed(1)
    seeded = list(RandomSampler(range(10)))
    minicnn.manual_seed(1)
    assert list(RandomSampler(range(10))) == seeded
    drawn = list(RandomSampler(range(4), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= set(range(4))
    longer = list(RandomSampler(range(4), num_samples=10))  # whole permutations, cut
    assert sorted(longer[:4]) == sorted(longer[4:8]) == list(range(4))


def test_subset_random_sampler_visits_exactly_its_indices():
    order = list(SubsetRandomSampler([5, 7, 9, 11], generator=np.random.default_rng(0)))
    assert sorted(order) == [5, 7, 9, 11]


def test_weighted_random_sampler_follows_the_weights_and_never_draws_a_zero_weight():
    sampler = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=4000, generator=np.random.default_rng(0))
    counts = np.bincount(list(sampler), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / counts[1] - 3.0) < 0.3 and len(sampler) == 4000
    without = list(WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(without) == [0, 1, 2, 3]


@pytest.mark.parametrize("make, error", [
    (lambda: WeightedRandomSampler([1.0, 2.0], num_samples=0), ValueError),
    (lambda: WeightedRandomSampler([[1.0, 2.0]], num_samples=2), ValueError),
    (lambda: WeightedRandomSampler([1.0, 2.0], num_samples=2, replacement=1), ValueError),
    (lambda: RandomSampler(range(3), replacement="yes"), TypeError),
    (lambda: BatchSampler(range(3), batch_size=0, drop_last=False), ValueError),
])
def test_sampler_argument_errors_have_torchs_types(make, error):
    with pytest.raises(error):
        make()


def test_loader_has_torchs_signature_and_attributes():
    import inspect
    names = list(inspect.signature(DataLoader).parameters)
    assert names[:13] == ["dataset", "batch_size", "shuffle", "sampler", "batch_sampler", "num_workers",
                          "collate_fn", "pin_memory", "drop_last", "timeout", "worker_init_fn",
                          "multiprocessing_context", "generator"]
    loader = DataLoader(Numbers(10), batch_size=4, shuffle=True)
    assert isinstance(loader.sampler, RandomSampler) and isinstance(loader.batch_sampler, BatchSampler)
    assert len(loader) == 3 and len(loader.dataset) == 10
    assert isinstance(DataLoader(Numbers(3)).sampler, SequentialSampler)


@pytest.mark.parametrize("kwargs", [
    dict(batch_sampler=[[0, 1]], batch_size=2), dict(batch_sampler=[[0, 1]], shuffle=True),
    dict(batch_sampler=[[0, 1]], drop_last=True), dict(sampler=[0, 1], shuffle=True),
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(batch_size=None, drop_last=True),
])
def test_exclusive_options_raise_value_error_like_torch(kwargs):
    torch_data = pytest.importorskip("torch.utils.data")
    with pytest.raises(ValueError):
        torch_data.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(ValueError):
        DataLoader(Numbers(4), **kwargs)


def test_batch_sampler_and_unbatched_loading():
    loader = DataLoader(Numbers(6), batch_sampler=[[5, 0], [2, 3, 4]])
    assert labels_of(loader) == [[5, 0], [2, 3, 4]] and len(loader) == 2
    samples = list(DataLoader(TensorDataset(np.arange(3.0), np.arange(3)), batch_size=None))
    assert [int(host(label)) for _, label in samples] == [0, 1, 2] and isinstance(samples[0][0], minicnn.Tensor)


def test_pin_memory_is_accepted_and_warns_without_an_accelerator():
    with pytest.warns(UserWarning, match="pin_memory"):
        loader = DataLoader(Numbers(4), batch_size=2, pin_memory=True)
    assert labels_of(loader) == [[0, 1], [2, 3]]


class Seeds(Dataset):
    """Sample i reports the worker that made it and a draw from NumPy's global generator there."""

    def __len__(self):
        return 8

    def __getitem__(self, index):
        info = get_worker_info()
        return np.float64(np.random.random()), (-1 if info is None else info.id), (0 if info is None else info.seed)


def test_workers_give_the_same_batches_as_the_main_process_with_shuffle_and_augmentation():
    ds = minicnn.data.SyntheticImages(200, image_shape=(1, 12, 12))
    augment = T.Compose([T.RandomCrop(12, padding=2), T.RandomHorizontalFlip()])
    runs = []
    for workers in (0, 2):
        loader = DataLoader(ds, batch_size=64, shuffle=True, seed=5, transform=augment, num_workers=workers)
        runs.append([(host(x), host(y)) for x, y in loader])
    assert len(runs[0]) == len(runs[1]) > 2
    for (x0, y0), (x1, y1) in zip(*runs):
        assert np.array_equal(x0, x1) and np.array_equal(y0, y1)


def test_each_worker_is_seeded_with_base_seed_plus_its_id_and_runs_worker_init_fn():
    calls = []
    loader = DataLoader(Seeds(), batch_size=2, num_workers=2, worker_init_fn=calls.append)
    draws, workers, seeds = (np.concatenate(column) for column in zip(*[[host(c) for c in b] for b in loader]))
    assert set(workers.tolist()) == {0, 1} and calls == []  # worker_init_fn ran in the workers, not here
    seed_of = {int(w): int(s) for w, s in zip(workers, seeds)}
    assert seed_of[1] == seed_of[0] + 1
    assert len(set(draws.tolist())) == len(draws)  # workers' NumPy streams differ


def test_worker_init_fn_and_get_worker_info_in_an_iterable_dataset_split_the_work():
    class Range(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter([(np.float32(i), i) for i in range(start, 10, step)])

    for workers in (0, 2):
        labels = sorted(sum(labels_of(DataLoader(Range(), batch_size=3, num_workers=workers)), []))
        assert labels == list(range(10))
    with pytest.raises(TypeError):
        len(DataLoader(Range(), batch_size=3))


def test_worker_errors_reach_the_caller_with_the_original_type():
    class Failing(Numbers):
        def __getitem__(self, index):
            if index == 5:
                raise KeyError("sample 5 is broken")
            return super().__getitem__(index)

    with pytest.raises(KeyError, match="sample 5 is broken"):
        list(DataLoader(Failing(10), batch_size=2, num_workers=2))


def test_a_worker_that_dies_is_reported():
    class Dying(Numbers):
        def __getitem__(self, index):
            if index == 3:
                os._exit(3)
            return super().__getitem__(index)

    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(DataLoader(Dying(6), batch_size=1, num_workers=1))


def test_timeout_raises_when_a_worker_is_too_slow():
    class Slow(Numbers):
        def __getitem__(self, index):
            time.sleep(1.5)
            return super().__getitem__(index)

    with pytest.raises(RuntimeError, match="timed out"):
        list(DataLoader(Slow(2), batch_size=1, num_workers=1, timeout=0.5))


def test_persistent_workers_live_across_epochs_and_early_break_ends_other_workers():
    class Pids(Numbers):
        def __getitem__(self, index):
            return np.float32(index), os.getpid()

    loader = DataLoader(Pids(6), batch_size=2, num_workers=2, persistent_workers=True)
    first, second = (set(sum(labels_of(loader), [])) for _ in range(2))
    assert first == second and os.getpid() not in first
    processes = loader._pool.processes
    loader.__del__()
    assert all(not p.is_alive() for p in processes)
    transient = DataLoader(Pids(100), batch_size=2, num_workers=2)
    iterator = iter(transient)
    next(iterator)
    iterator.close()  # what a `break` does
    import multiprocessing
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("minicnn-data-worker")]


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="needs /dev/shm to list shared memory blocks")
def test_workers_pass_large_batches_through_shared_memory_and_free_every_block():
    def blocks():
        return {name for name in os.listdir("/dev/shm") if name.startswith("psm_")}

    before = blocks()
    ds = TensorDataset(np.random.default_rng(0).random((96, 3, 32, 32)).astype(np.float32), np.arange(96))
    for workers in (0, 2):
        batches = [host(x) for x, _ in DataLoader(ds, batch_size=16, num_workers=workers)]
        assert np.array_equal(np.concatenate(batches), ds.tensors[0])
    iterator = iter(DataLoader(ds, batch_size=16, num_workers=2))
    next(iterator)
    iterator.close()
    assert not blocks() - before  # every block the workers made is gone (others may come and go meanwhile)
