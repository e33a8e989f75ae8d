"""The autograd core: the backward walk, gradient accumulation, grad modes, graph lifetime, Tensor basics."""
import gc
import weakref

import numpy as np
import pytest

import minicnn
from minicnn.autograd import Function
from helpers import host, make_input


# ----------------------------------------------------------------------------------------------
# The backward walk
# ----------------------------------------------------------------------------------------------

def test_a_chain_of_ten_thousand_ops_backpropagates_without_recursion(device):
    x, x_host = make_input((3,), device=device)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    # d/dx (1.0001^10000 x) = 1.0001^10000 for each element
    np.testing.assert_allclose(host(x.grad), np.full(3, 1.0001**10_000), rtol=1e-10)
    np.testing.assert_allclose(host(y.detach()), x_host * 1.0001**10_000, rtol=1e-10)


def test_a_diamond_graph_sums_the_gradients_of_both_paths(device):
    x, x_host = make_input((4,), device=device)
    a = x * 3.0
    b = x.exp()
    (a * b + x).sum().backward()
    # d/dx (3x e^x + x) = 3 e^x + 3x e^x + 1
    expected = 3 * np.exp(x_host) + 3 * x_host * np.exp(x_host) + 1
    np.testing.assert_allclose(host(x.grad), expected, rtol=1e-12)


def test_a_tensor_used_twice_in_one_op_gets_both_gradients(device):
    x, x_host = make_input((5,), device=device)
    (x * x).sum().backward()
    np.testing.assert_allclose(host(x.grad), 2 * x_host, rtol=1e-14)
    x.grad = None
    (x + x).sum().backward()
    np.testing.assert_array_equal(host(x.grad), np.full(5, 2.0))


def test_an_intermediate_used_by_many_consumers_accumulates(device):
    x, x_host = make_input((3,), device=device)
    h = x * 2.0
    (h * h + h.sum() * h + h).sum().backward()
    # f = sum(h^2) + (sum h)^2 + sum h with h = 2x:  df/dx = 2 (2h + 2 sum h + 1)
    h_host = 2 * x_host
    np.testing.assert_allclose(host(x.grad), 2 * (2 * h_host + 2 * h_host.sum() + 1), rtol=1e-12)


def test_gradients_accumulate_over_two_backward_calls(device):
    x, x_host = make_input((2, 3), device=device)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(host(x.grad), 4 * x_host, rtol=1e-14)


def test_backward_with_an_explicit_gradient(device):
    x, _ = make_input((2, 3), device=device)
    upstream = np.arange(6.0).reshape(2, 3)
    (x * 5.0).backward(minicnn.tensor(upstream, device=device))
    np.testing.assert_array_equal(host(x.grad), 5.0 * upstream)


def test_backward_of_a_non_scalar_needs_a_gradient(device):
    x, _ = make_input((2, 3), device=device)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2.0).backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2.0).backward(minicnn.tensor(np.ones(3), device=device))


def test_backward_on_a_tensor_without_grad_raises(device):
    x, _ = make_input((2,), device=device, requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2.0).sum().backward()


def test_backward_twice_without_retain_graph_raises_a_clear_error(device):
    x, _ = make_input((3,), device=device)
    loss = (x.exp() * 2.0).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()


def test_backward_twice_with_retain_graph_accumulates(device):
    x, x_host = make_input((3,), device=device)
    loss = (x.exp() * 2.0).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(host(x.grad), 4 * np.exp(x_host), rtol=1e-14)


def test_a_second_loss_through_a_freed_shared_trunk_raises(device):
    x, _ = make_input((3,), device=device)
    trunk = x.exp()
    first, second = trunk.sum(), (trunk * 2.0).sum()
    first.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        second.backward()


# ----------------------------------------------------------------------------------------------
# Graph lifetime: memory is given back
# ----------------------------------------------------------------------------------------------

