"""The layer table textbooks print for a network: each layer's output shape, parameters and cost.

    >>> print(minicnn.summary(minicnn.models.lenet5(), (1, 32, 32)))

``summary`` runs one forward pass on a random batch under ``no_grad`` in eval mode (restoring each
module's mode afterwards). To see every layer without relying on hooks, it temporarily replaces the
``forward`` of each leaf module (a module without children) on the instance with a wrapper that records
the output, and removes the wrappers afterwards, even if the forward pass fails.

One row per call of a leaf module, in execution order (a module called twice, like a shared ReLU,
gives two rows; its parameters are counted on the first). Operations done outside modules (the "+"
of a residual block, ``F.relu`` inside a block's forward, ``flatten``) have no row.

Multiply-accumulates (MACs) per row, for the whole batch:
    Conv2d:  output elements * (C_in / groups) * KH * KW
    Linear:  output elements * in_features
    others:  0 (BatchNorm, activations, pooling and dropout are elementwise or nearly so; their cost
             is memory traffic, not arithmetic). Biases are not counted.
FLOPs are about 2 x MACs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["LayerRow", "Summary", "summary", "print_summary"]

_MB = 2.0 ** 20


@dataclass
class LayerRow:
    """One call of a leaf module: its qualified name, class, output shape, parameters and MACs."""

    name: str
    type: str
    output_shape: tuple
    params: int
    macs: int


@dataclass
class Summary:
    """The result of ``summary``: ``str()`` is the table; the numbers are fields for programs."""

    model_name: str
    input_shape: tuple
    output_shape: tuple
    rows: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    total_macs: int = 0
    itemsize: int = 4

    @property
    def input_size_mb(self) -> float:
        return int(np.prod(self.input_shape)) * self.itemsize / _MB

    @property
    def activation_size_mb(self) -> float:
        """Memory of every leaf layer's output in one forward pass (backward keeps about as much again)."""
        return sum(_numel(row.output_shape) for row in self.rows) * self.itemsize / _MB

    @property
    def params_size_mb(self) -> float:
        return self.total_params * self.itemsize / _MB

    @property
    def estimated_total_mb(self) -> float:
        """Input + parameters + activations twice (the forward outputs and their gradients)."""
        return self.input_size_mb + self.params_size_mb + 2 * self.activation_size_mb

    def table(self) -> str:
        header = ("Layer", "Type", "Output shape", "Params", "MACs")
        body = [(row.name, row.type, _format_shape(row.output_shape), f"{row.params:,}", f"{row.macs:,}")
                for row in self.rows]
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        left_aligned = (True, True, True, False, False)

        def format_line(cells):
            return "  ".join(cell.ljust(width) if left else cell.rjust(width)
                             for cell, width, left in zip(cells, widths, left_aligned))

        rule = "=" * len(format_line(header))
        lines = [f"{self.model_name}: input {_format_shape(self.input_shape)} -> output "
                 f"{_format_shape(self.output_shape)}", rule, format_line(header), "-" * len(rule)]
        lines += [format_line(cells) for cells in body]
        lines += [
            rule,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            f"Total MACs: {self.total_macs:,} ({self.total_macs / 1e9:.3f} G)",
            "-" * len(rule),
            f"Input size (MB): {self.input_size_mb:.2f}",
            f"Forward activations size (MB): {self.activation_size_mb:.2f}",
            f"Params size (MB): {self.params_size_mb:.2f}",
            f"Estimated total size (MB): {self.estimated_total_mb:.2f}",
            rule,
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return self.table()


def _numel(shape) -> int:
    return int(np.prod(shape)) if shape else 1


def _format_shape(shape) -> str:
    if shape and isinstance(shape[0], tuple):  # a layer that returned several tensors
        return ", ".join(_format_shape(s) for s in shape)
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _output_shape(output):
    if isinstance(output, (tuple, list)):
        shapes = tuple(_output_shape(item) for item in output if hasattr(item, "shape"))
        return shapes[0] if len(shapes) == 1 else shapes
    return tuple(output.shape)


def _layer_macs(module, output_shape) -> int:
    """Multiply-accumulates of one call, from the weight shape (see the module docstring)."""
    from . import nn

    if not output_shape or isinstance(output_shape[0], tuple):
        return 0
    out_elements = _numel(output_shape)
    if isinstance(module, nn.Conv2d):
        # weight (C_out, C_in / groups, KH, KW): each output element sums C_in/groups * KH * KW products
        in_per_group, kernel_h, kernel_w = module.weight.shape[1:]
        return out_elements * in_per_group * kernel_h * kernel_w
    if isinstance(module, nn.Linear):
        return out_elements * module.weight.shape[1]
    return 0


def _is_leaf(module) -> bool:
    return next(iter(module.children()), None) is None


def summary(model, input_shape, batch_size: int = 1, device: str = "cpu", dtype=None) -> Summary:
    """Run ``model`` once on a random (batch_size, *input_shape) batch and tabulate its leaf layers.

    Args:
        model: a minicnn Module, already on ``device``.
        input_shape: one sample's shape without the batch dimension, e.g. (3, 224, 224).
        batch_size: samples in the batch (output shapes and MACs are for the whole batch).
        device: where the input is made ("cpu", "cuda", "sim").
        dtype: of the input; defaults to the dtype of the model's first parameter (float32 if none).

    Returns a ``Summary``: ``print()`` it for the table; fields ``rows`` (LayerRow list), ``total_params``,
    ``trainable_params``, ``total_macs``, ``output_shape`` and the memory estimates.
    """
    from . import creation, random
    from .autograd import no_grad

    input_shape = tuple(int(s) for s in input_shape)
    if batch_size < 1:
        raise ValueError(f"summary: batch_size must be >= 1, got {batch_size}")
    parameters = list(model.parameters())
    if dtype is None:
        dtype = parameters[0].dtype if parameters else np.float32
    generator = random.host_generator()
    host_input = generator.standard_normal((batch_size, *input_shape)).astype(dtype)
    x = creation.tensor(host_input, device=device)

    rows = []
    seen = set()
    wrapped = []

    def make_wrapper(name, module, original_forward):
        def recording_forward(*args, **kwargs):
            output = original_forward(*args, **kwargs)
            shape = _output_shape(output)
            params = 0
            if id(module) not in seen:
                seen.add(id(module))
                params = sum(p.numel() for p in module.parameters())
            rows.append(LayerRow(name, type(module).__name__, shape, params, _layer_macs(module, shape)))
            return output

        return recording_forward

    named = list(model.named_modules())
    leaves = [(name or type(module).__name__, module) for name, module in named if _is_leaf(module)]
    modes = [(module, module.training) for _, module in named]
    try:
        for name, module in leaves:
            if "forward" in vars(module):  # a forward set on the instance by its owner: leave it alone
                continue
            # On the instance, so only this object sees the wrapper; object.__setattr__ bypasses the
            # Module's attribute bookkeeping (a function is neither a Parameter nor a Module).
            object.__setattr__(module, "forward", make_wrapper(name, module, module.forward))
            wrapped.append(module)
        model.eval()
        with no_grad():
            output = model(x)
    finally:
        for module in wrapped:
            del vars(module)["forward"]
        for module, training in modes:
            module.training = training

    unique = {id(p): p for p in parameters}.values()
    return Summary(
        model_name=type(model).__name__,
        input_shape=(batch_size, *input_shape),
        output_shape=_output_shape(output),
        rows=rows,
        total_params=sum(p.numel() for p in unique),
        trainable_params=sum(p.numel() for p in unique if p.requires_grad),
        total_macs=sum(row.macs for row in rows),
        itemsize=np.dtype(dtype).itemsize,
    )


def print_summary(model, input_shape, batch_size: int = 1, device: str = "cpu", dtype=None) -> Summary:
    """``summary`` and print its table; returns the Summary."""
    result = summary(model, input_shape, batch_size=batch_size, device=device, dtype=dtype)
    print(result)
    return result
