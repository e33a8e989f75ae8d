"""Tensor.register_post_accumulate_grad_hook and the end-of-backward callback, against torch."""
import pytest

import minicnn
from minicnn.autograd import queue_callback
from helpers import import_torch


def record_hooks(lib, tensor_fn):
    a = tensor_fn([1.0, 2.0], requires_grad=True)
    b = tensor_fn([3.0, 4.0], requires_grad=True)
    unused = tensor_fn([5.0], requires_grad=True)
    seen = []
    for name, leaf in (("a", a), ("b", b), ("unused", unused)):
        leaf.register_post_accumulate_grad_hook(lambda t, name=name: seen.append((name, t.grad.tolist())))
    # a is used three times: its hook must run once, after the last contribution
    ((a * b).sum() + (a * a).sum() + (a * 0 + b).sum()).backward()
    return seen


def test_hook_runs_once_per_leaf_after_its_last_contribution_as_torch():
    torch = import_torch()
    ours = record_hooks(minicnn, minicnn.tensor)
    theirs = record_hooks(torch, torch.tensor)
    assert sorted(ours) == sorted(theirs)
    assert len(ours) == 2  # the unused leaf got no gradient: no hook


def test_removed_hook_does_not_run():
    a = minicnn.tensor([1.0], requires_grad=True)
    calls = []
    handle = a.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    handle.remove()
    (a * 2).sum().backward()
    assert calls == []


def test_hook_on_a_non_leaf_is_refused():
    a = minicnn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (a * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_queued_callback_runs_after_every_hook():
    a = minicnn.tensor([1.0], requires_grad=True)
    b = minicnn.tensor([2.0], requires_grad=True)
    order = []

    def hook(tensor):
        order.append("hook")
        if len(order) == 1:
            queue_callback(lambda: order.append("end"))

    a.register_post_accumulate_grad_hook(hook)
    b.register_post_accumulate_grad_hook(hook)
    (a * b).sum().backward()
    assert order == ["hook", "hook", "end"]


def test_queue_callback_outside_backward_raises():
    with pytest.raises(RuntimeError, match="during the backward pass"):
        queue_callback(lambda: None)