def test_backward_releases_what_each_node_saved(device):
    x, _ = make_input((4, 5), device=device)
    loss = (x.exp() * x).sum()
    nodes = [loss.grad_fn, loss.grad_fn.inputs[0]._ctx]
    exp_node = nodes[1].inputs[0]._ctx
    assert exp_node.saved  # Exp keeps its output for backward
    loss.backward()
    for node in nodes + [exp_node]:
        assert node.released and node.saved == () and node.inputs == ()


def test_retain_graph_keeps_what_nodes_saved(device):
    x, _ = make_input((4, 5), device=device)
    h = x.exp()
    h.sum().backward(retain_graph=True)
    assert not h.grad_fn.released and h.grad_fn.saved


def test_a_big_saved_intermediate_is_freed_after_backward(device):
    x, _ = make_input((256, 256), device=device)
    hidden = x.exp()  # Exp saves its output: the array stays alive until backward
    hidden_data = weakref.ref(hidden.array)
    loss = (hidden * 3.0).sum()
    del hidden
    gc.collect()
    assert hidden_data() is not None
    loss.backward()
    gc.collect()
    assert hidden_data() is None, "the graph still holds an intermediate array after backward"
    assert loss.item() != 0  # the loss itself is still alive, so the graph was freed, not the loss


def test_an_intermediate_nobody_saved_is_not_kept_alive_by_the_graph(device):
    """relu saves only a mask and its input is an output of mul that mul never saved: the graph must
    link nodes, not the arrays flowing between them, or every activation lives until backward."""
    x, _ = make_input((256, 256), device=device)
    hidden = x * 2.0
    hidden_data = weakref.ref(hidden.array)
    loss = minicnn.functional.relu(hidden).sum()
    del hidden
    gc.collect()
    assert hidden_data() is None
    loss.backward()
    assert x.grad is not None


# ----------------------------------------------------------------------------------------------
# Grad modes, detach, requires_grad
# ----------------------------------------------------------------------------------------------

def test_no_grad_records_nothing(device):
    x, _ = make_input((3,), device=device)
    with minicnn.no_grad():
        y = (x * 2.0).exp().sum()
        assert not minicnn.is_grad_enabled()
    assert minicnn.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError):
        y.backward()


def test_no_grad_works_as_a_decorator_and_restores_the_mode(device):
    x, _ = make_input((3,), device=device)

    @minicnn.no_grad()
    def infer(t):
        return t * 2.0

    out = infer(x)
    assert not out.requires_grad and out.grad_fn is None
    assert minicnn.is_grad_enabled()
    assert (x * 2.0).requires_grad


def test_grad_modes_nest_and_restore_after_an_exception(device):
    x, _ = make_input((3,), device=device)
    with minicnn.no_grad():
        with minicnn.enable_grad():
            assert (x * 2.0).requires_grad
        assert not (x * 2.0).requires_grad
    with pytest.raises(ZeroDivisionError):
        with minicnn.no_grad():
            1 / 0
    assert minicnn.is_grad_enabled()
    with minicnn.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad


def test_detach_shares_data_and_stops_the_gradient(device):
    x, x_host = make_input((3,), device=device)
    y = x * 2.0
    frozen = y.detach()
    assert frozen.is_leaf and not frozen.requires_grad and frozen.array is y.array
    (y * frozen).sum().backward()
    # frozen is a constant: d/dx (2x * c) = 2c with c = 2x
    np.testing.assert_allclose(host(x.grad), 4 * x_host, rtol=1e-14)


def test_requires_grad_propagates_to_results(device):
    a, _ = make_input((3,), device=device)
    b, _ = make_input((3,), device=device, requires_grad=False)
    assert (a + b).requires_grad and (b + a).requires_grad
    assert not (b * 2.0).requires_grad
    assert (a + b).grad_fn is not None and (b * 2.0).grad_fn is None
    assert a.is_leaf and not (a + b).is_leaf


