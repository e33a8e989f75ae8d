"""The CPU's split convolution paths: chunks of images on several threads (im2col), and Winograd.

Both normally start only above a size threshold and with more than one BLAS thread; the fixture
below lowers the threshold and asks for 2 threads, so small shapes (fast to check) take them.
"""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from helpers import import_torch, parity_tolerance, rel_error, torch_parity_errors
from minicnn.cpu import parallel
from minicnn.functional.conv.engines import direct as conv_direct, split as conv_split, winograd
from minicnn.cpu.kernels import winograd_kernels

# (N, C_in, H, W, C_out, kernel, stride, padding, dilation, groups, bias)
WINOGRAD_CONFIGS = {
    "even": (3, 16, 8, 6, 5, 3, 1, 1, 1, 1, True),
    "odd_sides": (2, 16, 7, 5, 4, 3, 1, 1, 1, 1, False),
    "one_pixel_wide": (2, 17, 4, 1, 3, 3, 1, 1, 1, 1, True),
}
IM2COL_CONFIGS = {
    "stride2": (3, 4, 9, 8, 5, 3, 2, 1, 1, 1, True),
    "5x5_valid": (5, 2, 9, 9, 3, 5, 1, 0, 1, 1, True),
    "groups2": (3, 4, 6, 7, 6, 3, 1, 1, 1, 2, True),
    "dilation2": (2, 3, 8, 8, 4, 3, 1, 2, 2, 1, False),
    "1x1_stride2": (3, 5, 6, 6, 4, 1, 2, 0, 1, 1, True),
    "3x3_few_channels": (3, 3, 6, 6, 4, 3, 1, 1, 1, 1, True),  # below Winograd's minimum channels
}
ALL_CONFIGS = {**WINOGRAD_CONFIGS, **IM2COL_CONFIGS}


@pytest.fixture(params=["chunks_of_images", "whole_batch"])
def split(device, monkeypatch, request):
    """Every conv of the test takes the split path on 2 threads (CPU only), in either of its modes:
    chunks of one image each (several per thread), or the whole batch with its products split."""
    if device != "cpu":
        pytest.skip("the split paths serve numpy arrays only")
    monkeypatch.setattr(conv_split, "MINIMUM_FLOPS", 0)
    monkeypatch.setattr(conv_direct, "MAXIMUM_TAPS", 0)  # small stride-1 shapes would go direct
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    chunks = request.param == "chunks_of_images"
    monkeypatch.setattr(conv_split, "CHUNK_BYTES", 1)
    monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
    monkeypatch.setattr(conv_split, "MINIMUM_CHUNK_ROWS", 0 if chunks else 10**9)
    monkeypatch.setattr(winograd, "MINIMUM_CHUNK_TILES", 0 if chunks else 10**9)
    with minicnn.engines.engines_enabled(True):  # even under MINICNN_ENGINES=reference
        yield device


