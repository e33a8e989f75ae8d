"""``minicnn.`` mirrors ``torch.`` for the functions tutorials call, and the autograd entry points
(``backward(gradient=)``, ``grad_fn.next_functions``, ``grad_fn.name()``) take torch's spellings."""
import numpy as np
import pytest

import minicnn
from helpers import host, import_torch, rel_error

CALLS = [
    pytest.param(lambda m, x, y: m.max(x, 1)[0], id="max_dim"),
    pytest.param(lambda m, x, y: m.max(x, 1).indices, id="max_indices"),
    pytest.param(lambda m, x, y: m.max(x), id="max_all"),
    pytest.param(lambda m, x, y: m.max(x, y), id="max_elementwise"),
    pytest.param(lambda m, x, y: m.min(x, dim=0, keepdim=True).values, id="min_dim"),
    pytest.param(lambda m, x, y: m.sum(x), id="sum"),
    pytest.param(lambda m, x, y: m.sum(x, 1, keepdim=True), id="sum_dim"),
    pytest.param(lambda m, x, y: m.sum(x, dim=(0, 1)), id="sum_dims"),
    pytest.param(lambda m, x, y: m.mean(x, 0), id="mean"),
    pytest.param(lambda m, x, y: m.eq(x, y), id="eq"),
    pytest.param(lambda m, x, y: m.ne(x, 0.5), id="ne"),
    pytest.param(lambda m, x, y: m.gt(x, y), id="gt"),
    pytest.param(lambda m, x, y: m.argmax(x, 1), id="argmax"),
    pytest.param(lambda m, x, y: m.argmin(x), id="argmin"),
    pytest.param(lambda m, x, y: m.softmax(x, 1), id="softmax"),
    pytest.param(lambda m, x, y: m.log_softmax(x, dim=0), id="log_softmax"),
    pytest.param(lambda m, x, y: m.squeeze(m.unsqueeze(x, 0)), id="squeeze_unsqueeze"),
    pytest.param(lambda m, x, y: m.unsqueeze(x, -1), id="unsqueeze"),
    pytest.param(lambda m, x, y: m.add(x, y, alpha=2), id="add_alpha"),
    pytest.param(lambda m, x, y: m.sub(x, 1.0), id="sub"),
    pytest.param(lambda m, x, y: m.mul(x, y), id="mul"),
    pytest.param(lambda m, x, y: m.div(x, 2), id="div"),
    pytest.param(lambda m, x, y: m.matmul(x, y.t()), id="matmul"),
    pytest.param(lambda m, x, y: m.mm(x, m.t(y)), id="mm"),
    pytest.param(lambda m, x, y: m.exp(x), id="exp"),
    pytest.param(lambda m, x, y: m.log(m.abs(x)), id="log_abs"),
    pytest.param(lambda m, x, y: m.sqrt(m.abs(x)), id="sqrt"),
    pytest.param(lambda m, x, y: m.pow(x, 2), id="pow"),
    pytest.param(lambda m, x, y: m.clamp(x, -0.5, 0.5), id="clamp"),
    pytest.param(lambda m, x, y: m.sign(x), id="sign"),
    pytest.param(lambda m, x, y: m.sin(x) + m.cos(y), id="sin_cos"),
    pytest.param(lambda m, x, y: m.relu(x), id="relu"),
    pytest.param(lambda m, x, y: m.sigmoid(x) * m.tanh(y), id="sigmoid_tanh"),
    pytest.param(lambda m, x, y: m.flatten(x), id="flatten"),
    pytest.param(lambda m, x, y: m.reshape(x, (-1,)), id="reshape"),
    pytest.param(lambda m, x, y: m.transpose(x, 0, 1), id="transpose"),
    pytest.param(lambda m, x, y: m.permute(x, (1, 0)), id="permute"),
    pytest.param(lambda m, x, y: m.cat(m.chunk(x, 2, 1), 0), id="cat_chunk"),
    pytest.param(lambda m, x, y: m.stack(m.split(x, 1, 0)), id="stack_split"),
    pytest.param(lambda m, x, y: m.sort(x, 1)[0], id="sort"),
    pytest.param(lambda m, x, y: m.topk(x, 2)[0], id="topk"),
    pytest.param(lambda m, x, y: m.std(x, 1), id="std"),
    pytest.param(lambda m, x, y: m.var(x), id="var"),
    pytest.param(lambda m, x, y: m.norm(x), id="norm"),
    pytest.param(lambda m, x, y: m.prod(x, 1), id="prod"),
    pytest.param(lambda m, x, y: m.cumsum(x, 0), id="cumsum"),
    pytest.param(lambda m, x, y: m.where(x > 0, x, y), id="where"),
    pytest.param(lambda m, x, y: m.isnan(x), id="isnan"),
    pytest.param(lambda m, x, y: m.clone(x), id="clone"),
]


@pytest.mark.parametrize("call", CALLS)
def test_namespace_function_matches_torch(device, call):
    torch = import_torch()
    generator = np.random.default_rng(0)
    a, b = generator.standard_normal((3, 4)), generator.standard_normal((3, 4))
    b[0, 0] = a[0, 0]  # one equal pair for eq
    ours = call(minicnn, minicnn.tensor(a, device=device), minicnn.tensor(b, device=device))
    theirs = call(torch, torch.tensor(a), torch.tensor(b))
    assert isinstance(ours, minicnn.Tensor) and tuple(ours.shape) == tuple(theirs.shape)
    assert str(theirs.dtype) == f"torch.{ours.dtype}"
    assert rel_error(host(ours), theirs.numpy()) < 1e-14