def test_only_the_inputs_that_require_grad_receive_one(device):
    a, _ = make_input((3,), device=device)
    b, _ = make_input((3,), device=device, requires_grad=False)
    (a * b).sum().backward()
    assert a.grad is not None and b.grad is None


def test_needs_input_grad_tells_backward_what_to_skip(device):
    seen = []

    class Probe(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, grad):
            seen.append(self.needs_input_grad)
            return grad, None

    a, _ = make_input((3,), device=device)
    b, _ = make_input((3,), device=device, requires_grad=False)
    Probe.apply(a, b).sum().backward()
    assert seen == [(True, False)]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_non_float_tensors_cannot_require_grad(device, dtype):
    with pytest.raises(RuntimeError, match="floating point"):
        minicnn.tensor(np.zeros(3, dtype=dtype), requires_grad=True, device=device)
    t = minicnn.tensor(np.zeros(3, dtype=dtype), device=device)
    with pytest.raises(RuntimeError, match="floating point"):
        t.requires_grad_()


def test_integer_results_do_not_require_grad(device):
    x, _ = make_input((4,), device=device)
    assert not (x > 0).requires_grad
    assert not x.argmax().requires_grad


def test_inputs_must_share_a_device(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    a = minicnn.tensor(np.ones(3), device=device)
    b = minicnn.tensor(np.ones(3), device="cpu")
    with pytest.raises(RuntimeError, match="one device"):
        a + b


# ----------------------------------------------------------------------------------------------
# Tensor basics: conversion, dtypes
# ----------------------------------------------------------------------------------------------

def test_item_numpy_and_tolist(device):
    t = minicnn.tensor(np.array([[1.5, 2.0], [3.0, 4.0]]), device=device)
    assert t[1, 0].item() == 3.0 and isinstance(t[1, 0].item(), float)
    np.testing.assert_array_equal(t.numpy(), [[1.5, 2.0], [3.0, 4.0]])
    assert isinstance(t.numpy(), np.ndarray)
    assert t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert minicnn.tensor(7, device=device).item() == 7
    with pytest.raises(RuntimeError, match="4 elements cannot be converted to Scalar"):
        t.item()


def test_numpy_of_a_tensor_that_requires_grad_needs_detach(device):
    x, x_host = make_input((3,), device=device)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    np.testing.assert_array_equal(x.detach().numpy(), x_host)


@pytest.mark.parametrize("data, expected", [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([[1.0], [2.5]], np.float32),
    (3, np.int64), ([1, 2, 3], np.int64), (True, np.bool_),
    (np.zeros(2), np.float64), (np.zeros(2, np.float32), np.float32), (np.zeros(2, np.int32), np.int32),
])
def test_default_dtypes(device, data, expected):
    assert minicnn.tensor(data, device=device).dtype == expected


def test_explicit_dtype_wins(device):
    assert minicnn.tensor([1, 2], dtype=minicnn.float64, device=device).dtype == np.float64
    assert minicnn.tensor(np.zeros(2), dtype=np.float32, device=device).dtype == np.float32


def test_to_dtype_casts_and_the_gradient_comes_back_in_the_original_dtype(device):
    x, x_host = make_input((3,), device=device, dtype=np.float32)
    y = x.to(minicnn.float64)
    assert y.dtype == np.float64 and y.device == device
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(host(x.grad), 2 * x_host, rtol=1e-6)
    assert x.to(minicnn.float32) is x
    assert x.double().dtype == np.float64 and x.float().dtype == np.float32
    assert x.detach().long().dtype == np.int64


def test_tensor_properties(device):
    t = minicnn.zeros(2, 3, 4, device=device)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.dim() == 3 and t.numel() == 24 and len(t) == 2
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.dtype == np.float32 and t.device == device
    assert "tensor(" in repr(t)


def test_tensor_copies_its_data(device):
    source = np.ones(3)
    t = minicnn.tensor(source, device=device)
    source[0] = 5.0
    assert host(t)[0] == 1.0