def conv_call(config):
    n, c, h, w, o, k, stride, padding, dilation, groups, bias = config

    def call(module, x, weight, b=None):
        return module.conv2d(x, weight, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c // groups, k, k))]
    if bias:
        arrays.append(rng.standard_normal(o))
    return arrays, call


def expected_path(config):
    n, c, _, _, _, k, stride, padding, dilation, groups, _ = config
    return "winograd" if (k, stride, padding, dilation, groups) == (3, 1, 1, 1, 1) and c >= 16 else "im2col"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", ALL_CONFIGS.values(), ids=ALL_CONFIGS.keys())
def test_split_conv_matches_torch(split, monkeypatch, config, dtype):
    import_torch()
    calls = []
    monkeypatch.setattr(parallel, "run_chunks", _recording(parallel.run_chunks, calls))
    winograd_calls = []
    monkeypatch.setattr(winograd, "forward", _recording(winograd.forward, winograd_calls))
    arrays, call = conv_call(config)
    forward_error, grad_errors = torch_parity_errors(
        lambda *t: call(F, *t), lambda *t: call(__import__("torch").nn.functional, *t), arrays, split, dtype)
    assert max([forward_error] + grad_errors) < parity_tolerance(dtype)
    assert calls, "the split path did not run"
    assert bool(winograd_calls) == (expected_path(config) == "winograd")


@pytest.mark.parametrize("config", [WINOGRAD_CONFIGS["odd_sides"], IM2COL_CONFIGS["groups2"]],
                         ids=["winograd", "im2col"])
def test_split_conv_gradcheck(split, config):
    n, c, h, w, o, *rest = config
    small = (2, c, min(h, 5), min(w, 5), 2, *rest)
    arrays, call = conv_call(small)
    tensors = [minicnn.tensor(a, requires_grad=True, device=split) for a in arrays]
    assert minicnn.gradcheck(lambda *t: call(F, *t), tensors)


@pytest.mark.parametrize("config", [WINOGRAD_CONFIGS["even"], IM2COL_CONFIGS["stride2"]], ids=["winograd", "im2col"])
@pytest.mark.parametrize("wanted", ["input", "weight"])
def test_split_conv_computes_only_the_wanted_gradient(split, config, wanted):
    arrays, call = conv_call(config)
    x = minicnn.tensor(arrays[0], requires_grad=wanted == "input")
    weight = minicnn.tensor(arrays[1], requires_grad=wanted == "weight")
    call(F, x, weight).sum().backward()
    reference_x = minicnn.tensor(arrays[0], requires_grad=True)
    reference_w = minicnn.tensor(arrays[1], requires_grad=True)
    conv_split.MINIMUM_FLOPS = float("inf")  # restored by monkeypatch
    call(F, reference_x, reference_w).sum().backward()
    got, other = (x, weight) if wanted == "input" else (weight, x)
    reference = reference_x if wanted == "input" else reference_w
    assert other.grad is None
    assert rel_error(got.grad.numpy(), reference.grad.numpy()) < 1e-12


def test_split_matches_whole_batch_on_a_resnet_block(split):
    """Split and whole-batch paths agree through a conv-BN-ReLU-conv block in float32 training."""
    rng = np.random.default_rng(3)
    x_host = rng.standard_normal((4, 16, 8, 8)).astype(np.float32)
    results = []
    for use_split in (True, False):
        conv_split.MINIMUM_FLOPS = 0 if use_split else float("inf")
        minicnn.manual_seed(0)
        block = minicnn.nn.Sequential(
            # no bias before the BatchNorm: its gradient would be rounding noise around zero
            minicnn.nn.Conv2d(16, 32, 3, padding=1, bias=False), minicnn.nn.BatchNorm2d(32), minicnn.nn.ReLU(),
            minicnn.nn.Conv2d(32, 16, 3, stride=2, padding=1))
        x = minicnn.tensor(x_host, requires_grad=True)
        out = block(x)
        (out * out).sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in block.parameters()])
    for split_value, whole_value in zip(*results):
        assert rel_error(split_value, whole_value) < 1e-5


def _recording(function, calls):
    def wrapper(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)
    return wrapper


# ----------------------------------------------------------------------------------------------
# The transforms themselves
# ----------------------------------------------------------------------------------------------

needs_numba = pytest.mark.skipif(winograd_kernels.numba is None, reason="the Winograd kernels need numba")


@needs_numba
def test_transform_kernels_are_adjoint_pairs():
    """<T x, y> == <x, T* y> for each kernel and its adjoint: the backward uses exactly the
    transposes of the forward's linear maps."""
    rng = np.random.default_rng(0)
    n, tiles_h, tiles_w, channels = 2, 3, 2, 5
    count = n * tiles_h * tiles_w
    padded = rng.standard_normal((n, 2 * tiles_h + 2, 2 * tiles_w + 2, channels))
    tile_values = rng.standard_normal((16, count, channels))
    v = np.empty_like(tile_values)
    winograd_kernels.input_transform(padded, v, 0)
    back = np.empty_like(padded)
    winograd_kernels.input_transform_adjoint(tile_values, back, 0)
    assert np.isclose(np.vdot(v, tile_values), np.vdot(padded, back), rtol=1e-12)

    image = rng.standard_normal((n, 2 * tiles_h, 2 * tiles_w, channels))
    out = np.empty_like(image)
    winograd_kernels.output_transform(tile_values, out, 0)
    m = np.empty_like(tile_values)
    winograd_kernels.output_transform_adjoint(image, m, 0)
    assert np.isclose(np.vdot(out, image), np.vdot(tile_values, m), rtol=1e-12)


