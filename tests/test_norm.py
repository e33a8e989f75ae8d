"""batch_norm: gradients, torch parity (outputs, gradients, running statistics), layouts, kernels, errors."""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from helpers import host, import_torch, parity_tolerance, rel_error
from minicnn.functional import norm
from minicnn.cpu.kernels import norm_kernels
from minicnn.functional.norm_engines import NORM_ENGINES

# every test here runs with the engines and on the reference algorithms alone (conftest.engine_path)
pytestmark = pytest.mark.usefixtures("engine_path")

SHAPES = {
    "2d": (5, 3),
    "3d": (4, 3, 5),
    "4d": (2, 3, 4, 5),
    "4d_channels_last": (2, 3, 4, 5),
    "4d_one_pixel": (3, 2, 1, 1),
    "5d": (2, 2, 3, 2, 2),
}


def make_batch(shape, device, dtype, channels_last=False, seed=0, offset=1.0, requires_grad=True):
    """A tensor with non-zero mean per channel (and its host values); channels-last memory on request."""
    rng = np.random.default_rng(seed)
    host_values = (rng.standard_normal(shape) * 2.0 + offset).astype(dtype)
    if channels_last:
        memory = minicnn.backend.to_device(np.ascontiguousarray(np.moveaxis(host_values, 1, -1)), device)
        return minicnn.Tensor(memory.transpose(0, 3, 1, 2), requires_grad=requires_grad), host_values
    return minicnn.tensor(host_values, requires_grad=requires_grad, device=device), host_values


def channel_params(channels, dtype, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(channels).astype(dtype), rng.standard_normal(channels).astype(dtype),
            rng.standard_normal(channels).astype(dtype), rng.uniform(0.5, 2.0, channels).astype(dtype))


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "no_affine"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", SHAPES.keys())
def test_batch_norm_gradcheck(device, name, training, affine):
    shape = SHAPES[name]
    x, _ = make_batch(shape, device, np.float64, channels_last=name.endswith("channels_last"))
    weight, bias, running_mean, running_var = channel_params(shape[1], np.float64)
    params = [minicnn.tensor(p, requires_grad=True, device=device) for p in (weight, bias)] if affine else [None, None]
    # fresh running statistics for every call: in training they are updated in place
    stats = lambda: [minicnn.tensor(s, device=device) for s in (running_mean, running_var)]  # noqa: E731
    inputs = [x] + [p for p in params if p is not None]

    def fn(x, *weight_bias):
        weight, bias = weight_bias if affine else (None, None)
        return F.batch_norm(x, *stats(), weight, bias, training=training)

    assert minicnn.gradcheck(fn, inputs)


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "no_affine"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", SHAPES.keys())
def test_batch_norm_matches_torch(device, name, dtype, training, affine):
    torch = import_torch()
    shape = SHAPES[name]
    x, x_host = make_batch(shape, device, dtype, channels_last=name.endswith("channels_last"))
    weight, bias, running_mean, running_var = channel_params(shape[1], dtype)
    ours_params = [minicnn.tensor(p, requires_grad=True, device=device) for p in (weight, bias)]
    ours_stats = [minicnn.tensor(s, device=device) for s in (running_mean, running_var)]
    theirs_params = [torch.tensor(p, requires_grad=True) for p in (weight, bias)]
    theirs_stats = [torch.tensor(s) for s in (running_mean, running_var)]
    x_torch = torch.tensor(x_host, requires_grad=True)
    if not affine:
        ours_params, theirs_params = [None, None], [None, None]

    out = F.batch_norm(x, *ours_stats, *ours_params, training=training, momentum=0.3, eps=1e-3)
    expected = torch.nn.functional.batch_norm(x_torch, *theirs_stats, *theirs_params, training=training,
                                              momentum=0.3, eps=1e-3)
    upstream = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    out.backward(minicnn.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))

    tolerance = parity_tolerance(dtype)
    assert out.shape == shape and out.dtype == dtype
    assert rel_error(host(out), expected.detach().numpy()) < tolerance
    assert rel_error(host(x.grad), x_torch.grad.numpy()) < tolerance
    for ours, theirs in zip(ours_params, theirs_params):
        if ours is not None:
            assert rel_error(host(ours.grad), theirs.grad.numpy()) < tolerance
    for ours, theirs in zip(ours_stats, theirs_stats):
        assert ours.dtype == dtype
        assert rel_error(host(ours), theirs.numpy()) < tolerance


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 3, 3)], ids=["2d", "4d"])
def test_running_statistics_follow_torch_over_several_steps(device, shape, channels_last):
    """Three training steps move the running statistics (unbiased variance) exactly as torch's; eval
    mode then normalizes with them."""
    torch = import_torch()
    if len(shape) == 2:
        channels_last = False
    channels = shape[1]
    ours_stats = [minicnn.zeros(channels, device=device, dtype=minicnn.float64),
                  minicnn.ones(channels, device=device, dtype=minicnn.float64)]
    theirs_stats = [torch.zeros(channels, dtype=torch.float64), torch.ones(channels, dtype=torch.float64)]
    weight, bias, _, _ = channel_params(channels, np.float64)
    for step in range(3):
        x, x_host = make_batch(shape, device, np.float64, channels_last, seed=10 + step, offset=step,
                               requires_grad=False)
        F.batch_norm(x, *ours_stats, minicnn.tensor(weight, device=device), minicnn.tensor(bias, device=device),
                     training=True, momentum=0.2)
        torch.nn.functional.batch_norm(torch.tensor(x_host), *theirs_stats, torch.tensor(weight),
                                       torch.tensor(bias), training=True, momentum=0.2)
        for ours, theirs in zip(ours_stats, theirs_stats):
            assert rel_error(host(ours), theirs.numpy()) < 1e-12
    x, x_host = make_batch(shape, device, np.float64, channels_last, seed=20)
    out = F.batch_norm(x, *ours_stats, training=False)
    expected = torch.nn.functional.batch_norm(torch.tensor(x_host), *theirs_stats, training=False)
    assert rel_error(host(out), expected.numpy()) < 1e-12


