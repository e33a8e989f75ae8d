"""Worker processes of a DataLoader: one compute thread each, and gone as soon as their work is done."""
import multiprocessing
import os
import sys

import numpy as np
import pytest

from minicnn.utils.data import DataLoader, Dataset


class ThreadCounts(Dataset):
    """Each sample reports the thread counts the process computing it would use."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        from minicnn.cpu import blas_threads, parallel

        controller = blas_threads._controller()
        blas = 1 if controller is None else controller.get_num_threads()
        import numba

        return np.float32(index), np.array([parallel.workers(), blas, numba.get_num_threads()])


def test_each_worker_computes_on_one_thread_for_blas_numba_and_minicnns_pool():
    counts = np.concatenate([counts.numpy() for _, counts in DataLoader(ThreadCounts(), batch_size=2,
                                                                         num_workers=2)])
    assert counts.shape == (4, 3) and (counts == 1).all(), counts


class OsThreads(Dataset):
    """Each sample is the number of OS threads (BLAS's included) in the process computing it."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return np.float32(index), np.int64(len(os.listdir("/proc/self/task")))


def test_a_forked_worker_starts_no_blas_threads_and_the_main_process_gets_its_count_back():
    # Setting OpenBLAS's count in a freshly forked process starts its worker threads, which spin
    # for about 0.1 s before they sleep: the workers' first batches took twice as long.
    from minicnn.cpu import blas_threads

    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork and /proc")
    if blas_threads._controller() is None or blas_threads.maximum_threads() < 2:
        pytest.skip("threadpoolctl cannot control this BLAS, or it has a single thread")
    controller = blas_threads._state["controller"]
    before = controller.get_num_threads()
    counts = [int(n) for _, threads in DataLoader(OsThreads(), batch_size=1, num_workers=2) for n in threads.numpy()]
    # each worker's first sample runs before its answer queue's thread exists: the main thread alone
    assert counts[:2] == [1, 1], counts
    assert controller.get_num_threads() == before


def _worker_processes():
    return [p for p in multiprocessing.active_children() if p.name.startswith("minicnn-data-worker")]


def test_workers_that_do_not_persist_exit_once_their_last_batch_is_in(monkeypatch):
    import minicnn.data.dataloader as dataloader_module

    pools = []  # the pool the pass starts, so its processes are known even after they have exited

    class RecordedPool(dataloader_module.WorkerPool):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pools.append(self)

    monkeypatch.setattr(dataloader_module, "WorkerPool", RecordedPool)
    loader = DataLoader(ThreadCounts(), batch_size=1, num_workers=2)
    iterator = iter(loader)
    batches = [next(iterator) for _ in range(len(loader))]  # the last batch is out; the pass is not closed
    workers = list(pools[0].processes)
    assert len(batches) == 4 and len(workers) == 2
    for process in workers:
        process.join(timeout=10)
    assert not [p for p in workers if p.is_alive()]
    assert next(iterator, None) is None and not _worker_processes()


def test_persistent_workers_stay_for_the_next_epoch():
    loader = DataLoader(ThreadCounts(), batch_size=1, num_workers=2, persistent_workers=True)
    first = [labels.numpy().tolist() for labels, _ in loader]
    workers = loader._pool.processes
    assert [labels.numpy().tolist() for labels, _ in loader] == first
    assert all(p.is_alive() for p in workers) and loader._pool.processes == workers
    loader.__del__()
    assert not any(p.is_alive() for p in workers)
