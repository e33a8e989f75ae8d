"""conv2d: gradients, torch parity, numba kernels vs array code, channels-last views, bad input."""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from helpers import host, import_torch, make_input, parity_tolerance, rel_error, torch_parity_errors
from minicnn.functional import conv as conv_module

# every test here runs with the engines and on the reference algorithms alone (conftest.engine_path)
pytestmark = pytest.mark.usefixtures("engine_path")

# (N, C_in, H, W, C_out, KH, KW, stride, padding, dilation, groups, bias)
CONFIGS = {
    "3x3": (2, 3, 5, 6, 4, 3, 3, 1, 0, 1, 1, True),
    "odd_pad1": (2, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1, True),
    "stride2_pad_pair": (1, 2, 7, 6, 3, 3, 2, 2, (1, 0), 1, 1, True),
    "stride3_no_bias": (2, 2, 7, 7, 3, 2, 3, 3, 1, 1, 1, False),
    "stride_pair": (1, 3, 7, 6, 2, 3, 3, (2, 1), (0, 1), 1, 1, True),
    "dilation2": (2, 2, 7, 7, 3, 3, 3, 1, 2, 2, 1, True),
    "dilation_pair": (1, 2, 7, 6, 2, 2, 3, 1, 1, (2, 1), 1, True),
    "same": (2, 2, 6, 5, 3, 3, 3, 1, "same", 1, 1, True),
    "same_even_kernel": (1, 2, 5, 6, 3, 2, 4, 1, "same", 1, 1, True),
    "same_dilated": (1, 2, 6, 6, 2, 2, 3, 1, "same", 2, 1, False),
    "valid": (2, 2, 5, 5, 3, 3, 2, 1, "valid", 1, 1, True),
    "groups2": (2, 4, 6, 5, 4, 3, 3, 1, 1, 1, 2, True),
    "groups2_strided_dilated": (1, 4, 7, 7, 6, 3, 3, 2, 1, 2, 2, False),
    "depthwise": (2, 3, 6, 7, 3, 3, 3, 1, 1, 1, 3, True),
    "depthwise_multiplier2_stride2": (2, 3, 6, 5, 6, 3, 3, 2, 1, 1, 3, True),
    "depthwise_same_dilated": (1, 4, 7, 7, 4, 3, 3, 1, "same", 2, 4, False),
    "1x1": (2, 4, 5, 5, 3, 1, 1, 1, 0, 1, 1, True),
    "1x1_stride2": (2, 4, 5, 5, 3, 1, 1, 2, 0, 1, 1, True),
    "batch1_nonsquare": (1, 3, 6, 4, 2, 1, 3, 1, (0, 1), 1, 1, True),
    "kernel_fills_input": (2, 2, 3, 4, 2, 3, 4, 1, 0, 1, 1, True),
}