def test_out_argument_writes_into_the_given_tensor(device):
    torch = import_torch()
    x, y = minicnn.tensor([1.0, 2.0], device=device), minicnn.tensor([3.0, 4.0], device=device)
    out = minicnn.empty(2, device=device)
    assert minicnn.add(x, y, out=out) is out and out.tolist() == [4.0, 6.0] and out._version == 1
    resized = minicnn.empty(0, device=device)
    minicnn.mul(x, y, out=resized)
    assert resized.tolist() == torch.mul(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])).tolist()
    w = minicnn.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
        minicnn.add(w, y, out=out)
    with pytest.raises(RuntimeError):
        torch.add(torch.tensor([1.0], requires_grad=True), 1.0, out=torch.empty(1))


def test_namespace_helpers(device):
    torch = import_torch()
    x = minicnn.zeros(2, 3, device=device)
    assert minicnn.is_tensor(x) and not minicnn.is_tensor(np.zeros(2)) and torch.is_tensor(torch.zeros(1))
    assert minicnn.numel(x) == 6 == torch.numel(torch.zeros(2, 3))
    minicnn.manual_seed(3)
    first = minicnn.randperm(10, device=device)
    minicnn.manual_seed(3)
    assert first.tolist() == minicnn.randperm(10, device=device).tolist()
    assert sorted(first.tolist()) == list(range(10)) and first.dtype == np.int64
    assert minicnn.randn_like(x).shape == (2, 3) and minicnn.randn_like(x).device == device
    assert minicnn.linspace(0, 1, 5).tolist() == torch.linspace(0, 1, 5).tolist()
    assert minicnn.eye(2).tolist() == torch.eye(2).tolist()
    assert minicnn.arange(5).dtype == np.int64 and minicnn.full((2,), 3).dtype == np.int64
    assert minicnn.full((2,), 3.0).dtype == np.float32 and minicnn.full((1,), True).dtype == np.bool_


def test_dtype_aliases_are_torchs():
    assert minicnn.float == minicnn.float32 and minicnn.double == minicnn.float64 and minicnn.half == np.float16
    assert minicnn.long == minicnn.int64 and minicnn.int == minicnn.int32 and minicnn.bool == np.bool_
    assert isinstance(1.5, float)  # the builtins are untouched outside the minicnn namespace


def test_set_grad_enabled_works_as_a_context_manager_and_a_decorator(device):
    x = minicnn.tensor([1.0], device=device, requires_grad=True)
    with minicnn.set_grad_enabled(False):
        assert not (x * 2).requires_grad and not minicnn.is_grad_enabled()
    assert (x * 2).requires_grad

    @minicnn.set_grad_enabled(False)
    def inference(t):
        return t * 2

    assert not inference(x).requires_grad


def test_default_dtype_changes_what_floats_become(device):
    torch = import_torch()
    assert minicnn.get_default_dtype() == minicnn.float32
    minicnn.set_default_dtype(minicnn.float64)
    try:
        for make in (lambda m: m.tensor([1.5]), lambda m: m.zeros(2), lambda m: m.randn(2), lambda m: m.arange(0.0, 1.0),
                     lambda m: m.full((1,), 2.0), lambda m: m.linspace(0, 1, 3)):
            assert make(minicnn).dtype == np.float64
        assert minicnn.tensor([1]).dtype == np.int64
    finally:
        minicnn.set_default_dtype(minicnn.float32)
    assert minicnn.tensor([1.5]).dtype == np.float32 and str(torch.get_default_dtype()) == "torch.float32"
    with pytest.raises(TypeError):
        minicnn.set_default_dtype(minicnn.int64)


def test_backward_takes_torchs_gradient_keyword(device):
    torch = import_torch()
    for module, make in ((torch, torch.tensor), (minicnn, lambda v, **k: minicnn.tensor(v, device=device, **k))):
        x = make([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.backward(gradient=make([1.0, 0.5]), retain_graph=True)
        y.backward(make([1.0, 1.0]))
        assert x.grad.tolist() == [6.0, 4.5]
    with pytest.raises(NotImplementedError, match="create_graph"):
        (minicnn.tensor([1.0], requires_grad=True) * 2).sum().backward(create_graph=True)


def test_grad_fn_next_functions_and_name_walk_the_graph(device):
    torch = import_torch()
    descriptions = []
    for module, make in ((torch, torch.tensor), (minicnn, lambda v, **k: minicnn.tensor(v, device=device, **k))):
        w = make([1.0, 2.0], requires_grad=True)
        c = make([3.0, 4.0])
        loss = ((w * c).exp()).sum()
        node = loss.grad_fn
        chain = [node.name()]
        while node.next_functions:
            (node, _), *rest = node.next_functions
            chain.append(node.name().split("::")[-1])  # torch's is "torch::autograd::AccumulateGrad"
            if rest:
                assert rest[0][0] is None and rest[0][1] == 0  # c does not require grad
        assert node.variable is w
        descriptions.append(chain)
    assert descriptions[0] == descriptions[1] == ["SumBackward0", "ExpBackward0", "MulBackward0", "AccumulateGrad"]
    assert repr(minicnn.tensor([1.0], requires_grad=True).exp()).endswith("grad_fn=<ExpBackward0>)")
