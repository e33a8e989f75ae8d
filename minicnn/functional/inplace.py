"""In-place operations (``add_``, ``mul_``, ``x -= y``, ``zero_``, ``copy_``, ``normal_``, ...), guarded
the way torch guards them:

- on a leaf that requires grad they raise, unless gradient recording is off (``no_grad``), since its
  old value is what ``.grad`` is the gradient of;
- outside the graph they write into the tensor's memory (so ``p.data.sub_(lr * p.grad)`` updates ``p``)
  and increase its version counter: a node that saved the old values then refuses to run backward;
- inside the graph (the tensor, or an operand, requires grad) the out-of-place operation runs on a
  copy of the old values, its result is written into the tensor's memory, and the tensor becomes that
  operation's output: later gradients flow through it, earlier nodes that saved the tensor notice.
"""
from __future__ import annotations

import numpy as np

from .. import backend, random
from ..autograd import Function, Tensor, is_grad_enabled
from . import elementwise
from .elementwise import unbroadcast


class Overwrite(Function):
    """The tensor's old values are replaced by ``source`` (broadcast): no gradient reaches the old values."""

    def forward(self, old, source):
        xp = backend.get_array_module(old)
        self.source_shape, self.source_dtype = source.shape, source.dtype
        return xp.broadcast_to(source, old.shape).astype(old.dtype)

    def backward(self, grad):
        xp = backend.get_array_module(grad)
        grad_source = None
        if self.needs_input_grad[1]:
            grad_source = unbroadcast(grad, self.source_shape).astype(self.source_dtype)
        return xp.zeros_like(grad), grad_source


class SetItem(Function):
    """``t[index] = value``: the old values at ``index`` are replaced, the rest pass through."""

    def forward(self, old, value, index):
        self.index, self.value_shape, self.value_dtype = index, value.shape, value.dtype
        out = old.copy()
        out[index] = value
        return out

    def backward(self, grad):
        # out = old everywhere except at index, where out = value: the gradient is split accordingly
        grad_old = grad.copy()
        grad_old[self.index] = 0
        grad_value = None
        if self.needs_input_grad[1]:
            grad_value = unbroadcast(grad[self.index], self.value_shape).astype(self.value_dtype)
        return grad_old, grad_value


def _check_leaf(tensor: Tensor, name: str) -> None:
    if tensor.requires_grad and tensor._ctx is None and is_grad_enabled():
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation.")


def _records(tensor: Tensor, others) -> bool:
    return is_grad_enabled() and (tensor.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others))


def _operand(value, like: Tensor, name: str):
    if isinstance(value, Tensor):
        if backend.device_of(value.array) != backend.device_of(like.array):
            raise RuntimeError(f"{name}: expected all tensors on one device, found "
                               f"{backend.device_of(like.array)} and {backend.device_of(value.array)}")
        return value.array
    return value


def _write(tensor: Tensor, values, name: str) -> None:
    """Store ``values`` in ``tensor``'s memory, refusing casts torch refuses (float into an int tensor)."""
    if values is tensor.array:
        return
    values_dtype = np.result_type(values) if not hasattr(values, "dtype") else values.dtype
    if tensor.dtype.kind in "biu" and np.dtype(values_dtype).kind == "f" or (
            tensor.dtype.kind == "b" and np.dtype(values_dtype).kind in "iu"):
        raise RuntimeError(f"{name}: result type {np.dtype(values_dtype)} can't be cast to the desired output "
                           f"type {tensor.dtype}")
    if hasattr(values, "shape") and tuple(values.shape) != tuple(tensor.shape):
        try:
            values = backend.get_array_module(tensor.array).broadcast_to(values, tensor.shape)
        except ValueError:
            raise RuntimeError(f"{name}: the result of shape {tuple(values.shape)} cannot be written into a "
                               f"tensor of shape {tuple(tensor.shape)}") from None
    tensor.array[...] = values


def _inplace(tensor: Tensor, name: str, others, in_graph, raw):
    """Run an in-place op: ``in_graph(old)`` gives the out-of-place result Tensor when recording,
    ``raw()`` the new values (an array or a scalar) otherwise."""
    _check_leaf(tensor, name)
    if _records(tensor, others):
        if getattr(tensor.array, "base", None) is not None:
            raise RuntimeError(f"{name}: in-place changes to a view of another tensor are not supported "
                               "while gradients are recorded; use the out-of-place form or clone() first")
        old = Tensor._wrap(tensor.array.copy())  # the node below keeps these, not the memory we overwrite
        old._ctx, old.requires_grad = tensor._ctx, tensor.requires_grad
        result = in_graph(old)
        _write(tensor, result.array, name)
        tensor._ctx, tensor.requires_grad = result._ctx, result.requires_grad
    else:
        _write(tensor, raw(), name)
    tensor._version_counter.value += 1
    return tensor


def _scaled(other, alpha):
    return other if alpha == 1 else elementwise.mul(other, alpha) if isinstance(other, Tensor) else other * alpha


def add_(self: Tensor, other, alpha=1) -> Tensor:
    other = _scaled(other, alpha)
    return _inplace(self, "add_", (other,), lambda old: elementwise.add(old, other),
                    lambda: self.array + _operand(other, self, "add_"))


def sub_(self: Tensor, other, alpha=1) -> Tensor:
    other = _scaled(other, alpha)
    return _inplace(self, "sub_", (other,), lambda old: elementwise.sub(old, other),
                    lambda: self.array - _operand(other, self, "sub_"))


