"""relu's CPU engines (``functional/activation_engines.py``): the array code's bits in every memory layout,
with and without a mask, NaN and infinities as the array code (and torch) give them."""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from minicnn.cpu.kernels import activation_kernels
from minicnn.functional.activation_engines import RELU_ENGINES
from helpers import forward_and_input_grad, import_torch, memory_layouts

DTYPES = [np.float64, np.float32]


def forward_and_grad(array, grad_array, engines_on: bool):
    return forward_and_input_grad(F.relu, array, grad_array, engines_on)


@pytest.fixture
def host(device):
    if device != "cpu":
        pytest.skip("the relu engines serve host arrays")


# (2, 5, 6, 7) runs on the calling thread; (64, 8, 24, 24) is large enough to be split across the cores
@pytest.mark.parametrize("shape", [(2, 5, 6, 7), (64, 8, 24, 24)], ids=["small", "split"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", ["nchw", "channels_last", "strided"])
def test_engines_give_the_array_codes_bits_and_layout(host, layout, dtype, shape):
    values = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    values[0, 0, 0, :6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30]
    array = memory_layouts(values)[layout]
    grad = np.empty_like(array)  # laid out like the input, as the gradient of the next layer is
    grad[...] = np.random.default_rng(2).standard_normal(array.shape)
    grad[0, 0, 0, :3] = [np.inf, np.nan, -1.0]  # at x = 0, -0.0, inf
    engine_out, engine_grad = forward_and_grad(array, grad, True)
    reference_out, reference_grad = forward_and_grad(array, grad, False)
    assert engine_out.dtype == dtype and engine_grad.dtype == dtype
    assert np.array_equal(engine_out, reference_out, equal_nan=True)
    assert np.array_equal(engine_grad, reference_grad, equal_nan=True)
    assert engine_out.strides == reference_out.strides  # the result keeps the input's memory order


@pytest.mark.parametrize("layout, engine", [("nchw", "numba-relu"), ("channels_last", "numba-relu"),
                                            ("strided", "relu-shares-on-every-core")])
def test_kernels_take_arrays_that_fill_one_block_of_memory(host, layout, engine):
    if activation_kernels.numba is None:
        pytest.skip("needs numba")
    array = memory_layouts(np.zeros((2, 3, 4, 6)))[layout]
    with minicnn.engines.engines_enabled(True):  # also under MINICNN_ENGINES=reference
        assert RELU_ENGINES.choose(None, array).name == engine


def test_gradient_in_another_layout_than_the_mask_takes_the_array_code(host):
    values = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    x = minicnn.tensor(memory_layouts(values)["channels_last"], requires_grad=True)
    grad = np.random.default_rng(4).standard_normal((2, 3, 4, 5))  # plain NCHW
    F.relu(x).backward(minicnn.tensor(grad))
    assert np.array_equal(x.grad.array, np.where(values > 0, grad, 0))


def test_inference_keeps_no_mask(host):
    x = minicnn.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    with minicnn.no_grad():
        out = F.relu(x)
    assert out.grad_fn is None and np.array_equal(out.array, [0.0, 0.0, 2.0])


def test_engine_matches_torch_off_the_finite_line(host):
    torch = import_torch()
    values = np.array([-np.inf, -1.0, -0.0, 0.0, 2.0, np.inf, np.nan])
    grad = np.array([np.inf, np.nan, 1.0, -np.inf, 3.0, 1.0, 1.0])
    out, x_grad = forward_and_grad(values, grad, True)
    t = torch.tensor(values, requires_grad=True)
    torch.relu(t).backward(torch.tensor(grad))
    assert np.array_equal(out, torch.relu(torch.tensor(values)).numpy(), equal_nan=True)
    assert np.array_equal(x_grad, t.grad.numpy(), equal_nan=True)
