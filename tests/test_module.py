"""nn.Module: registration by attribute, tree walking, modes, devices/dtypes, state_dict, repr."""
from collections import OrderedDict

import numpy as np
import pytest

import minicnn
from minicnn import nn
from helpers import host, import_torch


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.scale = nn.Parameter(minicnn.ones(3))
        self.register_buffer("step_count", minicnn.zeros(1))
        self.register_buffer("scratch", minicnn.zeros(2), persistent=False)
        self.plain_number = 7

    def forward(self, x):
        return self.bn(self.conv(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(Block(), nn.ReLU())
        self.head = nn.Linear(3, 2)


def test_attributes_register_parameters_buffers_and_children():
    block = Block()
    assert list(block._parameters) == ["scale"]
    assert list(block._buffers) == ["step_count", "scratch"]
    assert list(block._modules) == ["conv", "bn"]
    assert "plain_number" in block.__dict__ and block.plain_number == 7
    assert block.scale is block._parameters["scale"]
    # Reassigning a registered name keeps it in its registry; None is allowed.
    block.scale = None
    assert block._parameters["scale"] is None
    with pytest.raises(TypeError, match="scale"):
        block.scale = minicnn.ones(3)  # a plain Tensor is not a Parameter
    with pytest.raises(TypeError, match="conv"):
        block.conv = 3
    # A name moves registry when a different kind of value is assigned.
    block.bn = nn.Parameter(minicnn.ones(1))
    assert "bn" in block._parameters and "bn" not in block._modules
    del block.bn
    assert "bn" not in block._parameters
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'missing'"):
        block.missing


def test_registration_before_init_and_bad_names_are_refused():
    class Early(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(minicnn.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    module = nn.Module()
    with pytest.raises(KeyError):
        module.register_buffer("a.b", minicnn.zeros(1))
    with pytest.raises(TypeError):
        module.register_buffer("b", np.zeros(1))


def test_tree_walks_match_torch_names():
    torch = import_torch()

    class TorchBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(2, 3, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(3)
            self.scale = torch.nn.Parameter(torch.ones(3))
            self.register_buffer("step_count", torch.zeros(1))
            self.register_buffer("scratch", torch.zeros(2), persistent=False)

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer1 = torch.nn.Sequential(TorchBlock(), torch.nn.ReLU())
            self.head = torch.nn.Linear(3, 2)

    ours, theirs = Net(), TorchNet()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert [n for n, _ in ours.named_parameters(recurse=False)] == []


def test_shared_parameters_are_listed_once_but_saved_under_each_name():
    linear = nn.Linear(2, 2)
    model = nn.Sequential(linear, nn.ReLU(), linear)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_train_eval_and_apply_reach_every_module():
    model = Net()
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    visited = []
    assert model.apply(lambda m: visited.append(type(m).__name__)) is model
    assert visited[-1] == "Net" and visited.count("Conv2d") == 1 and len(visited) == len(list(model.modules()))


def test_zero_grad_and_requires_grad(device):
    model = nn.Linear(3, 2).to(device)
    x = minicnn.randn(4, 3, device=device)
    model(x).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    assert np.all(host(model.weight.grad) == 0)
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    out = model(x)
    assert not out.requires_grad


def test_to_moves_in_place_keeping_parameter_objects(device):
    model = Net()
    params_before = list(model.parameters())
    assert model.to(device) is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params_before]
    assert all(p.device == device for p in model.parameters())
    assert all(b.device == device for b in model.buffers())
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    bn = model.layer1[0].bn
    assert bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64  # counters are not cast
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    model.to(device, minicnn.float64)
    assert model.head.weight.dtype == np.float64 and model.head.weight.device == device
    with pytest.raises(ValueError):
        model.to("tpu")


def test_to_moves_gradients_too(device):
    model = nn.Linear(2, 2)
    model(minicnn.randn(3, 2)).sum().backward()
    model.to(device).double()
    assert model.weight.grad.device == device and model.weight.grad.dtype == np.float64


def test_state_dict_holds_detached_tensors_sharing_memory_with_parameters_and_persistent_buffers(device):
    model = Net().to(device)
    state = model.state_dict()
    assert isinstance(state, OrderedDict)
    assert "layer1.0.scratch" not in state  # non-persistent
    assert "layer1.0.bn.num_batches_tracked" in state and state["layer1.0.bn.num_batches_tracked"].dtype == np.int64
    assert all(isinstance(v, minicnn.Tensor) and not v.requires_grad and v.is_leaf for v in state.values())
    weight = state["head.weight"]
    assert weight.device == device and weight.numel() == model.head.weight.numel()
    np.testing.assert_array_equal(host(weight), host(model.head.weight))
    weight.add_(1)  # shares memory, as torch's state_dict: the model sees it
    np.testing.assert_array_equal(host(weight), host(model.head.weight))
    snapshot = model.state_dict()["head.bias"].clone()
    with minicnn.no_grad():
        model.head.bias.add_(1)
    assert not np.array_equal(host(snapshot), host(model.head.bias))
    kept = model.state_dict(keep_vars=True)
    assert kept["head.weight"] is model.head.weight


def test_load_state_dict_copies_in_place_casting_dtype_and_keeping_device(device):
    source, target = Net(), Net().to(device)
    params_before = [id(p) for p in target.parameters()]
    state = {k: v.double() if v.dtype.kind == "f" else v for k, v in source.state_dict().items()}
    result = target.load_state_dict(state)
    assert result == ([], []) and result.missing_keys == []
    assert [id(p) for p in target.parameters()] == params_before
    assert target.head.weight.device == device and target.head.weight.dtype == np.float32
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(host(target.state_dict()[key]), host(value))


def test_load_state_dict_accepts_tensors_and_torch_tensors():
    torch = import_torch()
    theirs = torch.nn.Linear(4, 3)
    ours = nn.Linear(4, 3)
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(host(ours.weight), theirs.weight.detach().numpy())
    other = nn.Linear(4, 3)
    other.load_state_dict({"weight": ours.weight, "bias": ours.bias})
    np.testing.assert_array_equal(host(other.bias), host(ours.bias))


def test_load_state_dict_reports_missing_unexpected_and_shape_mismatch():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    state = model.state_dict()
    del state["1.running_var"]
    state["extra.weight"] = np.zeros(2)
    state["0.weight"] = np.zeros((2, 4))
    with pytest.raises(nn.StateDictError) as caught:
        model.load_state_dict(state)
    message = str(caught.value)
    assert 'Missing key(s) in state_dict: "1.running_var"' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in message
    assert "size mismatch for 0.weight: expected shape (3, 4)" in message and "got shape (2, 4)" in message
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, RuntimeError)
    # Shape mismatches are errors even when not strict; missing/unexpected keys are returned.
    with pytest.raises(nn.StateDictError, match="size mismatch"):
        model.load_state_dict(state, strict=False)
    state["0.weight"] = np.ones((3, 4))
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["1.running_var"] and unexpected == ["extra.weight"]
    assert np.all(host(model[0].weight) == 1)


def test_sequential_indexing_slicing_and_append():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    assert len(model) == 4 and model[0] is layers[0] and model[-1] is layers[3]
    assert list(model) == layers
    tail = model[1:3]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]
    with pytest.raises(IndexError):
        model[4]
    model.append(nn.Tanh())
    assert list(model._modules)[-1] == "4"
    del model[0]
    assert list(model._modules) == ["0", "1", "2", "3"] and model[0] is layers[1]
    named = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["conv.weight", "conv.bias"]
    out = nn.Sequential(nn.Linear(2, 3), nn.ReLU())(minicnn.randn(5, 2))
    assert out.shape == (5, 3)


def test_module_list_registers_its_modules():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    blocks.append(nn.ReLU())
    assert len(blocks) == 4 and len(list(blocks.parameters())) == 6
    assert isinstance(blocks[1:], nn.ModuleList) and len(blocks[1:]) == 3
    assert blocks[-1].__class__ is nn.ReLU


def test_repr_matches_torch_for_nested_models():
    torch = import_torch()

    def build(lib):
        features = lib.nn.Sequential(
            lib.nn.Conv2d(3, 16, 5), lib.nn.BatchNorm2d(16), lib.nn.ReLU(inplace=True), lib.nn.MaxPool2d(2, 2),
            lib.nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), lib.nn.AdaptiveAvgPool2d((1, 1)),
        )
        classifier = lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Dropout(0.2), lib.nn.Linear(32, 10))
        return lib.nn.Sequential(OrderedDict([("features", features), ("classifier", classifier)]))

    assert repr(build(minicnn)) == repr(build(torch))
    assert repr(nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Linear(2, 3)])) == repr(
        torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Linear(2, 3)]))
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())


def test_parameter_is_a_tensor_requiring_grad():
    param = nn.Parameter(minicnn.ones(2))
    assert isinstance(param, minicnn.Tensor) and param.requires_grad
    assert repr(param).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(minicnn.ones(2), requires_grad=False).requires_grad
