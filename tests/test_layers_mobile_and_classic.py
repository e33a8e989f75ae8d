"""The layers of the later classic nets: hardsigmoid, hardswish, silu, local response norm, channel shuffle,
stochastic depth and squeeze-and-excitation -- gradients, torch / torchvision parity, corners, errors."""
import inspect

import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from minicnn import nn, ops
from helpers import host, import_torch, import_torchvision, parity_tolerance, rel_error, torch_parity_errors

DTYPES = [np.float64, np.float32]

# name -> (minicnn call, torch call taking torch.nn.functional, input shape)
OPS = {
    "hardsigmoid": (F.hardsigmoid, lambda tf, x: tf.hardsigmoid(x), (2, 3, 4, 5)),
    "hardswish": (F.hardswish, lambda tf, x: tf.hardswish(x), (2, 3, 4, 5)),
    "silu": (F.silu, lambda tf, x: tf.silu(x), (2, 3, 4, 5)),
    "lrn_5": (lambda x: F.local_response_norm(x, 5), lambda tf, x: tf.local_response_norm(x, 5), (2, 7, 3, 4)),
    "lrn_alexnet": (lambda x: F.local_response_norm(x, 5, alpha=5e-4, beta=0.75, k=2.0),
                    lambda tf, x: tf.local_response_norm(x, 5, alpha=5e-4, beta=0.75, k=2.0), (2, 6, 3, 3)),
    "lrn_even_size": (lambda x: F.local_response_norm(x, 4, 0.3, 0.6, 0.5),
                      lambda tf, x: tf.local_response_norm(x, 4, 0.3, 0.6, 0.5), (1, 5, 2, 3)),
    "lrn_wider_than_channels": (lambda x: F.local_response_norm(x, 7, 0.5),
                                lambda tf, x: tf.local_response_norm(x, 7, 0.5), (2, 3, 2, 2)),
    "lrn_3d": (lambda x: F.local_response_norm(x, 3, 0.2), lambda tf, x: tf.local_response_norm(x, 3, 0.2), (2, 5, 6)),
    "lrn_5d": (lambda x: F.local_response_norm(x, 2, 0.2), lambda tf, x: tf.local_response_norm(x, 2, 0.2),
               (1, 4, 2, 3, 2)),
    "channel_shuffle_2": (lambda x: F.channel_shuffle(x, 2), lambda tf, x: tf.channel_shuffle(x, 2), (2, 6, 3, 2)),
    "channel_shuffle_3": (lambda x: F.channel_shuffle(x, 3), lambda tf, x: tf.channel_shuffle(x, 3), (1, 12, 2, 2)),
}


# torch's float64 hardsigmoid backward multiplies by 1/6 rounded to float32 (its kernel's constant is
# 1.0f / 6.0f), 3e-8 away from 1/6; minicnn uses the float64 1/6.
GRAD_TOLERANCE = {("hardsigmoid", "float64"): 5e-8}


def spread_input(shape, seed=0):
    """Values over [-5, 5], on both sides of the corners at -3 and 3 but never within 1e-3 of them."""
    values = np.random.default_rng(seed).uniform(-5, 5, size=shape)
    for corner in (-3.0, 3.0):
        values[np.abs(values - corner) < 1e-3] += 0.01
    return values


@pytest.mark.parametrize("name", list(OPS))
def test_gradcheck(device, name):
    function, _, shape = OPS[name]
    x = minicnn.tensor(spread_input(shape), requires_grad=True, device=device)
    assert minicnn.gradcheck(function, [x])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(OPS))
def test_forward_and_gradient_match_torch(device, name, dtype):
    torch = import_torch()
    function, torch_function, shape = OPS[name]
    forward, (grad,) = torch_parity_errors(function, lambda x: torch_function(torch.nn.functional, x),
                                           [spread_input(shape)], device=device, dtype=dtype)
    assert forward < parity_tolerance(dtype)
    assert grad < GRAD_TOLERANCE.get((name, np.dtype(dtype).name), parity_tolerance(dtype))


@pytest.mark.parametrize("name", ["hardsigmoid", "hardswish"])
def test_derivative_at_the_corners_is_torchs(device, name):
    torch = import_torch()
    function, torch_function, _ = OPS[name]
    corners = np.array([-3.5, -3.0, -1.0, 0.0, 3.0, 3.5])
    forward, (grad,) = torch_parity_errors(function, lambda x: torch_function(torch.nn.functional, x),
                                           [corners], device=device)
    assert forward < 1e-15 and grad < GRAD_TOLERANCE.get((name, "float64"), 1e-15)


