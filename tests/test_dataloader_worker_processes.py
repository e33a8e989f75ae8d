"""Worker processes of a DataLoader: one compute thread each, and gone as soon as their work is done."""
import multiprocessing

import numpy as np

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