def conv_arrays(config, seed=0):
    """Host arrays x, w (and b) for a config, and the conv call on them."""
    n, c, h, w, o, kh, kw, stride, padding, dilation, groups, bias = config
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c // groups, kh, kw))]
    if bias:
        arrays.append(rng.standard_normal(o))

    def call(module, x, weight, b=None):
        return module.conv2d(x, weight, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    return arrays, call


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_conv2d_gradcheck(device, config):
    arrays, call = conv_arrays(config)
    tensors = [minicnn.tensor(a, requires_grad=True, device=device) for a in arrays]
    assert minicnn.gradcheck(lambda *t: call(F, *t), tensors)


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch notes its own extra copy
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_conv2d_matches_torch(device, config, dtype):
    torch = import_torch()
    arrays, call = conv_arrays(config, seed=1)
    forward_error, grad_errors = torch_parity_errors(
        lambda *t: call(F, *t), lambda *t: call(torch.nn.functional, *t), arrays, device, dtype
    )
    assert forward_error < parity_tolerance(dtype)
    assert len(grad_errors) == len(arrays)
    assert max(grad_errors) < parity_tolerance(dtype)


# Channels wide enough for the SIMD bodies of the kernels' inner loops (the configs above have C <= 6).
WIDE_CONFIGS = {
    "3x3": (4, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, True),
    "depthwise_multiplier2_stride2": (4, 16, 16, 16, 32, 3, 3, 2, 1, 1, 16, True),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", WIDE_CONFIGS.values(), ids=WIDE_CONFIGS.keys())
def test_conv2d_matches_torch_on_wide_inputs(device, config, dtype):
    torch = import_torch()
    arrays, call = conv_arrays(config, seed=6)
    forward_error, grad_errors = torch_parity_errors(
        lambda *t: call(F, *t), lambda *t: call(torch.nn.functional, *t), arrays, device, dtype
    )
    assert max([forward_error] + grad_errors) < parity_tolerance(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv2d_keeps_dtype(device, dtype):
    x, _ = make_input((2, 3, 6, 6), device, dtype)
    w, _ = make_input((4, 3, 3, 3), device, dtype, seed=1)
    b, _ = make_input((4,), device, dtype, seed=2)
    y = F.conv2d(x, w, b, padding=1)
    y.sum().backward()
    assert y.dtype == dtype
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == dtype


def test_only_needed_gradients_are_computed(device, monkeypatch):
    """The first layer of a net has an input without grad: dX is never computed, dW and db still are."""
    torch = import_torch()

    def col2im_must_not_run(*args, **kwargs):
        raise AssertionError("dX was computed for an input that does not require grad")

    monkeypatch.setattr(conv_module, "col2im", col2im_must_not_run)
    arrays, call = conv_arrays(CONFIGS["odd_pad1"], seed=2)
    x = minicnn.tensor(arrays[0], device=device)
    w, b = (minicnn.tensor(a, requires_grad=True, device=device) for a in arrays[1:])
    call(F, x, w, b).sum().backward()
    tw, tb = (torch.tensor(a, requires_grad=True) for a in arrays[1:])
    call(torch.nn.functional, torch.tensor(arrays[0]), tw, tb).sum().backward()
    assert x.grad is None
    assert rel_error(host(w.grad), tw.grad.numpy()) < 1e-10
    assert rel_error(host(b.grad), tb.grad.numpy()) < 1e-10


def test_channels_last_output_feeds_convs_and_elementwise_ops(device):
    """conv returns an NCHW view of NHWC memory; the next conv, elementwise ops, reshape and the
    backward pass through all of them must treat it as an ordinary NCHW tensor."""
    torch = import_torch()
    rng = np.random.default_rng(3)
    x_host = rng.standard_normal((2, 3, 7, 6))
    w_hosts = [rng.standard_normal(s) for s in ((4, 3, 3, 3), (5, 4, 3, 3), (5, 4, 1, 1), (4, 4, 1, 1))]

    def net(module, x, w1, w2, w3, w4):
        # The view straight into a 1x1 conv, whose dX (made without col2im) feeds the 3x3's backward.
        y = module.conv2d(module.conv2d(x, w1, padding=1), w4)
        z = module.conv2d(y * 0.5 + 1.0, w2, stride=2, padding=1)  # elementwise ops on the view
        shortcut = module.conv2d(y, w3, stride=2)
        return ((z - shortcut) * y[:, :1, ::2, ::2]).reshape(2, -1)

    ours = [minicnn.tensor(a, requires_grad=True, device=device) for a in (x_host, *w_hosts)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x_host, *w_hosts)]
    out, expected = net(F, *ours), net(torch.nn.functional, *theirs)
    upstream = rng.standard_normal(expected.shape)
    out.backward(minicnn.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    assert out.shape == tuple(expected.shape)
    assert rel_error(host(out), expected.detach().numpy()) < 1e-10
    for mine, reference in zip(ours, theirs):
        assert rel_error(host(mine.grad), reference.grad.numpy()) < 1e-10


def _conv_call(x_shape=(2, 4, 6, 6), w_shape=(6, 4, 3, 3), b_shape=(6,), x_dtype=np.float32,
               w_dtype=np.float32, b_dtype=np.float32, **kwargs):
    def run(device):
        x = minicnn.tensor(np.zeros(x_shape, dtype=x_dtype), device=device)
        w = minicnn.tensor(np.zeros(w_shape, dtype=w_dtype), device=device)
        b = None if b_shape is None else minicnn.tensor(np.zeros(b_shape, dtype=b_dtype), device=device)
        return F.conv2d(x, w, b, **kwargs)

    return run


BAD_INPUTS = {
    "input_3d": (_conv_call(x_shape=(4, 6, 6)), ValueError, r"4-D input .*\(4, 6, 6\)"),
    "weight_3d": (_conv_call(w_shape=(6, 4, 3)), ValueError, r"4-D weight .*\(6, 4, 3\)"),
    "channels_mismatch": (_conv_call(w_shape=(6, 3, 3, 3)), ValueError, r"expects 3 input channels.* 4"),
    "groups_channels_mismatch": (_conv_call(w_shape=(6, 4, 3, 3), groups=2), ValueError, r"expects 8 input.* 4"),
    "groups_not_dividing_in": (_conv_call(x_shape=(2, 3, 6, 6), w_shape=(6, 1, 3, 3), groups=2), ValueError,
                               r"groups=2 must divide .*\(3\)"),
    "groups_not_dividing_out": (_conv_call(w_shape=(5, 2, 3, 3), b_shape=(5,), groups=2), ValueError,
                                r"groups=2 must divide .*\(5\)"),
    "groups_zero": (_conv_call(groups=0), ValueError, "groups must be a positive"),
    "kernel_too_large": (_conv_call(w_shape=(6, 4, 7, 3)), ValueError, r"\(7, 3\) is larger .* \(6, 6\)"),
    "dilated_kernel_too_large": (_conv_call(dilation=3), ValueError, r"\(7, 7\) is larger .* \(6, 6\)"),
    "stride_zero": (_conv_call(stride=0), ValueError, "stride must be positive, got 0"),
    "stride_negative_pair": (_conv_call(stride=(1, -2)), ValueError, r"stride must be positive, got \(1, -2\)"),
    "stride_float": (_conv_call(stride=1.5), TypeError, "stride must be an int or a pair"),
    "dilation_zero": (_conv_call(dilation=0), ValueError, "dilation must be positive, got 0"),
    "padding_negative": (_conv_call(padding=-1), ValueError, "padding must be non-negative, got -1"),
    "padding_unknown_string": (_conv_call(padding="full"), ValueError, "'valid' or 'same', got 'full'"),
    "padding_same_strided": (_conv_call(padding="same", stride=2), ValueError,
                             r"'same' needs stride 1, got .*\(2, 2\)"),
    "bias_shape": (_conv_call(b_shape=(4,)), ValueError, r"bias must have shape \(6,\), got \(4,\)"),
    "bias_2d": (_conv_call(b_shape=(6, 1)), ValueError, r"bias must have shape \(6,\), got \(6, 1\)"),
    "weight_dtype": (_conv_call(w_dtype=np.float64), TypeError,
                     "weight dtype float64 does not match input dtype float32"),
    "bias_dtype": (_conv_call(b_dtype=np.float64), TypeError, "bias dtype float64 does not match input dtype float32"),
    "integer_input": (_conv_call(x_dtype=np.int64, w_dtype=np.int64, b_dtype=np.int64), TypeError,
                      "floating point input, got dtype int64"),
}


@pytest.mark.parametrize("call, error, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_rejected_with_a_clear_message(device, call, error, message):
    with pytest.raises(error, match="conv2d: .*" + message):
        call(device)


def test_non_tensor_arguments_are_rejected(device):
    w = minicnn.zeros(2, 1, 3, 3).to(device)
    with pytest.raises(TypeError, match="conv2d: input must be a Tensor, got ndarray"):
        F.conv2d(np.zeros((1, 1, 5, 5)), w)