@needs_numba
def test_a_chunk_of_images_reads_and_writes_its_own_tiles_of_the_batch_array():
    rng = np.random.default_rng(2)
    n, tiles_h, tiles_w, channels = 3, 2, 2, 4
    per_image = tiles_h * tiles_w
    padded = rng.standard_normal((n, 2 * tiles_h + 2, 2 * tiles_w + 2, channels))
    whole = np.empty((16, n * per_image, channels))
    winograd_kernels.input_transform(padded, whole, 0)
    chunked = np.full_like(whole, np.nan)
    winograd_kernels.input_transform(padded[:1], chunked, 0)
    winograd_kernels.input_transform(padded[1:], chunked, per_image)  # images 1-2: tiles from 4 on
    assert np.array_equal(chunked, whole)
    out_whole = np.empty((n, 2 * tiles_h, 2 * tiles_w, channels))
    winograd_kernels.output_transform(whole, out_whole, 0)
    out_chunk = np.empty((n - 1,) + out_whole.shape[1:])
    winograd_kernels.output_transform(whole, out_chunk, per_image)
    assert np.array_equal(out_chunk, out_whole[1:])
    m_whole = np.empty_like(whole)
    winograd_kernels.output_transform_adjoint(out_whole, m_whole, 0)
    m_chunked = np.full_like(whole, np.nan)
    winograd_kernels.output_transform_adjoint(out_whole[:2], m_chunked, 0)
    winograd_kernels.output_transform_adjoint(out_whole[2:], m_chunked, 2 * per_image)
    assert np.array_equal(m_chunked, m_whole)
    back_whole = np.empty_like(padded)
    winograd_kernels.input_transform_adjoint(whole, back_whole, 0)
    back_chunk = np.empty_like(padded[1:])
    winograd_kernels.input_transform_adjoint(whole, back_chunk, per_image)
    assert np.array_equal(back_chunk, back_whole[1:])


def test_weight_transform_and_its_adjoint():
    """U = G w G^T against the 4x4 matrices written out, and <U(w), d> == <w, U*(d)>."""
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((3, 2, 3, 3))
    g = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    ut = winograd.weight_transform(weight)
    assert ut.shape == (16, 3, 2)
    for k in range(3):
        for c in range(2):
            assert np.allclose(ut[:, k, c].reshape(4, 4), g @ weight[k, c] @ g.T, rtol=0, atol=1e-14)
    direction = rng.standard_normal(ut.shape)
    adjoint = winograd.weight_transform_adjoint(direction)
    assert np.isclose(np.vdot(ut, direction), np.vdot(weight, adjoint), rtol=1e-12)


@pytest.mark.parametrize("workers", [1, 3])
def test_chunks_cover_every_item_once_and_add_up(monkeypatch, workers):
    monkeypatch.setattr(parallel, "workers", lambda: workers)
    seen = []

    def task(start, stop):
        seen.extend(range(start, stop))
        return np.array([stop - start, 1])

    assert parallel.run_chunks(task, 10, 3) is None
    assert sorted(seen) == list(range(10))
    assert parallel.sum_of_chunks(task, 10, 3).tolist() == [10, 4]  # 4 chunks


def test_run_chunks_leaves_what_tasks_return_alone(monkeypatch):
    """A task may return a view of its output (as the tile transforms do): nothing adds into it."""
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    out = np.arange(6.0)
    parallel.run_chunks(lambda start, stop: out[start:stop], 6, 2)
    assert out.tolist() == [0, 1, 2, 3, 4, 5]
