"""Pooling: gradients, torch parity (values, gradients, indices), layouts, kernels vs array code, errors."""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from helpers import host, import_torch, parity_tolerance, rel_error
from minicnn.cpu.kernels import pool_kernels
from minicnn.functional.pool import PoolGeometry, pooled_size
from minicnn.functional.pool import windows as pool_windows
from minicnn.functional.pool.engines import MAX_POOL_ENGINES

# every test here runs with the engines and on the reference algorithms alone (conftest.engine_path)
pytestmark = pytest.mark.usefixtures("engine_path")

# (input shape, kwargs) for max_pool2d
MAX_CONFIGS = {
    "3x3_s2_p1": ((2, 3, 7, 7), dict(kernel_size=3, stride=2, padding=1)),
    "3x3_s2_p1_ceil": ((2, 3, 6, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    "2x2_default_stride": ((2, 2, 6, 7), dict(kernel_size=2)),
    "2x2_ceil_hangs_off": ((1, 2, 5, 5), dict(kernel_size=2, ceil_mode=True)),
    "stride_exceeds_kernel": ((1, 2, 7, 7), dict(kernel_size=2, stride=3)),
    "nonsquare_dilated_ceil": ((1, 2, 5, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1),
                                                  dilation=(2, 1), ceil_mode=True)),
    "nonsquare_pad_pair": ((2, 2, 7, 5), dict(kernel_size=(2, 3), stride=(3, 2), padding=(1, 1), dilation=(1, 2))),
    "dilation2_pad1": ((2, 1, 7, 7), dict(kernel_size=3, stride=1, padding=1, dilation=2)),
    "kernel_fills_input": ((1, 3, 4, 4), dict(kernel_size=4)),
    "batch1_stride1": ((1, 3, 5, 4), dict(kernel_size=2, stride=1)),
}

# (input shape, kwargs) for avg_pool2d
AVG_CONFIGS = {
    "3x3_s2_p1": ((2, 3, 7, 7), dict(kernel_size=3, stride=2, padding=1)),
    "3x3_s2_p1_exclude_pad": ((2, 3, 7, 7), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    "ceil_past_padding": ((1, 2, 6, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    "ceil_past_padding_exclude": ((1, 2, 6, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                                     count_include_pad=False)),
    "2x2_ceil_no_pad": ((2, 2, 5, 7), dict(kernel_size=2, ceil_mode=True)),
    "2x2_default_stride": ((2, 2, 6, 6), dict(kernel_size=2)),
    "divisor_override": ((1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, divisor_override=4)),
    "nonsquare": ((2, 1, 7, 5), dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0))),
    "nonsquare_ceil_exclude": ((1, 3, 5, 7), dict(kernel_size=(2, 4), stride=(3, 2), padding=(1, 2),
                                                  ceil_mode=True, count_include_pad=False)),
    "batch1_kernel_fills_input": ((1, 2, 3, 4), dict(kernel_size=(3, 4))),
}

# (input shape, output_size)
ADAPTIVE_CONFIGS = {
    "7_to_3": ((2, 3, 7, 7), 3),
    "5_to_2_overlapping_bins": ((1, 2, 5, 5), 2),
    "global": ((2, 3, 5, 6), 1),
    "keep_width": ((2, 2, 6, 5), (2, None)),
    "keep_height": ((1, 2, 6, 5), (None, 3)),
    "divisible": ((2, 2, 6, 4), (3, 2)),
    "identity": ((1, 2, 4, 3), (4, 3)),
    "upsampling": ((1, 2, 3, 2), (5, 3)),
    "nonsquare": ((1, 3, 7, 4), (3, 4)),
}


def channels_last_leaf(host_array, device):
    """A leaf tensor of shape (N, C, H, W) whose memory is (N, H, W, C), as conv2d returns them."""
    nhwc = minicnn.backend.to_device(np.ascontiguousarray(host_array.transpose(0, 2, 3, 1)), device)
    return minicnn.Tensor(nhwc.transpose(0, 3, 1, 2), requires_grad=True)


# memory layouts of (input, upstream gradient): conv2d hands out channels-last views, and the gradient
# coming back may or may not be channels-last
LAYOUTS = {"nchw": (False, False), "channels_last": (True, True), "channels_last_input": (True, False)}


def compare_with_torch(ours_fn, torch_fn, x_host, device, dtype, layout="nchw", seed=1):
    """Forward and input-gradient relative errors of our op against torch's on the same input."""
    torch = import_torch()
    x_host = x_host.astype(dtype)
    input_channels_last, grad_channels_last = LAYOUTS[layout]
    if input_channels_last:
        x = channels_last_leaf(x_host, device)
    else:
        x = minicnn.tensor(x_host, requires_grad=True, device=device)
    x_torch = torch.tensor(x_host, requires_grad=True)
    out, expected = ours_fn(x), torch_fn(x_torch)
    upstream = np.random.default_rng(seed).standard_normal(tuple(expected.shape)).astype(dtype)
    if grad_channels_last and upstream.ndim == 4:
        out.backward(channels_last_leaf(upstream, device).detach())
    else:
        out.backward(minicnn.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    assert out.shape == tuple(expected.shape)
    assert out.dtype == dtype and x.grad.dtype == dtype
    return rel_error(host(out), expected.detach().numpy()), rel_error(host(x.grad), x_torch.grad.numpy())


# ----------------------------------------------------------------------------------------------
# max_pool2d
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,kwargs", MAX_CONFIGS.values(), ids=MAX_CONFIGS.keys())
def test_max_pool2d_gradcheck(device, shape, kwargs):
    x = minicnn.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True, device=device)
    assert minicnn.gradcheck(lambda t: F.max_pool2d(t, **kwargs), [x])


@pytest.mark.parametrize("layout", LAYOUTS.keys())
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kwargs", MAX_CONFIGS.values(), ids=MAX_CONFIGS.keys())
def test_max_pool2d_matches_torch(device, shape, kwargs, dtype, layout):
    torch = import_torch()
    x_host = np.random.default_rng(0).standard_normal(shape)
    errors = compare_with_torch(lambda t: F.max_pool2d(t, **kwargs),
                                lambda t: torch.nn.functional.max_pool2d(t, **kwargs),
                                x_host, device, dtype, layout)
    assert max(errors) < parity_tolerance(dtype), errors


@pytest.mark.parametrize("layout", LAYOUTS.keys())
@pytest.mark.parametrize("kwargs", [dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, ceil_mode=True)],
                         ids=["3x3_s2_p1", "2x2_ceil"])
def test_max_pool2d_large_input_matches_torch(device, kwargs, layout):
    """Large enough for the numba kernels on the CPU (the small configs run the array code)."""
    torch = import_torch()
    x_host = np.random.default_rng(9).standard_normal((2, 16, 65, 64))
    assert x_host.size // 4 >= pool_kernels.MIN_ELEMENTS
    errors = compare_with_torch(lambda t: F.max_pool2d(t, **kwargs),
                                lambda t: torch.nn.functional.max_pool2d(t, **kwargs),
                                x_host, device, np.float32, layout)
    assert max(errors) < parity_tolerance(np.float32), errors


@pytest.mark.parametrize("shape,kwargs", MAX_CONFIGS.values(), ids=MAX_CONFIGS.keys())
def test_max_pool2d_indices_match_torch(device, shape, kwargs):
    torch = import_torch()
    x_host = np.random.default_rng(2).standard_normal(shape)
    out, indices = F.max_pool2d(minicnn.tensor(x_host, device=device), return_indices=True, **kwargs)
    expected, expected_indices = torch.nn.functional.max_pool2d(torch.tensor(x_host), return_indices=True, **kwargs)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(host(indices), expected_indices.numpy())
    np.testing.assert_array_equal(host(out), expected.numpy())


def test_max_pool2d_ties_and_nan_follow_torch(device):
    """Ties send the gradient to the first maximum in the window, a NaN wins its window (the last
    NaN, as torch's loop), and padding never wins, not even against -inf."""
    torch = import_torch()
    rng = np.random.default_rng(4)
    x_host = rng.integers(-1, 2, size=(2, 3, 7, 7)).astype(np.float64)  # many ties
    x_host[0, 0, 2, 3] = x_host[1, 2, 4, 4] = x_host[1, 2, 4, 5] = np.nan
    x_host[0, 1] = -5.0  # a constant plane: every window is one big tie
    x_host[1, 0] = -np.inf  # the padding (-inf too) must still lose to the input's first element
    for kwargs in (dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=1, padding=1),
                   dict(kernel_size=2)):
        x = minicnn.tensor(x_host, requires_grad=True, device=device)
        out, indices = F.max_pool2d(x, return_indices=True, **kwargs)
        out.sum().backward()
        x_torch = torch.tensor(x_host, requires_grad=True)
        expected, expected_indices = torch.nn.functional.max_pool2d(x_torch, return_indices=True, **kwargs)
        expected.sum().backward()
        np.testing.assert_array_equal(host(indices), expected_indices.numpy())
        np.testing.assert_array_equal(host(out), expected.detach().numpy())  # NaN == NaN here
        np.testing.assert_array_equal(host(x.grad), x_torch.grad.numpy())


