"""The backward walk: from a root node, every Function node in reverse topological order, each handed
the gradient of its output, its input gradients routed onward and summed into the leaves' ``.grad``;
and the callbacks queued to run when a backward ends (``queue_callback``).

The walk uses an explicit stack, no recursion, so graphs of any depth work. ``minicnn.autograd``
installs its Tensor class here (``install``), which the leaves' gradients are made of.
"""
from __future__ import annotations

import contextlib
import threading

from . import anomaly as _anomaly
from . import hooks as _hooks

Tensor = None  # minicnn.autograd.Tensor, set by install()


def install(tensor_class) -> None:
    """Make leaf gradients instances of ``tensor_class`` (called once by ``minicnn.autograd``)."""
    global Tensor
    Tensor = tensor_class


def _accumulate_leaf_grad(leaf, grad) -> None:
    if leaf.grad is None:
        leaf.grad = Tensor._wrap(grad)
    else:
        # Out of place: ``grad`` may be the very array another leaf holds (e.g. both inputs of an add).
        leaf.grad = Tensor._wrap(leaf.grad.array + grad)


def topological_order(root) -> list:
    """Function nodes reachable from ``root``, each after every node it consumes (iterative DFS)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for tensor in node.inputs:
            if tensor is not None and tensor._ctx is not None and id(tensor._ctx) not in visited:
                stack.append((tensor._ctx, False))
    return order


def run_backward(root, grad, retain_graph: bool = False, profiler=None) -> None:
    """Propagate ``grad`` (d loss / d root's output) to every leaf below ``root``; an active
    ``minicnn.profiler.profile`` given as ``profiler`` times each node's backward."""
    with _final_callbacks():
        _walk_backward(root, grad, retain_graph, profiler)


def _walk_backward(root, grad, retain_graph: bool, profiler) -> None:
    pending = {id(root): grad}  # node -> gradient of its output, summed over all its consumers
    order = topological_order(root)
    hooked = _hooks.LeafGradients(order) if _hooks.in_use() else None  # None: no hook anywhere
    for node in reversed(order):
        grad_output = pending.pop(id(node), None)
        if grad_output is None:
            continue
        if hooked is not None:
            grad_output = _hooks.node_gradient(node, grad_output)
        if node.released:
            raise RuntimeError(
                f"backward through {type(node).__name__} a second time: its saved arrays were released "
                "after the first backward; pass retain_graph=True to the first call"
            )
        node.check_saved_versions()
        input_grads = node.backward(grad_output) if profiler is None else profiler.backward(node, grad_output)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if _anomaly.enabled:
            _anomaly.check_backward(node, grad_output, input_grads)
        inputs = node.inputs
        if not retain_graph:
            node.release()
        for tensor, input_grad in zip(inputs, input_grads):
            if hooked is not None and tensor is not None and hooked.wants(tensor):
                if input_grad is None:
                    hooked.edge_skipped(tensor, _accumulate_leaf_grad)
                    continue
            if input_grad is None or tensor is None or not tensor.requires_grad:
                continue
            if tuple(input_grad.shape) != tensor.shape:
                raise RuntimeError(
                    f"{type(node).__name__}.backward returned a gradient of shape {tuple(input_grad.shape)} "
                    f"for an input of shape {tensor.shape}"
                )
            if tensor._ctx is None:
                if hooked is not None and hooked.wants(tensor):
                    hooked.arrive(tensor, input_grad, _accumulate_leaf_grad)
                else:
                    _accumulate_leaf_grad(tensor, input_grad)
            else:
                key = id(tensor._ctx)
                pending[key] = input_grad if key not in pending else pending[key] + input_grad
    if hooked is not None:
        hooked.flush(_accumulate_leaf_grad)


# ----------------------------------------------------------------------------------------------
# End-of-backward callbacks
#
# Callbacks queued with ``queue_callback`` while a backward runs (from a hook, say) are called when
# that backward has finished: data-parallel training waits for its gradient reductions there.
# ----------------------------------------------------------------------------------------------

_callbacks_state = threading.local()  # the callbacks of the backward running on this thread


@contextlib.contextmanager
def _final_callbacks():
    """Collects the callbacks queued during one backward and runs them (in order) when it ends."""
    outer = getattr(_callbacks_state, "callbacks", None)
    _callbacks_state.callbacks = callbacks = []
    try:
        yield
        while callbacks:  # a callback may queue another
            callbacks.pop(0)()
    finally:
        _callbacks_state.callbacks = outer


def queue_callback(callback) -> None:
    """Run ``callback()`` once the backward now running has finished (torch's
    ``Variable._execution_engine.queue_callback``); only valid inside a backward (from a hook)."""
    callbacks = getattr(_callbacks_state, "callbacks", None)
    if callbacks is None:
        raise RuntimeError("queue_callback: final callbacks can only be installed during the backward pass")
    callbacks.append(callback)
