"""Helpers shared by the tests: making inputs, comparing with PyTorch, relative errors."""
import os

import numpy as np
import pytest

import minicnn


def import_torch():
    """torch, or skip the test cleanly when it is not installed."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    return torch


def rel_error(actual, expected, floor: float = 1e-30) -> float:
    """max |a - e| / max(|e|, floor): one number that is small only when every element agrees.

    ``floor`` is the smallest scale errors are measured against (for values that are zero in exact
    arithmetic, where both sides hold rounding noise)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(np.max(np.abs(expected)) if expected.size else 0.0, floor)
    return float(np.max(np.abs(actual - expected)) / scale) if expected.size else 0.0


def make_input(shape, device="cpu", dtype=np.float64, requires_grad=True, seed=0, low=None, high=None):
    """A random tensor on ``device`` plus the host array it was made from."""
    generator = np.random.default_rng(seed)
    if low is not None:
        host = generator.uniform(low, high, size=shape).astype(dtype)
    else:
        host = generator.standard_normal(shape).astype(dtype)
    return minicnn.tensor(host, requires_grad=requires_grad, device=device), host


def host(tensor) -> np.ndarray:
    """A tensor's values on the host, whatever its device."""
    return minicnn.backend.to_host(tensor.array if isinstance(tensor, minicnn.Tensor) else tensor)


def parity_tolerance(dtype) -> float:
    """The relative error a parity test against torch allows: 1e-10 in float64, 1e-4 in float32."""
    return 1e-10 if np.dtype(dtype) == np.float64 else 1e-4


def torch_parity_errors(minicnn_fn, torch_fn, arrays, device="cpu", dtype=np.float64, seed=0):
    """Run ``minicnn_fn`` and ``torch_fn`` on the same inputs and compare forward values and gradients.

    ``arrays`` are host numpy arrays: floating ones are cast to ``dtype`` and require grad, the others
    (integer targets, ...) are passed as they are. Both outputs are back-propagated with the same random
    upstream gradient. Returns (forward error, [gradient error per floating input]) as relative errors.
    """
    torch = import_torch()
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    ours = [minicnn.tensor(a, requires_grad=a.dtype.kind == "f", device=device) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = minicnn_fn(*ours)
    expected = torch_fn(*theirs)
    upstream = np.random.default_rng(seed).standard_normal(expected.shape).astype(dtype)
    out.backward(minicnn.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    forward_error = rel_error(host(out), expected.detach().numpy())
    grad_errors = [
        rel_error(host(o.grad), t.grad.numpy()) for o, t in zip(ours, theirs) if t.requires_grad
    ]
    return forward_error, grad_errors



def import_torchvision():
    """torchvision (for its models), or skip the test cleanly, saying why, when it cannot be imported."""
    import_torch()
    from minicnn.models.torchvision_import import import_torchvision as load

    try:
        return load()
    except ImportError as error:
        pytest.skip(str(error))


# Tests of full-size nets (torchvision parity of the big models, MACs at 224x224, training at the nets' own
# input sizes) take minutes together: they are marked slow and run only when MINICNN_BIG_MODEL_TESTS=1.
RUN_BIG_MODEL_TESTS = os.environ.get("MINICNN_BIG_MODEL_TESTS", "") not in ("", "0")
big_model = [pytest.mark.slow, pytest.mark.skipif(not RUN_BIG_MODEL_TESTS,
                                                  reason="a full-size net: set MINICNN_BIG_MODEL_TESTS=1 to run it")]


def big_model_test(test):
    """Decorator form of ``big_model`` for a whole test function."""
    for mark in big_model:
        test = mark(test)
    return test


def memory_layouts(values):
    """The same (N, C, H, W) values as plain NCHW, as a channels-last view, and as a strided (gapped) view:
    the memory orders an elementwise engine must handle, or hand back to the array code."""
    channels_last = np.ascontiguousarray(values.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return {"nchw": values, "channels_last": channels_last, "strided": values[:, :, ::2]}


def forward_and_input_grad(op, array, grad_array, engines_on: bool):
    """``op(x)`` and d(out . grad)/dx, as arrays, with the engines on or off."""
    with minicnn.engines.engines_enabled(engines_on):
        x = minicnn.tensor(array, requires_grad=True)
        out = op(x)
        out.backward(minicnn.tensor(grad_array))
    return out.array, x.grad.array


def assert_same_optimizer_trajectory(trajectory, shapes, dtype, options):
    """``trajectory(shapes, dtype, options, engines_on)`` -> (parameters, buffers) gives the same bits with
    the engines on and off: what an optimizer engine's tests check (buffers None on both sides or equal)."""
    import itertools

    from minicnn.cpu import parallel

    assert max(int(np.prod(shape)) for shape in shapes) >= parallel.MINIMUM_SPLIT_ELEMENTS  # one split update
    engine_params, engine_buffers = trajectory(shapes, dtype, options, True)
    reference_params, reference_buffers = trajectory(shapes, dtype, options, False)
    for got, expected in itertools.chain(zip(engine_params, reference_params), zip(engine_buffers, reference_buffers)):
        if expected is None:
            assert got is None
            continue
        assert got.dtype == dtype and got.shape == expected.shape
        assert np.array_equal(got, expected)
