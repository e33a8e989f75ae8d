"""Elementwise passes split across threads (ReLU, residual additions, batch norm, max pooling).

They split only above ``parallel.MINIMUM_SPLIT_ELEMENTS`` (relu's kernels: ``RELU_SPLIT_ELEMENTS``); the
fixture lowers both to 0 and asks for 2 threads, so small inputs (fast to check) run in two shares.
Each result is compared with the same computation done in one piece on one thread, and with torch
where it has the op.
"""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from helpers import import_torch, parity_tolerance, rel_error, torch_parity_errors
from minicnn.cpu import parallel
from minicnn.cpu.kernels import pool_kernels
from minicnn.functional import activation_engines


@pytest.fixture(params=["split", "one_piece"])
def chunks(device, monkeypatch, request):
    """Records the passes split across the threads; 'one_piece' keeps the threshold out of reach."""
    if device != "cpu":
        pytest.skip("the split passes serve numpy arrays only")
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    threshold = 0 if request.param == "split" else 10**12
    monkeypatch.setattr(parallel, "MINIMUM_SPLIT_ELEMENTS", threshold)
    monkeypatch.setattr(activation_engines, "RELU_SPLIT_ELEMENTS", threshold)  # relu's kernels have their own
    seen = []
    per_thread = parallel.per_thread

    def recording(task, count):
        seen.append(count)
        return per_thread(task, count)

    monkeypatch.setattr(parallel, "per_thread", recording)
    with minicnn.engines.engines_enabled(True):  # the split passes are engines: on under MINICNN_ENGINES=reference too
        yield request.param, seen


def _split_happened(chunks):
    mode, seen = chunks
    if mode == "split":
        assert any(count >= 2 for count in seen), "no pass was split"
    else:
        assert not seen


def _channels_last(array):
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_matches_torch(chunks, layout, dtype):
    torch = import_torch()
    x = np.random.default_rng(0).standard_normal((5, 3, 4, 6))
    x[0, 0, 0, :2] = 0.0  # relu'(0) = 0
    if layout == "channels_last":
        x = _channels_last(x)
    forward_error, (grad_error,) = torch_parity_errors(F.relu, torch.relu, [x], "cpu", dtype)
    assert forward_error == 0.0 and grad_error == 0.0
    _split_happened(chunks)


def test_relu_keeps_the_memory_layout(chunks):
    x = minicnn.tensor(_channels_last(np.random.default_rng(1).standard_normal((4, 3, 2, 5))))
    y = F.relu(x)
    assert y.array.transpose(0, 2, 3, 1).flags["C_CONTIGUOUS"]  # channels-last in, channels-last out
    _split_happened(chunks)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_residual_add_matches_numpy_and_gradcheck(chunks, dtype):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((6, 4, 3, 3)).astype(dtype), _channels_last(rng.standard_normal((6, 4, 3, 3)))
    b = b.astype(dtype)
    out = (minicnn.tensor(a) + minicnn.tensor(b)).numpy()
    assert out.dtype == dtype and np.array_equal(out, a + b)
    if dtype == np.float64:
        tensors = [minicnn.tensor(v, requires_grad=True) for v in (a, b)]
        assert minicnn.gradcheck(lambda p, q: p + q, tensors)
    _split_happened(chunks)


@pytest.mark.parametrize("layout", ["nchw", "channels_last", "rows"])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_matches_torch(chunks, layout, training, dtype):
    torch = import_torch()
    rng = np.random.default_rng(3)
    shape = (6, 3) if layout == "rows" else (6, 3, 4, 5)
    x = rng.standard_normal(shape) * 3 + 1
    if layout == "channels_last":
        x = _channels_last(x)
    weight, bias = rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)

    def ours(x, w, b):
        return F.batch_norm(x, minicnn.tensor(mean.astype(dtype)), minicnn.tensor(var.astype(dtype)), w, b,
                            training=training)

    def theirs(x, w, b):
        return torch.nn.functional.batch_norm(x, torch.tensor(mean.astype(dtype)), torch.tensor(var.astype(dtype)),
                                              w, b, training=training)

    forward_error, grad_errors = torch_parity_errors(ours, theirs, [x, weight, bias], "cpu", dtype)
    assert max([forward_error] + grad_errors) < parity_tolerance(dtype)
    _split_happened(chunks)


def test_max_pool_matches_torch(chunks, monkeypatch):
    torch = import_torch()
    monkeypatch.setattr(pool_kernels, "MIN_ELEMENTS", 0)  # the numba kernels, not the array code
    if pool_kernels.numba is None:
        pytest.skip("the pooling kernels need numba")
    x = _channels_last(np.random.default_rng(4).standard_normal((5, 4, 9, 8)))

    def pool(module):
        return lambda t: module.max_pool2d(t, 3, stride=2, padding=1)

    forward_error, (grad_error,) = torch_parity_errors(pool(F), pool(torch.nn.functional), [x], "cpu")
    assert forward_error == 0.0 and grad_error < 1e-12
    _split_happened(chunks)


@pytest.mark.parametrize("workers, count", [(1, 5), (2, 5), (2, 1), (3, 7), (2, 0)])
def test_per_thread_gives_each_thread_one_contiguous_share(monkeypatch, workers, count):
    import threading

    monkeypatch.setattr(parallel, "workers", lambda: workers)
    caller = threading.get_ident()
    seen = []

    def task(start, stop):
        seen.append((start, stop, threading.get_ident()))
        return np.arange(start, stop)

    results = parallel.per_thread(task, count)
    covered = sorted(i for start, stop, _ in seen for i in range(start, stop))
    assert covered == list(range(count))
    assert len(seen) == max(1, min(workers, count))
    assert np.concatenate(results).tolist() == list(range(count))  # in share order
    first = min(seen)
    assert first[0] == 0 and first[2] == caller  # the calling thread works the first share


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_splits_work_on_threads_of_its_own(monkeypatch):
    """The parent's pool has worker threads; a forked child has none of them, and work handed to the
    inherited pool would wait forever. The child must get a pool of its own."""
    import os
    import signal

    monkeypatch.setattr(parallel, "workers", lambda: 2)
    assert parallel.per_thread(lambda start, stop: (start, stop), 4) == [(0, 2), (2, 4)]  # the parent's pool exists
    pid = os.fork()
    if pid == 0:  # the child: exit 0 when the split work came back, 1 when it failed; killed when it hangs
        ok = False
        try:
            signal.alarm(20)
            ok = parallel.per_thread(lambda start, stop: (start, stop), 4) == [(0, 2), (2, 4)]
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"the forked child ended with status {status}"
