"""Tensor and Module hooks: each one sees, and may change, what torch's sees on the same model."""
import numpy as np
import pytest

import minicnn
import minicnn.nn as nn
from minicnn.hooks import RemovableHandle

from helpers import host, import_torch, make_input, rel_error


def _pair(torch, seed=0):
    """The same small CNN in minicnn and torch (weights copied), in float64, and one input for both."""
    minicnn.manual_seed(seed)
    ours = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 5, 4)).double()
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(3 * 5 * 5, 4)).double()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(seed).standard_normal((2, 2, 5, 5))
    return ours, theirs, x


def _as_numpy(value):
    if value is None:
        return None
    return value.detach().numpy() if hasattr(value, "detach") and not isinstance(value, minicnn.Tensor) else host(value)


def _assert_close_lists(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            assert rel_error(a, b) < 1e-10


def _run(model, x, framework, input_requires_grad=True):
    inputs = framework.tensor(x, requires_grad=input_requires_grad) if framework is minicnn else \
        framework.tensor(x, dtype=framework.float64, requires_grad=input_requires_grad)
    output = model(inputs)
    (output * output).sum().backward()
    return inputs, output


# -- tensor hooks ---------------------------------------------------------------------------------

def test_register_hook_on_an_intermediate_replaces_its_gradient_as_torch_does():
    torch = import_torch()
    results = {}
    for framework in (minicnn, torch):
        a = framework.tensor([1.0, 2.0, 3.0], dtype=framework.float64, requires_grad=True)
        b = a * a
        seen = []
        b.register_hook(lambda grad: seen.append(_as_numpy(grad).copy()))
        b.register_hook(lambda grad: grad * 10)  # runs after the first: it sees the unscaled gradient
        (b * 3).sum().backward()
        results[framework] = (seen[0], _as_numpy(a.grad))
    np.testing.assert_array_equal(results[minicnn][0], results[torch][0])
    np.testing.assert_allclose(results[minicnn][1], results[torch][1], rtol=1e-12)
    np.testing.assert_allclose(results[minicnn][1], 60 * np.array([1.0, 2.0, 3.0]))


def test_leaf_hook_runs_once_on_the_summed_gradient_before_it_is_accumulated():
    torch = import_torch()
    for framework in (minicnn, torch):
        w = framework.tensor([1.0, -2.0], dtype=framework.float64, requires_grad=True)
        calls = []

        def hook(grad):
            calls.append(_as_numpy(grad).copy())
            return grad * 0.5

        w.register_hook(hook)
        (w * 2 + w * w).sum().backward()  # w is used three times
        assert len(calls) == 1, framework
        np.testing.assert_allclose(calls[0], 2 + 2 * np.array([1.0, -2.0]))
        np.testing.assert_allclose(_as_numpy(w.grad), 0.5 * calls[0])


def test_retain_grad_keeps_a_non_leaf_gradient_after_hooks_registered_before_or_after():
    torch = import_torch()
    grads = {}
    for framework in (minicnn, torch):
        a = framework.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=framework.float64, requires_grad=True)
        b = a.exp()
        b.retain_grad()
        b.register_hook(lambda grad: grad + 1)  # retain_grad sees the hooked gradient, as in torch
        (b * a).sum().backward()
        assert b.retains_grad and not a.retains_grad
        grads[framework] = (_as_numpy(b.grad), _as_numpy(a.grad))
    _assert_close_lists(grads[minicnn], grads[torch])


def test_post_accumulate_grad_hook_sees_each_final_grad_as_soon_as_it_is_ready():
    torch = import_torch()
    orders, grads = {}, {}
    for framework, model in zip((minicnn, torch), _pair(torch)[:2]):
        _, _, x = _pair(torch)
        order, seen = [], {}

        def record(param, name):
            order.append(name)
            seen[name] = _as_numpy(param.grad).copy()

        for name, param in model.named_parameters():
            param.register_post_accumulate_grad_hook(lambda p, name=name: record(p, name))
        _run(model, x, framework)
        orders[framework], grads[framework] = order, seen
    # Each fires as soon as its gradient is final: the last layer's before the first layer's, as in torch.
    for order in orders.values():
        assert sorted(order) == sorted(grads[torch]) and {n[0] for n in order[:2]} == {"3"}
    for name in grads[torch]:
        assert rel_error(grads[minicnn][name], grads[torch][name]) < 1e-10


def test_handles_remove_hooks_and_work_as_context_managers():
    a = minicnn.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = a.register_hook(lambda grad: calls.append(1))
    assert isinstance(handle, RemovableHandle)
    with a.register_hook(lambda grad: grad * 3):
        (a * 1).sum().backward()
    np.testing.assert_allclose(host(a.grad), [3, 3])
    handle.remove()
    handle.remove()  # a second remove is harmless
    (a * 1).sum().backward()
    np.testing.assert_allclose(host(a.grad), [4, 4])
    assert calls == [1]


@pytest.mark.parametrize("register", ["register_hook", "register_post_accumulate_grad_hook"])
def test_hooks_on_a_tensor_without_grad_raise_runtime_error_like_torch(register):
    torch = import_torch()
    for framework in (minicnn, torch):
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            getattr(framework.zeros(2), register)(lambda *args: None)


def test_post_accumulate_grad_hook_on_a_non_leaf_raises_runtime_error_like_torch():
    torch = import_torch()
    for framework in (minicnn, torch):
        b = framework.ones(2, requires_grad=True) * 2
        with pytest.raises(RuntimeError, match="non-leaf"):
            b.register_post_accumulate_grad_hook(lambda t: None)


