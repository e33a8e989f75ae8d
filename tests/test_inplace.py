"""In-place operations and ``.data`` as torch has them: values, the guard on leaves that require grad,
gradients through in-place ops inside the graph, and the version counter that refuses a backward
whose saved values were changed."""
import numpy as np
import pytest

import minicnn
from helpers import host, import_torch, rel_error

INPLACE = [
    pytest.param(lambda t, o: t.add_(o), id="add_"),
    pytest.param(lambda t, o: t.add_(o, alpha=0.5), id="add_alpha"),
    pytest.param(lambda t, o: t.sub_(o), id="sub_"),
    pytest.param(lambda t, o: t.mul_(o), id="mul_"),
    pytest.param(lambda t, o: t.div_(o), id="div_"),
    pytest.param(lambda t, o: t.add_(2.0), id="add_scalar"),
    pytest.param(lambda t, o: t.mul_(-3), id="mul_scalar"),
    pytest.param(lambda t, o: t.pow_(2), id="pow_"),
    pytest.param(lambda t, o: t.clamp_(-0.3, 0.4), id="clamp_"),
    pytest.param(lambda t, o: t.clamp_(min=0.1), id="clamp_min"),
    pytest.param(lambda t, o: t.exp_(), id="exp_"),
    pytest.param(lambda t, o: t.abs_(), id="abs_"),
    pytest.param(lambda t, o: t.neg_(), id="neg_"),
    pytest.param(lambda t, o: t.fill_(1.5), id="fill_"),
    pytest.param(lambda t, o: t.zero_(), id="zero_"),
    pytest.param(lambda t, o: t.copy_(o), id="copy_"),
    pytest.param(lambda t, o: t.copy_(o[0]), id="copy_broadcast"),
    pytest.param(lambda t, o: t.__iadd__(o), id="iadd"),
    pytest.param(lambda t, o: t.__isub__(o), id="isub"),
    pytest.param(lambda t, o: t.__imul__(o), id="imul"),
    pytest.param(lambda t, o: t.__itruediv__(o), id="itruediv"),
]


def _pair(device, shape=(3, 4), seed=0):
    generator = np.random.default_rng(seed)
    a, b = generator.standard_normal(shape), generator.uniform(0.5, 2.0, shape)
    return a, b


@pytest.mark.parametrize("op", INPLACE)
def test_inplace_op_writes_the_same_values_as_torch_into_the_same_memory(device, op):
    torch = import_torch()
    a, b = _pair(device)
    ours, other = minicnn.tensor(a, device=device), minicnn.tensor(b, device=device)
    alias = ours.view(-1)  # shares the memory: sees the change
    memory = ours.array
    result = op(ours, other)
    expected = op(torch.tensor(a), torch.tensor(b))
    assert result is ours and ours.array is memory and ours._version == 1 and alias._version == 1
    assert rel_error(host(ours), expected.numpy()) < 1e-15
    np.testing.assert_array_equal(host(alias), host(ours).reshape(-1))


@pytest.mark.parametrize("op", INPLACE)
def test_inplace_op_inside_the_graph_gives_torchs_gradients(device, op):
    torch = import_torch()
    a, b = _pair(device, seed=1)
    upstream = np.random.default_rng(2).standard_normal(a.shape)
    results = []
    for module, make in ((minicnn, lambda v: minicnn.tensor(v, device=device, requires_grad=True)),
                         (torch, lambda v: torch.tensor(v, requires_grad=True))):
        x, other = make(a), make(b)
        h = x * 1.5  # a non-leaf: in-place ops on it are recorded
        out = op(h, other) * 2.0
        out.backward(module.tensor(upstream) if module is torch else minicnn.tensor(upstream, device=device))
        results.append((host(out.detach()) if module is minicnn else out.detach().numpy(),
                        host(x.grad) if module is minicnn else x.grad.numpy(),
                        None if other.grad is None else (host(other.grad) if module is minicnn else other.grad.numpy())))
    (out_ours, gx_ours, go_ours), (out_theirs, gx_theirs, go_theirs) = results
    assert rel_error(out_ours, out_theirs) < 1e-14 and rel_error(gx_ours, gx_theirs) < 1e-14
    assert (go_ours is None) == (go_theirs is None) or not np.any(go_theirs)
    if go_theirs is not None and go_ours is not None:
        assert rel_error(go_ours, go_theirs) < 1e-14


@pytest.mark.parametrize("op", INPLACE)
def test_inplace_op_inside_the_graph_passes_gradcheck(device, op):
    a, b = _pair(device, seed=3)
    x = minicnn.tensor(a, device=device, requires_grad=True)
    other = minicnn.tensor(b, device=device, requires_grad=True)
    assert minicnn.gradcheck(lambda x, o: op(x * 1.0, o), [x, other])


@pytest.mark.parametrize("op", INPLACE)
def test_inplace_op_on_a_leaf_that_requires_grad_raises_as_torch_unless_in_no_grad(device, op):
    torch = import_torch()
    a, b = _pair(device)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        op(torch.tensor(a, requires_grad=True), torch.tensor(b))
    leaf = minicnn.tensor(a, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an in-place operation"):
        op(leaf, minicnn.tensor(b, device=device))
    assert leaf._version == 0 and np.array_equal(host(leaf), a)
    with minicnn.no_grad():
        op(leaf, minicnn.tensor(b, device=device))
    assert leaf.requires_grad and leaf.is_leaf and leaf._version == 1


def test_changing_a_value_that_backward_needs_raises_torchs_error(device):
    torch = import_torch()
    for module, make in ((torch, torch.tensor), (minicnn, lambda v, **k: minicnn.tensor(v, device=device, **k))):
        w = make([1.0, 2.0, 3.0], requires_grad=True)
        y = (w * 2).exp()  # exp saves its output
        loss = (y * w).sum()  # mul saves y and w
        y.add_(1)
        with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been "
                                               "modified by an inplace operation"):
            loss.backward()


