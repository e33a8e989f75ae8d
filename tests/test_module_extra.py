"""nn.Module's remaining torch interface: lookups by path, dtype casts, state_dict options, BatchNorm's counter."""
import numpy as np
import pytest

import minicnn

from helpers import import_torch


def small_net(library):
    net = library.nn.Sequential(library.nn.Conv2d(1, 2, 3), library.nn.BatchNorm2d(2), library.nn.ReLU())
    net.add_module("head", library.nn.Linear(2, 3))
    net.register_module("extra", library.nn.Identity())
    return net


def test_path_lookups_and_registration_match_torch():
    torch = import_torch()
    ours, theirs = small_net(minicnn), small_net(torch)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert ours.get_parameter("head.weight") is ours.head.weight
    assert ours.get_submodule("1") is ours[1] and ours.get_buffer("1.running_mean") is ours[1].running_mean
    for lookup in (lambda n: n.get_parameter("1.running_mean"), lambda n: n.get_parameter("head.nothing"),
                   lambda n: n.get_submodule("missing")):
        with pytest.raises(AttributeError):
            lookup(theirs)
        with pytest.raises(AttributeError):
            lookup(ours)


def test_dtype_casts_and_type_and_share_memory():
    net = small_net(minicnn)
    assert net.double()[0].weight.dtype == np.float64 and net[1].num_batches_tracked.dtype == np.int64
    assert net.half()[0].weight.dtype == np.float16 and net.float()[0].weight.dtype == np.float32
    assert net.to(minicnn.float64).head.bias.dtype == np.float64
    net.type(np.float32)
    assert net[1].num_batches_tracked.dtype == np.float32  # type() casts every tensor, as torch
    assert net.share_memory() is net


def test_train_mode_and_requires_grad_propagate():
    net = small_net(minicnn)
    assert net.train(False) is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError):
        net.train("yes")
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_state_dict_prefix_and_keep_vars():
    net = small_net(minicnn)
    prefixed = net.state_dict(prefix="model.")
    assert all(k.startswith("model.") for k in prefixed) and "model.1.num_batches_tracked" in prefixed
    kept = net.state_dict(keep_vars=True)
    assert kept["head.weight"] is net.head.weight
    detached = net.state_dict()["head.weight"]  # as torch: a Tensor on the parameter's memory, outside the graph
    assert isinstance(detached, minicnn.Tensor) and detached is not net.head.weight and not detached.requires_grad
    assert np.shares_memory(detached.array, net.head.weight.array)


def test_load_state_dict_reports_missing_and_unexpected_keys_like_torch():
    torch = import_torch()
    results = []
    for library in (minicnn, torch):
        net = small_net(library)
        state = dict(net.state_dict())
        del state["head.bias"]
        state["surprise"] = state["head.weight"]
        result = net.load_state_dict(state, strict=False)
        results.append((list(result.missing_keys), list(result.unexpected_keys)))
        with pytest.raises(RuntimeError, match="head.bias"):
            net.load_state_dict(state)
    assert results[0] == results[1] == (["head.bias"], ["surprise"])


def test_batchnorm_loads_a_checkpoint_without_num_batches_tracked():
    torch = import_torch()
    for library in (minicnn, torch):
        net = small_net(library)
        state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
        result = net.load_state_dict(state)
        assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
