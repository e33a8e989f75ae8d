"""relu, relu6, leaky_relu, hardtanh, sigmoid, tanh: gradients, torch parity, kinks, stability."""
import warnings

import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from helpers import host, import_torch, make_input, parity_tolerance, torch_parity_errors

# every test here runs with the engines and on the reference algorithms alone (conftest.engine_path)
pytestmark = pytest.mark.usefixtures("engine_path")

DTYPES = [np.float64, np.float32]
SHAPES = [(1,), (7,), (3, 5), (1, 3, 4, 5), (2, 3, 3)]

# name -> (minicnn call, torch call taking the torch functional module)
ACTIVATIONS = {
    "relu": (lambda x: F.relu(x), lambda tf, x: tf.relu(x)),
    "relu6": (lambda x: F.relu6(x), lambda tf, x: tf.relu6(x)),
    "leaky_relu": (lambda x: F.leaky_relu(x), lambda tf, x: tf.leaky_relu(x)),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda tf, x: tf.leaky_relu(x, 0.2)),
    "hardtanh": (lambda x: F.hardtanh(x), lambda tf, x: tf.hardtanh(x)),
    "hardtanh_-2_0.5": (lambda x: F.hardtanh(x, -2.0, 0.5), lambda tf, x: tf.hardtanh(x, -2.0, 0.5)),
    "sigmoid": (lambda x: F.sigmoid(x), lambda tf, x: tf.sigmoid(x)),
    "tanh": (lambda x: F.tanh(x), lambda tf, x: tf.tanh(x)),
}


def spread_input(shape, seed=0):
    """Values spread over [-8, 8] (both sides of relu6's and hardtanh's kinks), kept away from the kinks
    so finite differences are exact there."""
    values = np.random.default_rng(seed).uniform(-8, 8, size=shape)
    for kink in (-2.0, -1.0, 0.0, 0.5, 1.0, 6.0):
        near = np.abs(values - kink) < 1e-3
        values[near] += 0.01
    return values


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_gradcheck(device, name, shape):
    x = minicnn.tensor(spread_input(shape), requires_grad=True, device=device)
    assert minicnn.gradcheck(ACTIVATIONS[name][0], x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4, 5)], ids=str)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_torch(device, name, shape, dtype):
    torch = import_torch()
    ours, theirs = ACTIVATIONS[name]
    forward_error, (grad_error,) = torch_parity_errors(
        ours, lambda x: theirs(torch.nn.functional, x), [spread_input(shape, seed=3)], device, dtype
    )
    assert forward_error < parity_tolerance(dtype)
    assert grad_error < parity_tolerance(dtype)


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n not in ("sigmoid", "tanh")])
def test_gradient_at_the_kinks_follows_torch(device, name):
    """Where the function is not differentiable the derivative is a convention: use torch's."""
    torch = import_torch()
    ours, theirs = ACTIVATIONS[name]
    kinks = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 6.0, 3.0, -3.0])
    _, (grad_error,) = torch_parity_errors(ours, lambda x: theirs(torch.nn.functional, x), [kinks], device)
    assert grad_error == 0.0


def test_relu_derivative_conventions(device):
    x = minicnn.tensor(np.array([0.0, 6.0, -1.0, 3.0, 7.0]), requires_grad=True, device=device)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [0, 1, 0, 1, 1])
    x.grad = None
    F.relu6(x).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [0, 0, 0, 1, 0])
    x.grad = None
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(host(x.grad), [0.1, 1, 0.1, 1, 1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_stable_for_huge_inputs(device, dtype):
    torch = import_torch()
    x = np.array([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would warn
        forward_error, (grad_error,) = torch_parity_errors(F.sigmoid, torch.sigmoid, [x], device, dtype)
        out = host(F.sigmoid(minicnn.tensor(x.astype(dtype), device=device)))
    assert np.all(np.isfinite(out)) and out[0] == 0.0 and out[-1] == 1.0
    assert forward_error < parity_tolerance(dtype)
    assert grad_error < parity_tolerance(dtype)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_keeps_float32(device, name):
    x, _ = make_input((2, 3), device=device, dtype=np.float32)
    out = ACTIVATIONS[name][0](x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("function", [F.relu, F.relu6, F.leaky_relu, F.hardtanh])
def test_inplace_flag_is_accepted_and_leaves_the_input_unchanged(device, function):
    x, x_host = make_input((3, 4), device=device, requires_grad=False)
    out = function(x, inplace=True)
    np.testing.assert_array_equal(host(x), x_host)
    expected = function(minicnn.tensor(x_host, device=device))
    np.testing.assert_array_equal(host(out), host(expected))


def test_tensor_methods_call_the_activations(device):
    x, x_host = make_input((2, 3), device=device, requires_grad=False)
    np.testing.assert_array_equal(host(x.relu()), np.maximum(x_host, 0))
    np.testing.assert_allclose(host(x.tanh()), np.tanh(x_host), rtol=1e-14)
    np.testing.assert_allclose(host(x.sigmoid()), 1 / (1 + np.exp(-x_host)), rtol=1e-14)


@pytest.mark.parametrize("function", [F.relu, F.relu6, F.leaky_relu, F.hardtanh, F.sigmoid, F.tanh])
def test_integer_input_raises(device, function):
    x = minicnn.tensor(np.arange(4), device=device)
    with pytest.raises(TypeError, match=f"{function.__name__}.*floating"):
        function(x)


def test_hardtanh_rejects_inverted_bounds(device):
    x, _ = make_input((3,), device=device)
    with pytest.raises(ValueError, match="hardtanh"):
        F.hardtanh(x, 1.0, -1.0)