def test_max_pool2d_unbatched_input(device):
    torch = import_torch()
    x_host = np.random.default_rng(5).standard_normal((3, 6, 5))
    x = minicnn.tensor(x_host, requires_grad=True, device=device)
    out, indices = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    out.sum().backward()
    x_torch = torch.tensor(x_host, requires_grad=True)
    expected, expected_indices = torch.nn.functional.max_pool2d(x_torch, 3, 2, 1, return_indices=True)
    expected.sum().backward()
    assert out.shape == (3, 3, 3)
    np.testing.assert_array_equal(host(indices), expected_indices.numpy())
    np.testing.assert_array_equal(host(x.grad), x_torch.grad.numpy())


@pytest.mark.parametrize("op", ["max", "avg"])
def test_pooling_keeps_channels_last_layout(device, op):
    """A channels-last input gives a channels-last output (the next conv reads it without a copy)."""
    x = channels_last_leaf(np.random.default_rng(6).standard_normal((2, 4, 7, 7)), device)
    pool = F.max_pool2d if op == "max" else F.avg_pool2d
    out = pool(x, 3, 2, 1)
    strides = out.array.strides
    assert strides[1] < strides[3] < strides[2] < strides[0]


# ----------------------------------------------------------------------------------------------
# The numba engine against the reference windows
# ----------------------------------------------------------------------------------------------

