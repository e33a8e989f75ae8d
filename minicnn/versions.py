"""Version counters: how autograd notices that an array it saved for backward was changed in place.

Every Tensor has a counter that its in-place operations (``add_``, ``mul_``, ``x -= ...``) increase.
Views (reshape, permute, basic slicing) and ``detach()`` share the counter of the tensor they view;
``.data`` gets a fresh one, so changes made through it are, as in torch, invisible to this check.
When ``Function.apply`` records a node, it notes the counter of each input (and of the output) whose
array the node kept; backward compares before running the node and raises torch's error on a change.
"""
from __future__ import annotations


class VersionCounter:
    """The number of in-place changes one block of memory has seen."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def is_view_of(output, array) -> bool:
    """Whether ``output`` shares ``array``'s memory through numpy/cupy's ``base`` chain."""
    output, array = _storage(output), _storage(array)
    if output is array:
        return True
    base = getattr(output, "base", None)
    return base is not None and (base is array or base is getattr(array, "base", None))


def _storage(array):
    """The array that owns the memory: the simulated device keeps a numpy array in ``_a``."""
    return getattr(array, "_a", array)


def saved_versions(ctx, inputs, arrays, result) -> tuple:
    """(counter, version now, dtype, shape, role) for each input or output whose array ``ctx`` kept for
    backward, found by identity among ``ctx.saved`` and ``ctx``'s attributes. It runs for every
    recorded operation, so it only compares identities; the message is composed when a check fails."""
    kept = ctx.saved + tuple(ctx.__dict__.values())
    if not kept:
        return ()
    kept = {id(value) for value in kept}
    checks = ()
    for tensor, array in zip(inputs, arrays):
        if tensor is not None and id(array) in kept:
            counter = tensor._version_counter
            checks += ((counter, counter.value, array.dtype, array.shape, "an input"),)
    output = result.array
    if id(output) in kept:
        counter = result._version_counter
        checks += ((counter, counter.value, output.dtype, output.shape, "its output"),)
    return checks


def check(saved, node_name: str) -> None:
    for counter, expected, dtype, shape, role in saved:
        if counter.value != expected:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: [{dtype} tensor of shape {tuple(shape)}, {role} of {node_name}] is at version "
                f"{counter.value}; expected version {expected} instead")


class AccumulateGrad:
    """What ``grad_fn.next_functions`` shows for a leaf that requires grad (its gradient goes to ``.grad``)."""

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def next_function(edge):
    """The node behind one graph edge: None, an AccumulateGrad for a leaf, or the producing node."""
    if edge is None:
        return None
    return AccumulateGrad(edge) if edge._ctx is None else edge._ctx