@pytest.mark.parametrize("layer, torch_layer, args", [
    (nn.Hardsigmoid, "Hardsigmoid", ()), (nn.Hardswish, "Hardswish", ()), (nn.SiLU, "SiLU", ()),
    (nn.LocalResponseNorm, "LocalResponseNorm", (3,)), (nn.ChannelShuffle, "ChannelShuffle", (2,)),
])
def test_layers_match_torch_layers_and_their_defaults(device, layer, torch_layer, args):
    torch = import_torch()
    reference_class = getattr(torch.nn, torch_layer)
    ours = {k: p.default for k, p in inspect.signature(layer.__init__).parameters.items() if k != "self"}
    theirs = {k: p.default for k, p in inspect.signature(reference_class.__init__).parameters.items() if k != "self"}
    assert ours == theirs
    values = spread_input((2, 6, 3, 3))
    expected = reference_class(*args)(torch.tensor(values)).numpy()
    assert rel_error(host(layer(*args)(minicnn.tensor(values, device=device))), expected) < 1e-12


def test_float32_stays_float32(device):
    for name, (function, _, shape) in OPS.items():
        x = minicnn.tensor(spread_input(shape).astype(np.float32), requires_grad=True, device=device)
        out = function(x)
        out.sum().backward()
        assert out.dtype == np.float32 and x.grad.dtype == np.float32, name


@pytest.mark.parametrize("call, error, match", [
    (lambda x: F.local_response_norm(x[0, 0], 3), ValueError, r"local_response_norm: expected a 3-d .* \(3, 3\)"),
    (lambda x: F.channel_shuffle(x, 3), ValueError, r"channel_shuffle: the number of channels \(4\) .* groups \(3\)"),
    (lambda x: F.channel_shuffle(x, 0), ValueError, "channel_shuffle: groups must be a positive integer"),
    (lambda x: F.hardswish(x.to(dtype=np.int64)), TypeError, "hardswish: expected a floating point tensor"),
    (lambda x: ops.stochastic_depth(x, 1.5, "row"), ValueError, "between 0 and 1, but got 1.5"),
    (lambda x: ops.stochastic_depth(x, 0.5, "column"), ValueError, "either 'batch' or 'row'"),
])
def test_bad_input_names_the_op_and_what_was_expected(device, call, error, match):
    x = minicnn.randn(2, 4, 3, 3, device=device)
    with pytest.raises(error, match=match):
        call(x)


# ------------------------------------------------------------------------------------------------
# stochastic depth: torchvision.ops.stochastic_depth's semantics
# ------------------------------------------------------------------------------------------------

def test_stochastic_depth_row_mode_drops_whole_samples_and_scales_the_rest(device):
    x = minicnn.tensor(np.ones((400, 2, 3, 3)), requires_grad=True, device=device)
    out = ops.stochastic_depth(x, 0.25, "row")
    values = host(out).reshape(400, -1)
    per_sample = values[:, 0]
    assert np.all(values == per_sample[:, None])  # one decision per sample
    assert set(np.unique(per_sample)) == {0.0, 1 / 0.75}
    assert 0.15 < np.mean(per_sample == 0) < 0.35
    upstream = np.random.default_rng(1).standard_normal(x.shape)
    out.backward(minicnn.tensor(upstream, device=device))
    assert np.allclose(host(x.grad), upstream * host(out))  # d out / d x is the mask itself


def test_stochastic_depth_batch_mode_drops_the_whole_batch_at_once(device):
    kept = []
    for _ in range(40):
        values = host(ops.stochastic_depth(minicnn.ones(3, 2, 2, 2, device=device), 0.5, "batch"))
        assert np.all(values == values.flat[0])
        kept.append(values.flat[0])
    assert set(kept) == {0.0, 2.0}


def test_stochastic_depth_is_the_identity_in_eval_and_at_p_0_and_zero_at_p_1(device):
    x = minicnn.randn(4, 3, 2, 2, device=device)
    assert ops.stochastic_depth(x, 0.7, "row", training=False) is x
    assert ops.stochastic_depth(x, 0.0, "row") is x
    assert not np.any(host(ops.stochastic_depth(x, 1.0, "batch")))
    layer = ops.StochasticDepth(0.7, "row").eval()
    assert layer(x) is x
    assert repr(layer) == "StochasticDepth(p=0.7, mode=row)"


