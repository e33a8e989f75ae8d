"""The CPU's direct convolution engine for stride-1 layers with few channels (``functional/conv/engines/direct.py``).

The fixture makes sure the direct path is the one that runs (and, in the ``chunks`` mode, that the
images are split across 2 threads); every result is compared with torch, with finite differences,
or with the im2col path.
"""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from helpers import import_torch, parity_tolerance, rel_error, torch_parity_errors
from minicnn.cpu import parallel
from minicnn.functional.conv.engines import CONV_ENGINES, direct as conv_direct
from minicnn.functional.conv.geometry import ConvGeometry
from minicnn.cpu.kernels import direct_conv_kernels

# (N, C_in, H, W, C_out, kernel (KH, KW), padding, dilation, bias)
CONFIGS = {
    "lenet_first_layer": (3, 1, 12, 12, 6, (5, 5), 2, 1, True),
    "lenet_second_layer": (2, 6, 9, 9, 16, (5, 5), 0, 1, True),
    "cifar_stem": (2, 3, 8, 8, 8, (3, 3), 1, 1, False),
    "tails": (2, 3, 7, 6, 5, (3, 2), (1, 0), 1, True),  # 5 outputs, 18 windows: not multiples of 4
    "dilated": (2, 2, 9, 8, 3, (3, 3), 2, 2, True),
    "same_even_kernel": (1, 2, 6, 5, 3, (2, 4), "same", 1, True),
    "one_image_one_output": (1, 2, 5, 7, 1, (3, 3), 0, 1, False),
}


@pytest.fixture(params=["one_chunk", "chunks"])
def direct(device, monkeypatch, request):
    """Every conv of the test takes the direct path (CPU, numba only); returns the calls it made."""
    if device != "cpu":
        pytest.skip("the direct path serves numpy arrays only")
    if direct_conv_kernels.numba is None:
        pytest.skip("the direct path needs numba")
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    if request.param == "chunks":
        monkeypatch.setattr(conv_direct, "MINIMUM_SPLIT_MULTIPLY_ADDS", 0)
    else:
        monkeypatch.setattr(conv_direct, "MINIMUM_SPLIT_MULTIPLY_ADDS", float("inf"))
    calls = {"forward": [], "backward": []}
    for name in calls:
        monkeypatch.setattr(conv_direct, name, _recording(getattr(conv_direct, name), calls[name]))
    with minicnn.engines.engines_enabled(True):  # even under MINICNN_ENGINES=reference
        yield calls


def conv_call(config):
    n, c, h, w, o, kernel, padding, dilation, bias = config

    def call(module, x, weight, b=None):
        return module.conv2d(x, weight, b, padding=padding, dilation=dilation)

    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c) + kernel)]
    if bias:
        arrays.append(rng.standard_normal(o))
    return arrays, call


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_direct_conv_matches_torch(direct, config, dtype):
    torch = import_torch()
    arrays, call = conv_call(config)
    forward_error, grad_errors = torch_parity_errors(
        lambda *t: call(F, *t), lambda *t: call(torch.nn.functional, *t), arrays, "cpu", dtype)
    assert len(grad_errors) == len(arrays)
    assert max([forward_error] + grad_errors) < parity_tolerance(dtype)
    assert direct["forward"] and direct["backward"], "the direct path did not run"


@pytest.mark.parametrize("config", [CONFIGS["tails"], CONFIGS["dilated"]], ids=["tails", "dilated"])
def test_direct_conv_gradcheck(direct, config):
    arrays, call = conv_call(config)
    tensors = [minicnn.tensor(a, requires_grad=True) for a in arrays]
    assert minicnn.gradcheck(lambda *t: call(F, *t), tensors)
    assert direct["backward"]


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_direct_conv_matches_im2col(direct, monkeypatch, config):
    """Without torch too: the direct path against the im2col one, forward and every gradient."""
    arrays, call = conv_call(config)
    results = []
    for maximum in (conv_direct.MAXIMUM_TAPS, 0):  # direct, then im2col
        monkeypatch.setattr(conv_direct, "MAXIMUM_TAPS", maximum)
        tensors = [minicnn.tensor(a, requires_grad=True) for a in arrays]
        out = call(F, *tensors)
        out.backward(minicnn.tensor(np.cos(np.arange(out.numel())).reshape(out.shape)))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors])
    assert len(direct["forward"]) == 1
    for got, expected in zip(*results):
        assert rel_error(got, expected) < 1e-12


def _in_layout(array, channels_last):
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) if channels_last else array


