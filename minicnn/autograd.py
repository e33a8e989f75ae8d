"""Reverse-mode automatic differentiation: Tensor and Function (the backward walk is in ``backward.py``).

The graph is built while the forward pass runs (define-by-run). Each differentiable operation is a
``Function`` subclass with two methods on raw backend arrays:

    forward(ctx, *arrays, **params)  -> output array   (saves what backward needs on ctx)
    backward(ctx, grad_output)       -> one gradient per array input (None where there is none)

``Function.apply`` unwraps the input Tensors, runs ``forward``, and, when a gradient is needed, links
the output Tensor to the ctx that made it. ``Tensor.backward`` (``backward.run_backward``) sorts those
ctx nodes topologically with an explicit stack (no recursion, so graphs of any depth work), then walks
them in reverse, handing each node the gradient of its output and routing the returned input gradients
onward.
"""
from __future__ import annotations

import numpy as np

from . import anomaly as _anomaly
from . import backend, versions
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly  # noqa: F401 - torch.autograd's names
from . import backward as _backward
from . import hooks as _hooks
from .backward import queue_callback, run_backward, topological_order  # noqa: F401 - importable from here too
from .device import canonical as _canonical_device, device, parse_to_arguments as _parse_to_arguments
from .dtypes import (  # noqa: F401 - the dtype names are part of this module's interface
    _default_dtype_for, _default_float, bool_, float16, float32, float64, get_default_dtype, int32, int64,
    set_default_dtype, uint8,
)
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401 - torch.autograd's names
from .size import Size

_profiler = None  # the active minicnn.profiler.profile, which times each op; None: ops run untimed


def _as_array(data, dtype=None, device=None):
    """Turn data (Tensor, array, list, scalar) into a backend array on ``device``."""
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, np.generic):  # np.float64 subclasses float: keep its dtype, not the python default
        data = np.asarray(data)
    if device is None:
        device = backend.device_of(data) if not isinstance(data, (list, tuple, int, float)) else "cpu"
    xp = backend.array_module_for(device)
    if isinstance(data, (list, tuple)):
        host = np.asarray(data)
        if dtype is None:
            if host.dtype.kind == "f":
                dtype = _default_float[0]
            elif host.dtype.kind in "iu":
                dtype = int64
        array = host if dtype is None else host.astype(dtype, copy=False)
        return backend.to_device(array, device)
    if isinstance(data, (bool, int, float)):
        return xp.asarray(data, dtype=dtype or _default_dtype_for(data))
    if backend.device_of(data) != backend.normalize_device(device):
        data = backend.to_device(data, device)
    xp = backend.get_array_module(data)
    if not hasattr(data, "dtype"):
        data = xp.asarray(data)
    if dtype is not None and data.dtype != np.dtype(dtype):
        data = data.astype(dtype)
    return data


# ----------------------------------------------------------------------------------------------
# Tensor
# ----------------------------------------------------------------------------------------------