def geometry_for(shape, kernel, stride, padding, dilation, ceil_mode):
    output = tuple(pooled_size(shape[2 + a], kernel[a], stride[a], padding[a], dilation[a], ceil_mode) for a in (0, 1))
    return PoolGeometry(kernel, stride, padding, dilation, output)


@pytest.mark.skipif(not pool_kernels.usable(np.zeros(1)), reason="numba is not installed")
@pytest.mark.parametrize("channels_last,grad_channels_last", [(False, False), (True, True), (True, False)],
                         ids=["nchw", "channels_last", "channels_last_input"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("window", [
    ((3, 3), (2, 2), (1, 1), (1, 1), True),
    ((2, 3), (1, 2), (1, 1), (2, 1), False),
    ((3, 2), (3, 2), (1, 0), (3, 1), True),
    ((2, 2), (2, 2), (0, 0), (1, 1), False),  # with 3 channels-last channels: the 2x2 few-channel kernel
    ((2, 2), (2, 2), (0, 0), (1, 1), True),  # ceil_mode: the last column's window is cut short
    ((17, 16), (1, 1), (0, 0), (1, 1), False),
], ids=["overlapping_ceil", "dilated_nonsquare", "dilated_rows_skip_padding", "tiling", "tiling_ceil",
        "int32_winners"])
@pytest.mark.parametrize("channels", [3, 19], ids=["3ch", "19ch"])  # 19: the kernels' vector loops and their tails
def test_max_pool_engine_matches_reference(window, dtype, channels_last, grad_channels_last, channels):
    """Same maxima, same winners (ties, NaN, windows that start in the padding, a valid -inf that must
    beat the padding) and the same gradient from the numba engine and the reference windows."""
    rng = np.random.default_rng(7)
    size = (2, channels, 18, 17) if window[0][0] > 8 else (2, channels, 8, 7)  # a window of 272: int32 winners
    x = rng.integers(-3, 4, size=size).astype(dtype)  # integers: plenty of ties
    x[1, 2, 3, 3] = np.nan
    x[0, channels - 1, 1:3, 2] = np.nan  # in the vector loop's lanes too; a later NaN replaces the earlier one
    x[1, 0, 4:6, 4] = np.nan  # two NaN in one 2x2 window: the second wins
    x[0, 1] = -np.inf
    if channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    geometry = geometry_for(x.shape, *window)
    engine = MAX_POOL_ENGINES["numba-windows"]
    out, winner = engine.forward(x, geometry, channels_last)
    out_twin, winner_twin = pool_windows.max_over_windows(x, geometry)
    np.testing.assert_array_equal(out, out_twin)
    np.testing.assert_array_equal(winner, winner_twin)
    grad = rng.standard_normal(out.shape).astype(dtype)
    grad[0, 0, 0, 0] = np.inf  # reaches its winner only: no inf * 0 = NaN next to it
    if grad_channels_last:
        grad = np.ascontiguousarray(grad.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    grad_input = engine.backward(grad, winner, geometry, x.shape, channels_last)
    grad_twin = pool_windows.scatter_window_max(grad, winner, geometry, x.shape, channels_last)
    np.testing.assert_allclose(grad_input, grad_twin, rtol=1e-6, atol=1e-6)  # inf where it is, no NaN


@pytest.mark.skipif(not pool_kernels.usable(np.zeros(1)), reason="numba is not installed")
def test_channels_last_max_pool_backward_kernels_agree_bit_for_bit():
    """The vectorized backward (every window element, wide channels) and the jump-to-winner one (few
    channels) add the same numbers in the same order."""
    rng = np.random.default_rng(11)
    geometry = geometry_for((2, 19, 9, 8), (3, 3), (2, 2), (1, 1), (1, 1), True)  # overlapping windows
    out_h, out_w = geometry.output
    grad = rng.standard_normal((2, out_h, out_w, 19))
    winner = rng.integers(0, 9, size=grad.shape).astype(np.uint8)
    position = np.arange(9)
    gathered, scattered = np.zeros((2, 9, 8, 19)), np.zeros((2, 9, 8, 19))
    pool_kernels._gather_nhwc(grad, winner, gathered, *geometry.kernel, *geometry.stride, *geometry.padding,
                              *geometry.dilation)
    pool_kernels._scatter_nhwc(grad, winner, scattered, position // 3, position % 3, *geometry.stride,
                               *geometry.padding)
    np.testing.assert_array_equal(gathered, scattered)
    assert np.count_nonzero(gathered) > 0


# ----------------------------------------------------------------------------------------------
# avg_pool2d
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,kwargs", AVG_CONFIGS.values(), ids=AVG_CONFIGS.keys())
def test_avg_pool2d_gradcheck(device, shape, kwargs):
    x = minicnn.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True, device=device)
    assert minicnn.gradcheck(lambda t: F.avg_pool2d(t, **kwargs), [x])


@pytest.mark.parametrize("layout", LAYOUTS.keys())
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kwargs", AVG_CONFIGS.values(), ids=AVG_CONFIGS.keys())
def test_avg_pool2d_matches_torch(device, shape, kwargs, dtype, layout):
    torch = import_torch()
    x_host = np.random.default_rng(0).standard_normal(shape)
    errors = compare_with_torch(lambda t: F.avg_pool2d(t, **kwargs),
                                lambda t: torch.nn.functional.avg_pool2d(t, **kwargs),
                                x_host, device, dtype, layout)
    assert max(errors) < parity_tolerance(dtype), errors


def test_avg_pool2d_unbatched_input(device):
    torch = import_torch()
    x_host = np.random.default_rng(5).standard_normal((2, 5, 5))
    errors = compare_with_torch(lambda t: F.avg_pool2d(t, 2, ceil_mode=True),
                                lambda t: torch.nn.functional.avg_pool2d(t, 2, ceil_mode=True),
                                x_host, device, np.float64)
    assert max(errors) < 1e-10, errors


# ----------------------------------------------------------------------------------------------
# adaptive pooling
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["avg", "max"])
@pytest.mark.parametrize("shape,output_size", ADAPTIVE_CONFIGS.values(), ids=ADAPTIVE_CONFIGS.keys())
def test_adaptive_pool2d_gradcheck(device, shape, output_size, op):
    pool = F.adaptive_avg_pool2d if op == "avg" else F.adaptive_max_pool2d
    x = minicnn.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True, device=device)
    assert minicnn.gradcheck(lambda t: pool(t, output_size), [x])