def mul_(self: Tensor, other) -> Tensor:
    return _inplace(self, "mul_", (other,), lambda old: elementwise.mul(old, other),
                    lambda: self.array * _operand(other, self, "mul_"))


def div_(self: Tensor, other) -> Tensor:
    return _inplace(self, "div_", (other,), lambda old: elementwise.div(old, other),
                    lambda: self.array / _operand(other, self, "div_"))


def pow_(self: Tensor, exponent) -> Tensor:
    return _inplace(self, "pow_", (exponent,), lambda old: elementwise.pow(old, exponent),
                    lambda: self.array ** _operand(exponent, self, "pow_"))


def clamp_(self: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - torch's names
    if min is None and max is None:
        raise RuntimeError("clamp_: at least one of 'min' or 'max' must not be None")
    xp = backend.get_array_module(self.array)
    return _inplace(self, "clamp_", (), lambda old: elementwise.clip(old, min, max),
                    lambda: xp.clip(self.array, min, max))


def _unary(name: str, function, ufunc_name: str):
    def method(self: Tensor) -> Tensor:
        xp = backend.get_array_module(self.array)
        return _inplace(self, name, (), function, lambda: getattr(xp, ufunc_name)(self.array))

    method.__name__ = name
    return method


exp_ = _unary("exp_", elementwise.exp, "exp")
log_ = _unary("log_", elementwise.log, "log")
sqrt_ = _unary("sqrt_", elementwise.sqrt, "sqrt")
abs_ = _unary("abs_", elementwise.abs, "abs")
neg_ = _unary("neg_", elementwise.neg, "negative")


def _overwrite(self: Tensor, name: str, source) -> Tensor:
    """Replace the values by ``source`` (an array on self's device, or a Tensor)."""
    source_tensor = source if isinstance(source, Tensor) else Tensor._wrap(source)
    return _inplace(self, name, (source_tensor,), lambda old: Overwrite.apply(old, source_tensor),
                    lambda: source_tensor.array)


def fill_(self: Tensor, value) -> Tensor:
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions")
        value = value.reshape(())
        return _overwrite(self, "fill_", value)
    xp = backend.get_array_module(self.array)
    return _overwrite(self, "fill_", xp.asarray(value))


def zero_(self: Tensor) -> Tensor:
    xp = backend.get_array_module(self.array)
    return _overwrite(self, "zero_", xp.zeros((), dtype=self.dtype))


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast to this shape, cast to this dtype, moved from its device) into this tensor."""
    device = backend.device_of(self.array)
    if isinstance(src, Tensor):
        if backend.device_of(src.array) != device:
            src = src.to(device)
    else:
        src = Tensor._wrap(backend.to_device(src if hasattr(src, "dtype") else np.asarray(src), device))
    try:
        backend.get_array_module(self.array).broadcast_shapes(tuple(src.shape), tuple(self.shape))
    except ValueError:
        raise RuntimeError(f"copy_: the source of shape {tuple(src.shape)} must be broadcastable to the "
                           f"destination's shape {tuple(self.shape)}") from None
    if src.dtype != self.dtype:
        src = src.to(self.dtype) if src.dtype.kind == "f" or not src.requires_grad else src
        src = src if src.dtype == self.dtype else Tensor._wrap(src.array.astype(self.dtype))
    return _overwrite(self, "copy_", src)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of N(mean, std^2) from minicnn's seeded host generator."""
    values = random.host_generator().normal(mean, std, size=tuple(self.shape)).astype(self.dtype)
    return _overwrite(self, "normal_", backend.to_device(values, backend.device_of(self.array)))


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of U(a, b) from minicnn's seeded host generator."""
    values = random.host_generator().uniform(a, b, size=tuple(self.shape)).astype(self.dtype)
    return _overwrite(self, "uniform_", backend.to_device(values, backend.device_of(self.array)))


def setitem(self: Tensor, index, value) -> None:
    """``t[index] = value`` (an in-place op: guarded and counted like the others)."""
    from .shape import _move_index_to, _unwrap_index

    device = backend.device_of(self.array)
    index = _move_index_to(_unwrap_index(index), device)
    if isinstance(value, Tensor):
        value_tensor = value if backend.device_of(value.array) == device else value.to(device)
    else:
        xp = backend.get_array_module(self.array)
        value_tensor = Tensor._wrap(xp.asarray(backend.to_device(np.asarray(value), device) if isinstance(
            value, (list, tuple, np.ndarray)) else value, dtype=self.dtype))

    def raw():
        self.array[index] = value_tensor.array
        return self.array  # already written

    _inplace(self, "__setitem__", (value_tensor,), lambda old: SetItem.apply(old, value_tensor, index=index), raw)


def _augmented(function):
    """``x += y`` and friends: the in-place op, returning the same tensor (as torch)."""
    return lambda self, other: function(self, other)


METHODS = {
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "pow_": pow_, "clamp_": clamp_, "clip_": clamp_,
    "exp_": exp_, "log_": log_, "sqrt_": sqrt_, "abs_": abs_, "neg_": neg_, "fill_": fill_, "zero_": zero_,
    "copy_": copy_, "normal_": normal_, "uniform_": uniform_,
    "__iadd__": _augmented(add_), "__isub__": _augmented(sub_), "__imul__": _augmented(mul_),
    "__itruediv__": _augmented(div_), "__setitem__": setitem,
}