class Tensor:
    """An n-dimensional array that remembers how it was computed, so gradients can flow back.

    ``array`` is the backend array (numpy, cupy or simulated-device) that holds the values: Functions
    compute on it, and the library's own code reads it by that name. ``data`` is torch's: a Tensor that
    shares the values but is cut off from the graph (assigning to it replaces the values). ``grad`` is a
    Tensor of the same shape filled by ``backward()`` on leaves that require grad; ``grad_fn`` is the
    Function node that produced this tensor (None for leaves).
    """

    __slots__ = ("array", "grad", "requires_grad", "_ctx", "_version_counter", "__weakref__", "__dict__")
    # Makes ``ndarray + Tensor`` defer to Tensor.__radd__ instead of numpy broadcasting over it.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None, device=None):
        self.array = _as_array(data, dtype=dtype, device=device)
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got dtype {self.array.dtype}")
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Function | None = None
        self._version_counter = versions.VersionCounter()

    # -- basic properties ------------------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """The same values as a Tensor outside the graph (torch's ``.data``): in-place changes to it
        change this tensor, and autograd does not see them (it has a version counter of its own, so
        the check that saved values are unchanged does not fire; ``detach()`` shares the counter)."""
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value) -> None:
        array = value.array if isinstance(value, Tensor) else _as_array(value, device=self.device)
        if tuple(array.shape) != self.shape and self._ctx is not None:
            raise RuntimeError(f"data: cannot change the shape of a non-leaf tensor from {self.shape} to {tuple(array.shape)}")
        self.array = array

    @staticmethod
    def _wrap(array) -> "Tensor":
        """A leaf Tensor around an existing backend array, without copying or converting it."""
        tensor = Tensor.__new__(Tensor)
        tensor.array = array
        tensor.grad = None
        tensor.requires_grad = False
        tensor._ctx = None
        tensor._version_counter = versions.VersionCounter()
        return tensor

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (shared with its views and detach())."""
        return self._version_counter.value

    @property
    def shape(self) -> Size:
        return tuple.__new__(Size, self.array.shape)  # the array's shape is ints already

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def device(self) -> device:
        return _canonical_device(backend.device_of(self.array))

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def numel(self) -> int:
        return int(self.array.size)

    # -- conversion ------------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a host numpy array (shares memory on cpu; raises if grad is required, as torch)."""
        if self.requires_grad:
            raise RuntimeError("numpy(): call .detach() first, this tensor requires grad")
        return backend.to_host(self.array)

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"a Tensor with {self.array.size} elements cannot be converted to Scalar")
        return backend.to_host(self.array).reshape(()).item()

    def detach(self) -> "Tensor":
        """A new leaf sharing the same memory and version counter, cut off from the graph."""
        tensor = Tensor._wrap(self.array)
        tensor._version_counter = self._version_counter
        return tensor

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf tensors; "
                               "use .detach() for a computed tensor outside the graph")
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, *args, **kwargs) -> "Tensor":
        """Move to a device and/or cast to a dtype, as torch: ``t.to("cuda")``, ``t.to(minicnn.float64)``,
        ``t.to(device, dtype)``, ``t.to(other)`` (other's device and dtype); ``non_blocking`` is accepted."""
        target_device, dtype, copy = _parse_to_arguments(args, kwargs)
        out = self
        if target_device is not None and backend.normalize_device(target_device) != backend.device_of(self.array):
            out = _ToDevice.apply(out, device=backend.normalize_device(target_device))
        if dtype is not None and np.dtype(dtype) != out.dtype:
            out = out.type(dtype)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> "Tensor":
        if device is None:
            return self.to("cuda")
        return self.to(device if isinstance(device, str) else f"cuda:{int(device)}")

    def __repr__(self) -> str:
        body = np.array2string(backend.to_host(self.array), separator=", ", precision=4, threshold=100)
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype != float32:
            extras.append(f"dtype={self.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # Tensors compare elementwise (methods installed by functional), so identity is the hash.
    __hash__ = object.__hash__

    # -- backward --------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is d(loss)/d(self), of self's shape; it may be omitted for a one-element tensor
        (it is then 1). The arrays the graph saved for backward are released afterwards unless
        ``retain_graph``. ``create_graph=True`` (differentiating the backward pass) is not supported.
        """
        if create_graph:
            raise NotImplementedError("backward(create_graph=True): minicnn's backward pass records no graph")
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        xp = backend.get_array_module(self.array)
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs, got shape {tuple(self.shape)}")
            gradient = xp.ones_like(self.array)
        else:
            gradient = _as_array(gradient, dtype=self.dtype, device=backend.device_of(self.array))
            if tuple(gradient.shape) != tuple(self.shape):
                raise RuntimeError(f"Mismatch in shape: gradient has a shape of {tuple(gradient.shape)} and "
                                   f"the tensor has a shape of {tuple(self.shape)}")
        if self._ctx is None:
            with _backward._final_callbacks():
                if _hooks.in_use():
                    _hooks.deliver_to_leaf(self, gradient, _backward._accumulate_leaf_grad)
                else:
                    _backward._accumulate_leaf_grad(self, gradient)
            return
        run_backward(self._ctx, gradient, bool(retain_graph), _profiler)


# ----------------------------------------------------------------------------------------------
# Function
# ----------------------------------------------------------------------------------------------

class Function:
    """Base class of every differentiable operation.

    Subclasses implement ``forward(self, *arrays, **params)`` and ``backward(self, grad_output)`` on raw
    arrays; ``self`` is the context. ``forward`` stores what ``backward`` needs with
    ``save_for_backward`` (or as attributes); ``self.needs_input_grad[i]`` tells whether input i wants
    a gradient, so backward can skip expensive ones (conv's dX for the first layer) and forward can
    skip saving anything when none does (all False under ``no_grad``).
    """

    __slots__ = ("inputs", "saved", "needs_input_grad", "released", "saved_versions", "__dict__")
    # Set on operations whose output may be a view of input 0's memory (reshape, permute, slicing): the
    # output then shares input 0's version counter, so an in-place change through either is seen.
    output_may_be_view = False

    def __init__(self):
        self.inputs: tuple = ()
        self.saved: tuple = ()
        self.needs_input_grad: tuple = ()
        self.released = False
        self.saved_versions: tuple = ()

    def save_for_backward(self, *arrays) -> None:
        self.saved = arrays

    def release(self) -> None:
        """Drop everything saved for backward, so activations are freed as the walk proceeds."""
        self.saved = ()
        self.inputs = ()  # also unlinks the graph below, so nodes nobody else holds are freed
        self.__dict__.clear()
        self.saved_versions = ()
        self.released = True

    def check_saved_versions(self) -> None:
        """Raise if a tensor whose array this node saved was changed in place after the forward pass."""
        if self.saved_versions:
            versions.check(self.saved_versions, self.name())

    def name(self) -> str:
        return f"{type(self).__name__}Backward0"

    @property
    def next_functions(self) -> tuple:
        """``(node, 0)`` per input, as torch: the node that made it, an ``AccumulateGrad`` for a leaf that
        requires grad, or None."""
        return tuple((versions.next_function(edge), 0) for edge in self.inputs)

    def forward(self, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_output):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params) -> Tensor:
        """Run the operation on Tensors (None allowed for optional inputs) and record it in the graph."""
        ctx = cls()
        # One pass over the inputs: their arrays, one device, and which want a gradient (known before
        # forward, so forward can skip saving what no backward will read, as in inference).
        grad_enabled = is_grad_enabled()
        arrays, needs = [], []
        device = None
        for position, value in enumerate(inputs):
            if value is None:
                arrays.append(None)
                needs.append(False)
                continue
            if not isinstance(value, Tensor):
                raise TypeError(f"{cls.__name__}: input {position} must be a Tensor, got {type(value).__name__}")
            array = value.array
            value_device = "cpu" if type(array) is np.ndarray else backend.device_of(array)
            if device is None:
                device = value_device
            elif value_device != device and cls is not _ToDevice:
                raise RuntimeError(
                    f"{cls.__name__}: expected all tensors on one device, found {device} and {value_device}"
                )
            arrays.append(array)
            needs.append(grad_enabled and value.requires_grad)
        ctx.needs_input_grad = needs = tuple(needs)
        if _profiler is None:
            output = ctx.forward(*arrays, **params)
        else:
            output = _profiler.forward(ctx, arrays, params)
        if isinstance(output, np.generic):  # numpy reduces to scalars; a Tensor always holds an array
            output = np.asarray(output)
        if _anomaly.enabled:
            _anomaly.check_forward(ctx, arrays, output)
        result = Tensor._wrap(output)
        if cls.output_may_be_view and versions.is_view_of(output, arrays[0]):
            result._version_counter = inputs[0]._version_counter
        result.requires_grad = True in needs and output.dtype.kind == "f"
        if result.requires_grad:
            ctx.inputs = tuple(_graph_edge(value) for value in inputs)
            result._ctx = ctx
            ctx.saved_versions = versions.saved_versions(ctx, inputs, arrays, result)
        return result

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class _Edge:
    """What the graph keeps of a non-leaf input: the node that made it and its shape, not its data.

    Holding the input Tensor itself would keep every intermediate array alive until backward even when
    no Function saved it (relu keeps only a mask of its input, for example).
    """

    __slots__ = ("_ctx", "shape")
    requires_grad = True

    def __init__(self, tensor: Tensor):
        self._ctx = tensor._ctx
        self.shape = tensor.shape


def _graph_edge(value):
    """The graph's link to an input: None when no gradient flows to it, the leaf Tensor itself (its
    ``.grad`` is filled), or an ``_Edge`` to the node that produced it."""
    if value is None or not value.requires_grad:
        return None
    return value if value._ctx is None else _Edge(value)


class _ToDevice(Function):
    """Copy across devices; the gradient copies back."""

    def forward(self, array, device):
        self.source_device = backend.device_of(array)
        return backend.to_device(array, device)

    def backward(self, grad_output):
        return backend.to_device(grad_output, self.source_device)


_hooks.install(Tensor)
_backward.install(Tensor)
