"""Activation checkpointing: trade computation for memory by recomputing a segment in backward.

``checkpoint(function, *inputs)`` runs ``function`` without recording its graph, so none of the
intermediate arrays it makes (the outputs of its concatenation, normalisation, activation, ...) stay
alive until backward; only its inputs are kept. In backward the segment is run again, this time with its
graph, and back-propagated at once: its parameters receive their gradients there, and the inputs' are
returned. The cost is one more forward pass of the segment.

The segment must compute the same thing twice: no randomness (dropout) inside it. Layers that update
state when called in training mode (BatchNorm's running statistics) would be updated twice;
``preserve_state_of`` names modules whose buffers are saved before the recomputation and restored after
it, so each batch is counted once.
"""
from __future__ import annotations

from ..autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad

__all__ = ["checkpoint"]


class _Recompute(Function):
    def forward(self, *arrays, function, preserve_state_of):
        self.function = function
        self.preserve_state_of = preserve_state_of
        self.save_for_backward(*arrays)  # the inputs alone: the segment's own activations are not kept
        with no_grad():
            output = function(*[Tensor._wrap(array) for array in arrays])
        return output.array

    def backward(self, grad):
        # y = f(x_1, ..., x_k; theta): rebuild f's graph on fresh leaves x_i and back-propagate dL/dy through
        # it, which leaves dL/dtheta in the parameters' .grad and dL/dx_i in the leaves' .grad.
        inputs = []
        for array, needs_grad in zip(self.saved, self.needs_input_grad):
            leaf = Tensor._wrap(array)
            leaf.requires_grad = needs_grad
            inputs.append(leaf)
        saved_state = [(buffer, buffer.array.copy()) for module in self.preserve_state_of
                       for buffer in module.buffers() if buffer is not None]
        try:
            with enable_grad():
                output = self.function(*inputs)
        finally:
            for buffer, array in saved_state:
                buffer.array[...] = array
        output.backward(grad)
        return tuple(leaf.grad.array if leaf.grad is not None else None for leaf in inputs)


def checkpoint(function, *inputs, preserve_state_of=(), use_reentrant=None, **unused):
    """``function(*inputs)``, recomputed in backward instead of keeping its intermediate arrays.

    Args:
        function: takes the Tensors ``inputs`` and returns one Tensor; deterministic.
        inputs: Tensors. When none requires grad (or grad mode is off) nothing needs keeping and
            ``function`` simply runs.
        preserve_state_of: Modules whose buffers the recomputation must not change (see the module doc).
        use_reentrant: accepted for torch compatibility; minicnn has one implementation.
    """
    if not is_grad_enabled() or not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        return function(*inputs)
    return _Recompute.apply(*inputs, function=function, preserve_state_of=tuple(preserve_state_of))