def test_hook_returning_a_wrong_shape_is_an_error_naming_both_shapes():
    a = minicnn.ones(3, requires_grad=True)
    b = a * 2
    b.register_hook(lambda grad: minicnn.ones(2))
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(3,\)"):
        b.sum().backward()


def test_tensor_hooks_on_the_device(device):
    a, values = make_input((3, 4), device=device)
    b = a.relu()
    b.register_hook(lambda grad: grad * 2)
    b.retain_grad()
    b.sum().backward()
    assert b.grad.device == device
    np.testing.assert_allclose(host(a.grad), 2.0 * (values > 0))


# -- module hooks -----------------------------------------------------------------------------------

def test_forward_pre_and_forward_hooks_see_and_replace_what_torchs_do():
    torch = import_torch()
    ours, theirs, x = _pair(torch)
    outputs, seen = {}, {}
    for framework, model in ((minicnn, ours), (torch, theirs)):
        log = []
        model[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        model[1].register_forward_hook(lambda m, args, out: log.append(_as_numpy(args[0]).copy()))
        model[3].register_forward_hook(lambda m, args, out: out + 1)
        model[3].register_forward_hook(lambda m, args, out: log.append(_as_numpy(out).copy()), prepend=True)
        _, output = _run(model, x, framework)
        outputs[framework], seen[framework] = _as_numpy(output), log
    assert rel_error(outputs[minicnn], outputs[torch]) < 1e-10
    _assert_close_lists(seen[minicnn], seen[torch])


def test_forward_hooks_with_kwargs_receive_and_return_keyword_arguments():
    torch = import_torch()
    results = {}
    for framework in (minicnn, torch):
        layer = framework.nn.Softmax(dim=0)
        layer.register_forward_pre_hook(lambda m, args, kwargs: ((), {"input": args[0] * 3}), with_kwargs=True)
        seen = []
        layer.register_forward_hook(lambda m, args, kwargs, out: seen.append(sorted(kwargs)), with_kwargs=True)
        layer.forward = lambda input: input.exp()
        out = layer(framework.tensor([0.0, 1.0], dtype=framework.float64))
        results[framework] = (_as_numpy(out), seen)
    np.testing.assert_allclose(results[minicnn][0], results[torch][0])
    assert results[minicnn][1] == results[torch][1] == [["input"]]


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hooks_see_the_gradients_torchs_see(input_requires_grad):
    torch = import_torch()
    ours, theirs, x = _pair(torch)
    seen = {}
    for framework, model in ((minicnn, ours), (torch, theirs)):
        log = []
        for index in (0, 1, 3):
            model[index].register_full_backward_pre_hook(
                lambda m, grad_out, i=index: log.append(("pre", i, [_as_numpy(g) for g in grad_out])))
            model[index].register_full_backward_hook(
                lambda m, grad_in, grad_out, i=index: log.append(
                    ("post", i, [_as_numpy(g) for g in grad_in] + [_as_numpy(g) for g in grad_out])))
        _run(model, x, framework, input_requires_grad)
        seen[framework] = log
    assert [entry[:2] for entry in seen[minicnn]] == [entry[:2] for entry in seen[torch]]
    for ours_entry, torch_entry in zip(seen[minicnn], seen[torch]):
        _assert_close_lists(ours_entry[2], torch_entry[2])


def test_full_backward_hooks_replace_grad_output_and_grad_input_as_torchs_do():
    torch = import_torch()
    ours, theirs, x = _pair(torch)
    grads = {}
    for framework, model in ((minicnn, ours), (torch, theirs)):
        model[3].register_full_backward_pre_hook(lambda m, grad_out: (grad_out[0] * 0.5,))
        model[1].register_full_backward_hook(lambda m, grad_in, grad_out: (grad_in[0] * -2,))
        inputs, _ = _run(model, x, framework)
        grads[framework] = [_as_numpy(inputs.grad)] + [_as_numpy(p.grad) for p in model.parameters()]
    _assert_close_lists(grads[minicnn], grads[torch])


def test_removed_module_hooks_no_longer_run():
    layer = nn.ReLU()
    calls = []
    handles = [layer.register_forward_pre_hook(lambda m, a: calls.append("pre")),
               layer.register_forward_hook(lambda m, a, o: calls.append("fwd")),
               layer.register_full_backward_pre_hook(lambda m, g: calls.append("bpre")),
               layer.register_full_backward_hook(lambda m, gi, go: calls.append("bwd"))]
    layer(minicnn.ones(2, requires_grad=True)).sum().backward()
    assert calls == ["pre", "fwd", "bpre", "bwd"]
    for handle in handles:
        handle.remove()
    layer(minicnn.ones(2, requires_grad=True)).sum().backward()
    assert calls == ["pre", "fwd", "bpre", "bwd"]


def test_module_hook_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        nn.ReLU().register_forward_hook(3)


def test_backward_called_on_a_leaf_runs_its_hooks_like_torch():
    torch = import_torch()
    for framework in (minicnn, torch):
        leaf = framework.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        leaf.register_hook(lambda grad: grad * 3)
        leaf.register_post_accumulate_grad_hook(lambda tensor: seen.append(_as_numpy(tensor.grad).copy()))
        leaf.backward(framework.tensor([1.0, 1.0]))
        np.testing.assert_allclose(seen[0], [3.0, 3.0])


def test_hooks_fire_on_every_backward_of_a_retained_graph():
    a = minicnn.tensor([2.0], requires_grad=True)
    b = a * a
    calls = []
    b.register_hook(lambda grad: calls.append(1))
    b.backward(retain_graph=True)
    b.backward()
    assert calls == [1, 1]
    np.testing.assert_allclose(host(a.grad), [8.0])