@pytest.mark.parametrize("out_channels", [5, 8])
@pytest.mark.parametrize("grad_layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("x_layout", ["nchw", "channels_last"])
def test_direct_conv_reads_and_writes_either_layout(direct, x_layout, grad_layout, out_channels):
    """Inputs and upstream gradients come NCHW or channels-last; the output is channels-last (as
    every convolution path returns it), and dX comes back in the input's layout."""
    torch = import_torch()
    rng = np.random.default_rng(9)
    x = _in_layout(rng.standard_normal((3, 4, 7, 6)), x_layout == "channels_last")
    weight, bias = rng.standard_normal((out_channels, 4, 3, 3)), rng.standard_normal(out_channels)
    tensors = [minicnn.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    assert conv_direct.channels_last(tensors[0].array) == (x_layout == "channels_last")
    out = F.conv2d(*tensors, padding=1)
    assert conv_direct.channels_last(out.array)
    upstream = _in_layout(rng.standard_normal(out.shape), grad_layout == "channels_last")
    out.backward(minicnn.tensor(upstream))
    assert conv_direct.channels_last(tensors[0].grad.array) == (x_layout == "channels_last")

    theirs = [torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in (x, weight, bias)]
    expected = torch.nn.functional.conv2d(*theirs, padding=1)
    expected.backward(torch.tensor(np.ascontiguousarray(upstream)))
    assert rel_error(out.detach().numpy(), expected.detach().numpy()) < 1e-12
    for ours, reference in zip(tensors, theirs):
        assert rel_error(ours.grad.numpy(), reference.grad.numpy()) < 1e-12
    assert direct["forward"] and direct["backward"]


def test_first_layer_computes_no_input_gradient(direct, monkeypatch):
    wanted = []
    kernel = direct_conv_kernels.backward_into
    monkeypatch.setattr(direct_conv_kernels, "backward_into",
                        lambda *args: wanted.append(args[-3]) or kernel(*args))  # need_x
    arrays, call = conv_call(CONFIGS["lenet_first_layer"])
    x = minicnn.tensor(arrays[0])
    weight, bias = (minicnn.tensor(a, requires_grad=True) for a in arrays[1:])
    call(F, x, weight, bias).sum().backward()
    assert wanted and not any(wanted)  # need_x was False in every chunk
    assert x.grad is None and weight.grad is not None and bias.grad is not None


@pytest.mark.parametrize("shape, stride, groups, expected", [
    ((6, 1, 5, 5), (1, 1), 1, True),
    ((16, 6, 5, 5), (1, 1), 1, True),     # 2400 multiply-adds per output pixel: the limit
    ((32, 16, 5, 5), (1, 1), 1, False),   # 12800: im2col's product is faster
    ((6, 1, 5, 5), (2, 2), 1, False),     # strided
    ((6, 1, 3, 3), (1, 1), 2, False),     # grouped
    ((64, 16, 1, 1), (1, 1), 1, False),   # 1x1: one matrix product of the NHWC rows, no im2col to avoid
])
def test_direct_path_is_chosen_for_small_stride1_convolutions(shape, stride, groups, expected):
    if direct_conv_kernels.numba is None:
        pytest.skip("the direct path needs numba")
    x = np.zeros((2, shape[1] * groups, 8, 8), dtype=np.float32)
    geometry = ConvGeometry(x.shape, shape, stride, (0, 0, 0, 0), (1, 1), groups)
    engine = CONV_ENGINES["direct"]
    assert engine.applies(geometry, x) is expected
    assert engine.applies(geometry, x.astype(np.int32)) is False


def _recording(function, calls):
    def wrapper(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)
    return wrapper


@pytest.mark.parametrize("input_hw, kernel, dilation, padding", [
    ((28, 28), (5, 5), (1, 1), (2, 2, 2, 2)),  # LeNet-5's first layer
    ((14, 14), (5, 5), (1, 1), (0, 0, 0, 0)),  # its second: 140 grid entries, run as 144
    ((7, 6), (3, 2), (1, 1), (1, 1, 0, 0)),
    ((9, 8), (3, 3), (2, 2), (2, 2, 2, 2)),
    ((6, 5), (2, 4), (1, 1), (0, 1, 1, 2)),  # 'same' with an even kernel: uneven padding
    ((1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
])
def test_every_window_the_kernels_read_lies_inside_its_buffer(input_hw, kernel, dilation, padding):
    """The kernels slice windows of ``span`` entries without bounds checks: the input planes must hold
    every window (c, t) of the forward and of dW, the extended dY every window of the dX gather."""
    channels, out_channels = 3, 4
    grid = conv_direct._Grid((2, channels) + input_hw, (out_channels, channels) + kernel, dilation, padding)
    out_h = input_hw[0] + padding[0] + padding[1] - (kernel[0] - 1) * dilation[0]
    assert grid.span % 16 == 0 and grid.span >= out_h * grid.padded_w
    assert grid.plane_length % 16 == 0
    assert grid.starts.min() >= 0 and grid.starts.max() + grid.span <= channels * grid.plane_length
    extended_length = out_channels * (grid.front + grid.plane_length)
    assert grid.grad_starts.min() >= 0 and grid.grad_starts.max() + grid.plane_length <= extended_length
    assert grid.front + grid.span <= grid.plane_length  # dY copied in at `front` fits its row of extended
