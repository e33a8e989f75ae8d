"""hardswish's CPU engine (``functional/activation_engines.py``): the same bits as the array code in every
memory layout it takes, the array code for the layouts it does not, and torch's values off the finite line."""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from minicnn.cpu.kernels import activation_kernels
from minicnn.functional.activation_engines import HARDSWISH_ENGINES, flat_memory
from helpers import forward_and_input_grad, import_torch, memory_layouts

DTYPES = [np.float64, np.float32]


def forward_and_grad(array, grad_array, engines_on: bool):
    return forward_and_input_grad(F.hardswish, array, grad_array, engines_on)


@pytest.fixture
def numba_engine(device):
    if device != "cpu" or activation_kernels.numba is None:
        pytest.skip("the hardswish engine serves host arrays with numba")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", ["nchw", "channels_last", "strided"])
def test_engine_gives_the_array_codes_bits_and_layout(numba_engine, layout, dtype):
    values = np.random.default_rng(1).uniform(-5, 5, size=(2, 5, 6, 7)).astype(dtype)
    values[0, 0, 0, :4] = [-3.0, 3.0, 0.0, -0.0]
    array = memory_layouts(values)[layout]
    grad = np.empty_like(array)  # laid out like the input, as the gradient of the next layer is
    grad[...] = np.random.default_rng(2).standard_normal(array.shape)
    engine_out, engine_grad = forward_and_grad(array, grad, True)
    reference_out, reference_grad = forward_and_grad(array, grad, False)
    assert engine_out.dtype == dtype and engine_grad.dtype == dtype
    assert np.array_equal(engine_out, reference_out) and np.array_equal(engine_grad, reference_grad)
    assert engine_out.strides == reference_out.strides  # the result keeps the input's memory order


@pytest.mark.parametrize("layout, engine_runs", [("nchw", True), ("channels_last", True), ("strided", False)])
def test_engine_takes_arrays_that_fill_one_block_of_memory(numba_engine, layout, engine_runs):
    array = memory_layouts(np.zeros((2, 3, 4, 6)))[layout]
    assert (flat_memory(array) is not None) is engine_runs
    with minicnn.engines.engines_enabled(True):  # also under MINICNN_ENGINES=reference
        assert (HARDSWISH_ENGINES.choose(None, array) is not None) is engine_runs


def test_engine_matches_torch_on_infinities_and_nan(numba_engine):
    torch = import_torch()
    values = np.array([-np.inf, -3.0, 3.0, np.inf, np.nan, 1.0])
    out, grad = forward_and_grad(values, np.full(values.shape, 2.0), True)
    t = torch.tensor(values, requires_grad=True)
    torch.nn.functional.hardswish(t).backward(torch.full(values.shape, 2.0, dtype=torch.float64))
    expected = torch.nn.functional.hardswish(torch.tensor(values)).numpy()
    assert np.array_equal(out, expected, equal_nan=True)
    assert np.array_equal(grad, t.grad.numpy(), equal_nan=True)
