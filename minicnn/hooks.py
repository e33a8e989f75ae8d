"""Hooks on tensors and on the backward walk, with torch's names and semantics.

    handle = t.register_hook(lambda grad: grad * 2)      # may replace d loss / d t
    t.retain_grad()                                      # keep a non-leaf's gradient in t.grad
    p.register_post_accumulate_grad_hook(fn)             # fn(p) once p.grad holds this backward's sum
    handle.remove()                                      # or: with t.register_hook(fn): ...

Where hooks live: a leaf's in its own ``__dict__``; a non-leaf's on the Function node that produced it,
because the graph keeps only that node (and the shape), not the non-leaf Tensor itself. Every node has
one output, so "the gradient of this non-leaf" is exactly the gradient that node receives.

Nothing here costs anything until the first hook is registered: ``run_backward`` asks ``in_use()``
once per backward call and, while it is False, walks the graph exactly as it did without hooks.
"""
from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict

_next_id = itertools.count()
_registered = 0  # hooks ever registered and not removed; backward skips all of this while it is 0


def in_use() -> bool:
    return _registered > 0


class RemovableHandle:
    """What every ``register_*hook`` returns: ``.remove()`` takes the hook out again (once; removing
    twice is harmless), and ``with handle:`` removes it when the block ends."""

    def __init__(self, *hook_dicts: OrderedDict):
        global _registered
        self.id = next(_next_id)
        self._hook_dicts = hook_dicts  # the dicts only, not their owner: a handle keeps no tensor alive
        _registered += 1

    def remove(self) -> None:
        global _registered
        removed = False
        for hooks in self._hook_dicts:
            if self.id in hooks:
                del hooks[self.id]
                removed = True
        if removed:
            _registered -= 1

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


def _add(owner_dict: dict, name: str, fn, prepend: bool = False) -> RemovableHandle:
    hooks = owner_dict.get(name)
    if hooks is None:
        hooks = owner_dict[name] = OrderedDict()
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


# ----------------------------------------------------------------------------------------------
# Tensor methods (installed on Tensor below)
# ----------------------------------------------------------------------------------------------

def register_hook(self, hook) -> RemovableHandle:
    """Call ``hook(grad)`` each time the gradient of this tensor is computed; a Tensor it returns
    replaces the gradient. On a leaf it runs once per backward, on the summed gradient, before that
    sum is added into ``.grad``."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if not callable(hook):
        raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
    owner = self if self._ctx is None else self._ctx
    return _add(owner.__dict__, "_tensor_hooks", hook)


def retain_grad(self) -> None:
    """Keep this non-leaf tensor's gradient in ``.grad`` after backward (leaves always keep theirs).
    It sees the gradient after every ``register_hook`` hook, whenever those were registered."""
    if not self.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self._ctx is None or self.__dict__.get("_retains_grad"):
        return
    global _registered
    self._ctx.__dict__["_retains_grad"] = weakref.ref(self)
    self.__dict__["_retains_grad"] = True  # outlives the node, which forgets it once backward released it
    _registered += 1  # never removed, as in torch; the node drops it when its graph is released


def retains_grad(self) -> bool:
    return self.__dict__.get("_retains_grad", False)


def register_post_accumulate_grad_hook(self, hook) -> RemovableHandle:
    """Call ``hook(tensor)`` on this leaf after a backward has added its gradient into ``.grad``:
    the moment the gradient is final for this backward, so it can be sent or stepped on at once."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self._ctx is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got {type(hook).__name__}")
    return _add(self.__dict__, "_post_accumulate_hooks", hook)


def install(tensor_class) -> None:
    tensor_class.register_hook = register_hook
    tensor_class.retain_grad = retain_grad
    tensor_class.retains_grad = property(retains_grad)
    tensor_class.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook


# ----------------------------------------------------------------------------------------------
# Dispatch from the backward walk
# ----------------------------------------------------------------------------------------------

def _apply_tensor_hooks(hooks, grad):
    """Run ``hook(grad)`` in order; each non-None result replaces the gradient the next one sees."""
    from .autograd import Tensor

    for hook in list(hooks.values()):
        result = hook(Tensor._wrap(grad))
        if result is not None:
            array = result.array if isinstance(result, Tensor) else result
            if tuple(array.shape) != tuple(grad.shape):
                raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape "
                                   f"{tuple(array.shape)}; expected shape {tuple(grad.shape)}")
            grad = array
    return grad


def node_gradient(node, grad):
    """The gradient a node receives (its output's gradient) after that output's tensor hooks, and
    stored in the output's ``.grad`` when ``retain_grad()`` asked for it."""
    state = node.__dict__
    hooks = state.get("_tensor_hooks")
    if hooks:
        grad = _apply_tensor_hooks(hooks, grad)
    retained = state.get("_retains_grad")
    if retained is not None and retained() is not None:
        from .autograd import Tensor

        tensor = retained()
        tensor.grad = Tensor(grad.copy()) if tensor.grad is None else Tensor(tensor.grad.array + grad)
    return grad


class LeafGradients:
    """Leaves with hooks get torch's order: their gradients from every use are summed first, then the
    tensor hooks run once on the sum, it is added into ``.grad``, and the post-accumulate hooks run.
    That happens as soon as the last node using the leaf has been walked, not at the very end."""

    def __init__(self, order):
        self.remaining = {}  # id(leaf) -> how many graph edges still have to deliver a gradient
        self.summed = {}
        self.leaves = []
        for node in order:
            for tensor in node.inputs:
                if tensor is not None and tensor._ctx is None and _has_leaf_hooks(tensor):
                    if id(tensor) not in self.remaining:
                        self.leaves.append(tensor)
                    self.remaining[id(tensor)] = self.remaining.get(id(tensor), 0) + 1

    def wants(self, leaf) -> bool:
        return id(leaf) in self.remaining

    def arrive(self, leaf, grad, accumulate) -> None:
        key = id(leaf)
        self.summed[key] = grad if key not in self.summed else self.summed[key] + grad
        self.remaining[key] -= 1
        if self.remaining[key] == 0:
            deliver_to_leaf(leaf, self.summed.pop(key), accumulate)

    def edge_skipped(self, leaf, accumulate) -> None:
        """An edge to a hooked leaf that carried no gradient (its node returned None for it)."""
        key = id(leaf)
        self.remaining[key] -= 1
        if self.remaining[key] == 0 and key in self.summed:
            deliver_to_leaf(leaf, self.summed.pop(key), accumulate)


    def flush(self, accumulate) -> None:
        """Deliver what is left when the walk ends (a node upstream of a leaf got no gradient at all)."""
        for leaf in self.leaves:
            if id(leaf) in self.summed:
                deliver_to_leaf(leaf, self.summed.pop(id(leaf)), accumulate)


def _has_leaf_hooks(tensor) -> bool:
    state = tensor.__dict__
    return bool(state.get("_tensor_hooks") or state.get("_post_accumulate_hooks"))


def deliver_to_leaf(leaf, grad, accumulate) -> None:
    state = leaf.__dict__
    hooks = state.get("_tensor_hooks")
    if hooks:
        grad = _apply_tensor_hooks(hooks, grad)
    accumulate(leaf, grad)
    for hook in list((state.get("_post_accumulate_hooks") or {}).values()):
        hook(leaf)
