"""Module hooks with torch's semantics: forward pre/post hooks and full backward pre/post hooks.

A module keeps no hook state until the first ``register_*`` call puts a ``ModuleHooks`` in its
``__dict__``; ``Module.__call__`` checks for it once and otherwise calls ``forward`` directly.

Full backward hooks work as torch's do: identity Functions are put on the module's tensor inputs and
on its output. The output's identity receives d loss / d output first (the pre-hooks see and may
replace it); the inputs' identities receive d loss / d input once the module's own backward is done
(the hooks see both and may replace d loss / d input). A module none of whose inputs needs a
gradient (the first layer, fed images) still has its hooks called, with ``grad_input = (None,)``.
"""
from __future__ import annotations

from collections import OrderedDict

from .. import hooks as _hooks
from ..autograd import Function, Tensor, is_grad_enabled


class ModuleHooks:
    """The four ordered hook registries of one module. Entries are ``(fn, with_kwargs)``."""

    __slots__ = ("forward_pre", "forward", "backward_pre", "backward")

    def __init__(self):
        self.forward_pre = OrderedDict()
        self.forward = OrderedDict()
        self.backward_pre = OrderedDict()
        self.backward = OrderedDict()


class HookMethods:
    """``Module``'s hook registration (a base class of Module); each returns a handle whose ``.remove()``
    undoes it."""

    def register_forward_pre_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False):
        """``hook(module, args) -> None or new args`` before forward (``with_kwargs``:
        ``hook(module, args, kwargs) -> None or (args, kwargs)``)."""
        return add(self, "forward_pre", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False):
        """``hook(module, args, output) -> None or new output`` after forward (``with_kwargs``:
        ``hook(module, args, kwargs, output)``)."""
        return add(self, "forward", hook, prepend, with_kwargs)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False):
        """``hook(module, grad_output) -> None or new grad_output``, when d loss / d output is known."""
        return add(self, "backward_pre", hook, prepend)

    def register_full_backward_hook(self, hook, prepend: bool = False):
        """``hook(module, grad_input, grad_output) -> None or new grad_input``, once d loss / d input is
        known (``grad_input`` holds None for inputs that need no gradient)."""
        return add(self, "backward", hook, prepend)


def _registry(module) -> ModuleHooks:
    hooks = module.__dict__.get("_module_hooks")
    if hooks is None:
        hooks = ModuleHooks()
        object.__setattr__(module, "_module_hooks", hooks)
    return hooks


def add(module, kind: str, hook, prepend: bool = False, with_kwargs: bool = False) -> _hooks.RemovableHandle:
    if not callable(hook):
        raise TypeError(f"register_{kind}_hook: hook must be callable, got {type(hook).__name__}")
    registry = getattr(_registry(module), kind)
    handle = _hooks.RemovableHandle(registry)
    registry[handle.id] = (hook, with_kwargs)
    if prepend:
        registry.move_to_end(handle.id, last=False)
    return handle


def call(module, hooks: ModuleHooks, args: tuple, kwargs: dict):
    """``module(*args, **kwargs)`` with its hooks, in torch's order: forward pre-hooks, input identities,
    forward, forward hooks, output identity."""
    for hook, with_kwargs in list(hooks.forward_pre.values()):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {result!r}")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)

    state = None
    if (hooks.backward or hooks.backward_pre) and is_grad_enabled():
        state = _BackwardHookState(module, hooks, args)
        args = state.wrap_inputs(args)

    output = module.forward(*args, **kwargs)

    for hook, with_kwargs in list(hooks.forward.values()):
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result

    if state is not None:
        output = state.wrap_output(output)
    return output


class _BackwardHookState:
    """What one call of a module with backward hooks shares between its input and output identities."""

    def __init__(self, module, hooks: ModuleHooks, args: tuple):
        self.module = module
        self.hooks = hooks
        self.input_positions = [i for i, value in enumerate(args) if isinstance(value, Tensor)]
        self.wanting = [i for i in self.input_positions if args[i].requires_grad]
        self.grad_inputs = {}
        self.grad_outputs = None

    def wrap_inputs(self, args: tuple) -> tuple:
        args = list(args)
        for position in self.wanting:
            args[position] = _InputIdentity.apply(args[position], state=self, position=position)
        return tuple(args)

    def wrap_output(self, output):
        if not isinstance(output, Tensor):
            raise RuntimeError(f"{type(self.module).__name__}: full backward hooks need forward to return one "
                               f"Tensor, got {type(output).__name__}")
        if not output.requires_grad:
            return output
        return _OutputIdentity.apply(output, state=self)

    # -- called from the two identities' backward -----------------------------------------------
    def output_gradient(self, grad):
        grads = (Tensor._wrap(grad),)
        for hook, _ in list(self.hooks.backward_pre.values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = _as_grad_tuple(result, grads, "full backward pre-hook")
        self.grad_outputs = grads
        if not self.wanting:  # no input takes a gradient: the hooks run now, with grad_input all None
            self._call_backward_hooks()
        return grads[0].array

    def input_gradient(self, position: int, grad):
        self.grad_inputs[position] = grad
        if len(self.grad_inputs) < len(self.wanting):
            return grad
        replaced = self._call_backward_hooks()
        if replaced is None:
            return grad
        if len(self.wanting) > 1:
            raise RuntimeError(f"{type(self.module).__name__}: a full backward hook can replace grad_input only "
                               "when one tensor input requires grad (the others were already passed on)")
        return replaced[self.input_positions.index(position)].array

    def _call_backward_hooks(self):
        grad_input = tuple(Tensor._wrap(self.grad_inputs[i]) if i in self.grad_inputs else None
                           for i in self.input_positions) or (None,)
        replaced = None
        for hook, _ in list(self.hooks.backward.values()):
            result = hook(self.module, grad_input, self.grad_outputs)
            if result is not None:
                grad_input = _as_grad_tuple(result, grad_input, "full backward hook")
                replaced = grad_input
        return replaced


def _as_grad_tuple(result, expected: tuple, what: str) -> tuple:
    result = result if isinstance(result, (tuple, list)) else (result,)
    if len(result) != len(expected):
        raise RuntimeError(f"{what} returned {len(result)} gradients; expected {len(expected)}")
    for new, old in zip(result, expected):
        if new is not None and old is not None and tuple(new.shape) != tuple(old.shape):
            raise RuntimeError(f"{what} returned a gradient of shape {tuple(new.shape)}; expected {tuple(old.shape)}")
    return tuple(result)


class _OutputIdentity(Function):
    """y = x; backward hands d loss / dy to the module's backward pre-hooks (which may replace it)."""

    def forward(self, x, state):
        self.state = state
        return x

    def backward(self, grad_output):
        return self.state.output_gradient(grad_output)


class _InputIdentity(Function):
    """y = x; backward hands d loss / dx to the module's backward hooks (which may replace it)."""

    def forward(self, x, state, position):
        self.state, self.position = state, position
        return x

    def backward(self, grad_output):
        return self.state.input_gradient(self.position, grad_output)