@pytest.mark.parametrize("op", ["avg", "max"])
@pytest.mark.parametrize("layout", LAYOUTS.keys())
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,output_size", ADAPTIVE_CONFIGS.values(), ids=ADAPTIVE_CONFIGS.keys())
def test_adaptive_pool2d_matches_torch(device, shape, output_size, dtype, layout, op):
    torch = import_torch()
    ours = F.adaptive_avg_pool2d if op == "avg" else F.adaptive_max_pool2d
    theirs = getattr(torch.nn.functional, f"adaptive_{op}_pool2d")
    x_host = np.random.default_rng(0).standard_normal(shape)
    errors = compare_with_torch(lambda t: ours(t, output_size), lambda t: theirs(t, output_size),
                                x_host, device, dtype, layout)
    assert max(errors) < parity_tolerance(dtype), errors


@pytest.mark.parametrize("shape,output_size", ADAPTIVE_CONFIGS.values(), ids=ADAPTIVE_CONFIGS.keys())
def test_adaptive_max_pool2d_indices_match_torch(device, shape, output_size):
    torch = import_torch()
    x_host = np.random.default_rng(3).integers(-2, 3, size=shape).astype(np.float64)  # ties too
    out, indices = F.adaptive_max_pool2d(minicnn.tensor(x_host, device=device), output_size, return_indices=True)
    expected, expected_indices = torch.nn.functional.adaptive_max_pool2d(
        torch.tensor(x_host), output_size, return_indices=True)
    np.testing.assert_array_equal(host(out), expected.numpy())
    np.testing.assert_array_equal(host(indices), expected_indices.numpy())


