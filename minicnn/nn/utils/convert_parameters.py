"""All parameters as one flat vector and back (torch.nn.utils.parameters_to_vector / vector_to_parameters)."""
from __future__ import annotations

from ... import functional as F
from ...autograd import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """The parameters flattened and concatenated in order (differentiable, like torch's)."""
    params = list(parameters)
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise TypeError(f"parameters_to_vector: found parameters on different devices {sorted(devices)}")
    return F.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of ``vec`` into the parameters, in order (their values change in place)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    needed = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != needed:
        raise ValueError(f"vector_to_parameters: vec must be 1-D with {needed} elements, got shape {vec.shape}")
    pointer = 0
    for param in params:
        count = param.numel()
        param.array[...] = vec.array[pointer:pointer + count].reshape(param.shape).astype(param.dtype, copy=False)
        pointer += count