def test_a_change_through_a_view_or_detach_is_seen_and_through_data_is_not(device):
    torch = import_torch()
    for module, make in ((torch, torch.tensor), (minicnn, lambda v, **k: minicnn.tensor(v, device=device, **k))):
        w = make([1.0, 2.0, 3.0], requires_grad=True)
        loss = (w * w).sum()
        with module.no_grad():
            w.view(3)[0] = 5.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()
        w2 = make([1.0, 2.0], requires_grad=True)
        loss2 = (w2 * w2).sum()
        w2.detach().zero_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss2.backward()
        w3 = make([1.0, 2.0], requires_grad=True)
        loss3 = (w3 * w3).sum()
        w3.data.mul_(10.0)  # invisible to autograd, as in torch: the gradient uses the new values
        loss3.backward()
        assert w3.grad.tolist() == [20.0, 40.0]


def test_ops_that_save_nothing_tolerate_later_inplace_changes_as_torch(device):
    x = minicnn.tensor([1.0, 2.0], device=device, requires_grad=True)
    h = x * 3.0
    out = (h + 1.0).sum()  # add saves nothing
    with minicnn.no_grad():
        h.add_(5.0)
    out.backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_manual_sgd_update_keeps_the_leaf_and_its_grad(device):
    """The autograd tutorial's update: ``with no_grad(): w -= lr * w.grad`` then ``w.grad.zero_()``."""
    w = minicnn.tensor([1.0, -2.0], device=device, requires_grad=True)
    (w * w).sum().backward()
    memory = w.array
    with minicnn.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad and w.array is memory
    assert w.tolist() == pytest.approx([0.8, -1.6])
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]


def test_data_is_a_detached_tensor_sharing_memory_and_its_setter_replaces_values(device):
    w = minicnn.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    data = w.data
    assert isinstance(data, minicnn.Tensor) and not data.requires_grad and data.is_leaf and data.grad_fn is None
    assert data.array is w.array  # the very same memory
    data.sub_(minicnn.tensor([1.0, 1.0, 1.0], device=device))  # the tutorial's f.data.sub_(lr * f.grad.data)
    assert w.tolist() == [0.0, 1.0, 2.0] and w._version == 0 and data._version == 1
    w.data = minicnn.tensor([7.0, 8.0], device=device)  # torch lets a leaf's data be replaced, shape too
    assert w.tolist() == [7.0, 8.0] and w.requires_grad
    y = w * 2.0
    with pytest.raises(RuntimeError, match="shape"):
        y.data = minicnn.tensor([1.0], device=device)


def test_inplace_float_into_integer_tensor_raises_as_torch(device):
    torch = import_torch()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).add_(0.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        minicnn.tensor([1, 2], device=device).add_(0.5)


def test_random_fills_are_seeded_and_have_the_right_moments(device):
    minicnn.manual_seed(4)
    first = minicnn.empty(20000, device=device).normal_(1.0, 2.0)
    minicnn.manual_seed(4)
    second = minicnn.empty(20000, device=device).normal_(1.0, 2.0)
    assert first.tolist() == second.tolist()
    assert abs(first.mean().item() - 1.0) < 0.05 and abs(first.std().item() - 2.0) < 0.05
    uniform = minicnn.empty(20000, device=device).uniform_(-1.0, 3.0)
    assert -1.0 <= uniform.min().item() and uniform.max().item() < 3.0 and abs(uniform.mean().item() - 1.0) < 0.05


def test_requires_grad_flags_follow_torchs_rules(device):
    torch = import_torch()
    x = minicnn.tensor([1.0], device=device)
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError):
        (torch.tensor([1.0], requires_grad=True) * 2).requires_grad_(False)


@pytest.mark.parametrize("index, value", [
    (0, 2.5), ((slice(None), 1), -1.0), ((slice(0, 2), slice(1, 3)), "tensor"), ("mask", 0.0),
], ids=["row_scalar", "column", "block_tensor", "mask"])
def test_setitem_matches_torch_in_values_and_gradients(device, index, value):
    torch = import_torch()
    a = np.random.default_rng(5).standard_normal((3, 4))
    block = np.array([[10.0, 20.0], [30.0, 40.0]])
    outcomes = []
    for module in (minicnn, torch):
        make = (lambda v, **k: minicnn.tensor(v, device=device, **k)) if module is minicnn else torch.tensor
        x = make(a, requires_grad=True)
        v = make(block, requires_grad=True) if value == "tensor" else value
        where = (x.detach() > 0) if index == "mask" else index
        h = x * 2.0
        h[where] = v
        (h * h).sum().backward()
        outcomes.append([host(t) if module is minicnn else t.detach().numpy()
                         for t in (h, x.grad) + ((v.grad,) if value == "tensor" else ())])
    for ours, theirs in zip(*outcomes):
        assert rel_error(ours, theirs) < 1e-14


def test_setitem_on_a_leaf_that_requires_grad_raises_and_works_in_no_grad(device):
    x = minicnn.zeros(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[0] = 1.0
    with minicnn.no_grad():
        x[1] = 2.0
    assert x.tolist() == [0.0, 2.0, 0.0] and x._version == 1
