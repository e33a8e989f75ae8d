"""Where pooling windows lie (``PoolGeometry``), torch's output sizes, and the argument checks pooling shares."""
from __future__ import annotations

from typing import NamedTuple

from ...autograd import Tensor
from ..pairs import int_pair


class PoolGeometry(NamedTuple):
    """Everything that fixes where the windows lie, as (rows, columns) pairs."""

    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    output: tuple  # (OH, OW)

    def rows_spanned(self, axis: int) -> int:
        """How many (padded) input rows/columns the windows reach, from the first window's start."""
        return (self.output[axis] - 1) * self.stride[axis] + self.dilation[axis] * (self.kernel[axis] - 1) + 1

    def windows_overlap(self) -> bool:
        return any(self.stride[a] < self.dilation[a] * (self.kernel[a] - 1) + 1 for a in (0, 1))


def pooled_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """Output length along one axis (torch's rule). With ceil_mode a last, partial window is kept only
    if it starts inside the input or the left padding."""
    reach = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (reach + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def pool_geometry(input: Tensor, name: str, kernel_size, stride, padding, dilation, ceil_mode) -> PoolGeometry:
    kernel = int_pair(name, "kernel_size", kernel_size)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else int_pair(
        name, "stride", stride)
    padding = int_pair(name, "padding", padding)
    dilation = int_pair(name, "dilation", dilation)
    for what, pair in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if min(pair) <= 0:
            raise ValueError(f"{name}: {what} must be positive, got {pair}")
    if min(padding) < 0:
        raise ValueError(f"{name}: padding must be non-negative, got {padding}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(
            f"{name}: padding must be at most half of kernel_size, got padding={padding}, kernel_size={kernel}")
    height, width = input.shape[2:]
    output = tuple(
        pooled_size(size, kernel[a], stride[a], padding[a], dilation[a], ceil_mode)
        for a, size in enumerate((height, width))
    )
    if min(output) < 1:
        raise ValueError(
            f"{name}: input of spatial size {(height, width)} is too small for kernel_size={kernel}, "
            f"padding={padding}, dilation={dilation}: the output size would be {output}")
    return PoolGeometry(kernel, stride, padding, dilation, output)


def batched(input: Tensor, name: str):
    """Pooling accepts (C, H, W) as one sample; returns the 4-D input and whether to drop the batch axis."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (3, 4):
        raise ValueError(f"{name}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point input, got dtype {input.dtype}")
    return (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)


def max_result(out: Tensor, indices: list | None, unbatched: bool):
    """What the max poolings return: ``out``, or (out, int64 indices) when indices were asked for (a
    list the Function appended them to), with the batch axis dropped again for a (C, H, W) input."""
    if unbatched:
        out = out.squeeze(0)
    if indices is None:
        return out
    index = Tensor(indices[0])
    return out, (Tensor(index.array[0]) if unbatched else index)