def test_batch_norm_without_running_statistics_uses_batch_statistics(device):
    """running_mean = running_var = None (track_running_stats=False): batch statistics in both modes."""
    torch = import_torch()
    x, x_host = make_batch((4, 3, 2, 2), device, np.float64)
    expected = torch.nn.functional.batch_norm(torch.tensor(x_host), None, None, training=True)
    for training in (True, False):
        out = F.batch_norm(x, None, None, training=training)
        assert rel_error(host(out), expected.numpy()) < 1e-12


def test_batch_norm_keeps_channels_last_layout(device):
    """Channels-last in, channels-last out (value and gradient), also when the upstream gradient is
    channels-last itself (the layout the benchmarks see; the parity test sends a contiguous one)."""
    torch = import_torch()
    x, x_host = make_batch((2, 4, 3, 5), device, np.float64, channels_last=True)
    out = F.batch_norm(x, None, None, training=True)
    upstream, _ = make_batch((2, 4, 3, 5), device, np.float64, channels_last=True, seed=5, requires_grad=False)
    out.backward(upstream)
    x_torch = torch.tensor(x_host, requires_grad=True)
    torch.nn.functional.batch_norm(x_torch, None, None, training=True).backward(torch.tensor(host(upstream)))
    assert rel_error(host(x.grad), x_torch.grad.numpy()) < 1e-10
    for array in (out.array, x.grad.array):
        strides = array.strides
        assert strides[1] < strides[3] < strides[2] < strides[0]