def test_stochastic_depth_signature_is_torchvisions():
    torchvision = import_torchvision()
    reference = torchvision.ops.stochastic_depth
    assert list(inspect.signature(ops.stochastic_depth).parameters) == list(inspect.signature(reference).parameters)
    assert inspect.signature(ops.stochastic_depth).parameters["training"].default is True


# ------------------------------------------------------------------------------------------------
# squeeze-and-excitation and Conv2dNormActivation against torchvision.ops
# ------------------------------------------------------------------------------------------------

def copy_weights(reference, model):
    model.load_state_dict({key: value.detach().numpy() for key, value in reference.state_dict().items()})


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("activations", ["relu_sigmoid", "silu_hardsigmoid"])
def test_squeeze_excitation_matches_torchvision(device, dtype, activations):
    torchvision = import_torchvision()
    torch = import_torch()
    pairs = {"relu_sigmoid": ((nn.ReLU, nn.Sigmoid), (torch.nn.ReLU, torch.nn.Sigmoid)),
             "silu_hardsigmoid": ((nn.SiLU, nn.Hardsigmoid), (torch.nn.SiLU, torch.nn.Hardsigmoid))}
    (act, scale), (torch_act, torch_scale) = pairs[activations]
    torch.manual_seed(0)
    reference = torchvision.ops.SqueezeExcitation(6, 3, torch_act, torch_scale).to(getattr(torch, np.dtype(dtype).name))
    model = ops.SqueezeExcitation(6, 3, act, scale).to(device=device, dtype=dtype)
    assert list(model.state_dict()) == list(reference.state_dict())
    copy_weights(reference, model)
    forward, (grad,) = torch_parity_errors(model, reference, [spread_input((2, 6, 4, 3))], device=device, dtype=dtype)
    # torch's float64 hardsigmoid gradient carries a float32 constant (see GRAD_TOLERANCE)
    tolerance = 5e-8 if activations == "silu_hardsigmoid" and dtype == np.float64 else parity_tolerance(dtype)
    assert forward < parity_tolerance(dtype) and grad < tolerance
    parameter_grads = {name: p.grad.numpy() for name, p in reference.named_parameters()}
    for name, p in model.named_parameters():
        assert rel_error(host(p.grad), parameter_grads[name]) < tolerance, name


def test_squeeze_excitation_gradcheck(device):
    model = ops.SqueezeExcitation(4, 2).double().to(device)
    x = minicnn.tensor(spread_input((2, 4, 3, 3)), requires_grad=True, device=device)
    assert minicnn.gradcheck(lambda x, *parameters: model(x), [x, *model.parameters()])


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3, stride=2), dict(kernel_size=(1, 7)),
                                    dict(kernel_size=3, groups=4, activation_layer=None),
                                    dict(kernel_size=1, norm_layer=None)], ids=str)
def test_conv2d_norm_activation_has_torchvisions_layers_and_keys(kwargs):
    torchvision = import_torchvision()
    torch = import_torch()
    torch_kwargs = dict(kwargs)
    for key, ours in (("activation_layer", None), ("norm_layer", None)):
        if key in torch_kwargs:
            torch_kwargs[key] = ours
    reference = torchvision.ops.Conv2dNormActivation(4, 8, **torch_kwargs)
    model = ops.Conv2dNormActivation(4, 8, **kwargs)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert [type(m).__name__ for m in model] == [type(m).__name__ for m in reference]
    conv, torch_conv = model[0], reference[0]
    assert (conv.padding, conv.stride, conv.groups) == (torch_conv.padding, torch_conv.stride, torch_conv.groups)


# ------------------------------------------------------------------------------------------------
# the two existing ops the original AlexNet and the dense nets lean on
# ------------------------------------------------------------------------------------------------

def test_two_group_convolution_matches_torch_like_alexnets_split_towers(device):
    torch = import_torch()
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((2, 6, 7, 7)), rng.standard_normal((4, 3, 5, 5)), rng.standard_normal(4)]
    forward, grads = torch_parity_errors(lambda x, w, b: F.conv2d(x, w, b, padding=2, groups=2),
                                         lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=2, groups=2),
                                         arrays, device=device)
    assert forward < 1e-10 and max(grads) < 1e-10


def test_cat_of_many_inputs_routes_each_gradient_to_its_input(device):
    torch = import_torch()
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((2, c, 3, 3)) for c in (4, 1, 3, 2)]
    forward, grads = torch_parity_errors(lambda *xs: minicnn.cat(list(xs), 1), lambda *xs: torch.cat(xs, 1),
                                         arrays, device=device)
    assert forward == 0 and max(grads) == 0