@pytest.mark.parametrize("op", ["avg", "max"])
def test_adaptive_pool2d_unbatched_input(device, op):
    torch = import_torch()
    ours = F.adaptive_avg_pool2d if op == "avg" else F.adaptive_max_pool2d
    theirs = getattr(torch.nn.functional, f"adaptive_{op}_pool2d")
    x_host = np.random.default_rng(8).standard_normal((3, 7, 5))
    errors = compare_with_torch(lambda t: ours(t, (3, 2)), lambda t: theirs(t, (3, 2)), x_host, device, np.float64)
    assert max(errors) < 1e-10, errors


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,message", [
    (lambda x: F.max_pool2d(x.reshape(2, -1), 2), r"max_pool2d: expected a 3-D \(C, H, W\) or 4-D .* got shape \(2, 75\)"),
    (lambda x: F.avg_pool2d(x.reshape(1, 2, 3, 5, 5), 2), r"avg_pool2d: expected a 3-D .* got shape \(1, 2, 3, 5, 5\)"),
    (lambda x: F.max_pool2d(x, 2, padding=2), r"max_pool2d: padding must be at most half of kernel_size, got padding=\(2, 2\), kernel_size=\(2, 2\)"),
    (lambda x: F.avg_pool2d(x, (3, 2), padding=(1, 2)), r"avg_pool2d: padding must be at most half of kernel_size"),
    (lambda x: F.max_pool2d(x, 3, dilation=2, padding=2), r"max_pool2d: padding must be at most half"),
    (lambda x: F.max_pool2d(x, 7), r"max_pool2d: input of spatial size \(5, 5\) is too small for kernel_size=\(7, 7\).* output size would be \(0, 0\)"),
    (lambda x: F.avg_pool2d(x, (2, 8), padding=1), r"avg_pool2d: input of spatial size \(5, 5\) is too small .* output size would be \(3, 0\)"),
    (lambda x: F.max_pool2d(x, 2, stride=0), r"max_pool2d: stride must be positive, got \(0, 0\)"),
    (lambda x: F.max_pool2d(x, 2, dilation=0), r"max_pool2d: dilation must be positive"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), r"avg_pool2d: divisor_override must be non-zero"),
    (lambda x: F.adaptive_avg_pool2d(x, 0), r"adaptive_avg_pool2d: output_size must be positive, got 0"),
    (lambda x: F.adaptive_max_pool2d(x.reshape(-1), 2), r"adaptive_max_pool2d: expected a 3-D .* got shape \(150,\)"),
])
def test_pooling_rejects_bad_arguments(device, call, message):
    x = minicnn.tensor(np.zeros((2, 3, 5, 5), dtype=np.float32), device=device)
    with pytest.raises(ValueError, match=message):
        call(x)


@pytest.mark.parametrize("call,message", [
    (lambda x: F.max_pool2d(x, "2"), r"max_pool2d: kernel_size must be an int or a pair of ints, got '2'"),
    (lambda x: F.avg_pool2d(x, 2, stride=(1, 2, 3)), r"avg_pool2d: stride must be an int or a pair"),
    (lambda x: F.adaptive_avg_pool2d(x, (1, 2, 3)), r"adaptive_avg_pool2d: output_size must be an int, None or a pair"),
    (lambda x: F.max_pool2d(x.array, 2), r"max_pool2d: input must be a Tensor, got"),
])
def test_pooling_rejects_bad_argument_types(device, call, message):
    x = minicnn.tensor(np.zeros((2, 3, 5, 5), dtype=np.float32), device=device)
    with pytest.raises(TypeError, match=message):
        call(x)


def test_pooling_rejects_integer_input(device):
    x = minicnn.tensor(np.zeros((1, 1, 4, 4), dtype=np.int64), device=device)
    with pytest.raises(TypeError, match=r"max_pool2d: expected a floating point input, got dtype int64"):
        F.max_pool2d(x, 2)