def test_float32_statistics_stay_accurate_with_a_large_mean(device):
    """One-pass statistics lose everything to cancellation when the mean dwarfs the spread; the shifted,
    float64-accumulated sums must not."""
    rng = np.random.default_rng(3)
    x_host = (rng.standard_normal((64, 3, 8, 8)) + 1e4).astype(np.float32)
    out = host(F.batch_norm(minicnn.tensor(x_host, device=device), None, None, training=True))
    x64 = x_host.astype(np.float64)
    reference = (x64 - x64.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(x64.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    assert rel_error(out, reference) < 2e-3  # float32 holds 1e4 + x to about 1e-3 of x's spread


# ----------------------------------------------------------------------------------------------
# The numba engine against the reference passes
# ----------------------------------------------------------------------------------------------

@pytest.mark.skipif(not norm_kernels.usable(np.zeros(1)), reason="numba is not installed")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout,shape", [("rows", (37, 5)), ("planes", (3, 4, 11))])
def test_batch_norm_engine_matches_reference_passes(layout, shape, dtype):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    grad = rng.standard_normal(shape).astype(dtype)
    channels = shape[1]
    vectors = [rng.standard_normal(channels).astype(dtype) for _ in range(3)]
    tolerance = 1e-12 if dtype == np.float64 else 1e-5

    def agree(kernel_result, array_result):
        for ours, twin in zip(kernel_result, array_result):
            assert ours.dtype == dtype and ours.shape == twin.shape
            assert rel_error(ours, twin) < tolerance

    engine = NORM_ENGINES["numba-passes"]
    assert engine.applies(layout, x)
    agree(engine.channel_mean_var(x, layout), norm.channel_mean_var(x, layout))
    mean = vectors[0]
    agree([engine.normalize(x, layout, mean, *vectors[1:])], [norm.normalize(x, layout, mean, *vectors[1:])])
    agree(engine.grad_sums(grad, x, layout, mean), norm.grad_sums(grad, x, layout, mean))
    agree([engine.input_grad(grad, x, layout, mean, *vectors)], [norm.input_grad(grad, x, layout, mean, *vectors)])


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------

def _tensors(device, *shapes):
    return [minicnn.tensor(np.ones(s, dtype=np.float32), device=device) for s in shapes]


@pytest.mark.parametrize("make_call,message", [
    (lambda d: (lambda x, m, v: F.batch_norm(x, m, v, training=True))(*_tensors(d, (1, 3), (3,), (3,))),
     r"batch_norm: expected more than 1 value per channel when training, got input of shape \(1, 3\)"),
    (lambda d: (lambda x: F.batch_norm(x, None, None, training=False))(*_tensors(d, (1, 3, 1, 1))),
     r"batch_norm: expected more than 1 value per channel when training, got input of shape \(1, 3, 1, 1\)"),
    (lambda d: (lambda x, m, v: F.batch_norm(x, m, v, training=True))(*_tensors(d, (2, 3), (4,), (3,))),
     r"batch_norm: running_mean should have shape \(3,\) \(one value per channel of the input\), got \(4,\)"),
    (lambda d: (lambda x, m, v: F.batch_norm(x, m, v))(*_tensors(d, (2, 3, 4, 4), (3,), (3, 1))),
     r"batch_norm: running_var should have shape \(3,\) .* got \(3, 1\)"),
    (lambda d: (lambda x, w: F.batch_norm(x, None, None, w, training=True))(*_tensors(d, (2, 3), (2,))),
     r"batch_norm: weight should have shape \(3,\) .* got \(2,\)"),
    (lambda d: (lambda x, b: F.batch_norm(x, None, None, None, b, training=True))(*_tensors(d, (2, 3), (5,))),
     r"batch_norm: bias should have shape \(3,\) .* got \(5,\)"),
    (lambda d: (lambda x, m: F.batch_norm(x, m, None, training=True))(*_tensors(d, (2, 3), (3,))),
     r"batch_norm: running_mean and running_var must both be None or both be given"),
    (lambda d: (lambda x: F.batch_norm(x, None, None, training=True))(*_tensors(d, (6,))),
     r"batch_norm: expected an input of shape \(N, C, ...\) with at least 2 dimensions, got shape \(6,\)"),
])
def test_batch_norm_rejects_bad_input(device, make_call, message):
    with pytest.raises(ValueError, match=message):
        make_call(device)


def test_batch_norm_rejects_momentum_none_and_mismatched_dtypes(device):
    x, weight = _tensors(device, (4, 3), (3,))
    with pytest.raises(TypeError, match=r"batch_norm: momentum must be a float, got None"):
        F.batch_norm(x, None, None, training=True, momentum=None)
    with pytest.raises(TypeError, match=r"batch_norm: weight has dtype float64, the input float32"):
        F.batch_norm(x, None, None, weight.to(minicnn.float64), training=True)
