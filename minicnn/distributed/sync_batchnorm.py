"""SyncBatchNorm: batch normalization whose batch statistics are those of every rank's batch together.

For channel c, rank r holds M_r of the M = sum_r M_r values x_i of the global batch:

    forward    mean = (sum_r sum_{i in r} x_i) / M                     (allreduce 1: the sums and M)
               var  = (sum_r sum_{i in r} (x_i - mean)^2) / M          (allreduce 2, two passes as
                                                                         one-process BatchNorm, exact)
               y_i  = gamma * (x_i - mean) * inv_std + beta,   inv_std = 1 / sqrt(var + eps)

    backward   (allreduce 3) the global sums  S1 = sum_all dy_j,  S2 = sum_all dy_j * (x_j - mean);
               mean and var depend on every rank's x, so, exactly as for one process over M values,
               dx_i    = gamma * inv_std * (dy_i - S1 / M - (x_i - mean) * inv_std^2 * S2 / M)
               dgamma  = inv_std * sum_{i in r} dy_i * (x_i - mean)    (this rank's part)
               dbeta   = sum_{i in r} dy_i                             (this rank's part)

dgamma and dbeta stay local because DistributedDataParallel averages parameter gradients anyway:
with each rank's loss the mean over its own batch, (1/N) * sum_r (rank r's part) is the one-process
gradient of the mean loss over the global batch. dx is the global formula applied to this rank's
values: each rank's dy carries the factor 1/M_r of its own mean, so dx is N times the one-process
value for its shard, and the average of the resulting parameter gradients again equals one process.

In eval mode (or alone, without a process group of more than one rank) it is plain BatchNorm.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function
from ..functional.norm import _per_channel, _reduce_axes, _same_layout, channel_view, input_grad, normalize, view_like
from ..nn.normalization import _BatchNorm
from .collectives import all_reduce_array
from .process_group import ReduceOp, is_initialized, get_world_size


class SyncBatchNormFunction(Function):
    """Training-mode batch norm with statistics reduced over the ranks (see the module docstring)."""

    def forward(self, x, weight, bias, running_mean, running_var, momentum, eps):
        xp = backend.get_array_module(x)
        view, layout = channel_view(x)
        axes = _reduce_axes(layout)
        local_count = view.size // view.shape[1]
        # allreduce 1: [per-channel sums..., count] in one message, in float64 for an exact count
        sums = xp.concatenate([view.sum(axis=axes).astype(np.float64), xp.asarray([float(local_count)])])
        all_reduce_array(sums, ReduceOp.SUM)
        count = int(round(float(backend.to_host(sums[-1]))))
        mean = (sums[:-1] / count).astype(x.dtype)
        centered = view - _per_channel(mean, layout)
        squares = (centered * centered).sum(axis=axes)
        all_reduce_array(squares, ReduceOp.SUM)  # allreduce 2
        var = squares / count
        if running_mean is not None:
            running_mean *= 1.0 - momentum
            running_mean += (momentum * mean).astype(running_mean.dtype, copy=False)
            running_var *= 1.0 - momentum
            running_var += (momentum * count / max(count - 1, 1) * var).astype(running_var.dtype, copy=False)
        inv_std = 1.0 / xp.sqrt(var + eps)
        gamma = weight if weight is not None else xp.ones_like(inv_std)
        beta = bias if bias is not None else xp.zeros_like(inv_std)
        out = normalize(view, layout, mean, gamma * inv_std, beta)
        self.save_for_backward(view, mean, inv_std, gamma)
        self.layout, self.input_shape, self.count = layout, x.shape, count
        return view_like(out, layout, x.shape, xp)

    def backward(self, grad):
        xp = backend.get_array_module(grad)
        view, mean, inv_std, gamma = self.saved
        layout, count = self.layout, self.count
        needs_input, needs_weight, needs_bias = self.needs_input_grad
        grad_view = _same_layout(grad, layout, xp)
        axes = _reduce_axes(layout)
        centered = view - _per_channel(mean, layout)
        local_sum_dy = grad_view.sum(axis=axes)
        local_sum_dy_centered = (grad_view * centered).sum(axis=axes)
        grad_input = None
        if needs_input:
            # allreduce 3: S1 and S2 of the whole batch (every rank calls it, so the ranks stay in step)
            both = xp.concatenate([local_sum_dy, local_sum_dy_centered])
            all_reduce_array(both, ReduceOp.SUM)
            channels = local_sum_dy.shape[0]
            sum_dy, sum_dy_centered = both[:channels], both[channels:]
            scale = gamma * inv_std
            x_scale = scale * inv_std * inv_std * sum_dy_centered / count
            dx = input_grad(grad_view, view, layout, mean, scale, x_scale, scale * sum_dy / count)
            grad_input = view_like(dx, layout, self.input_shape, xp)
        grad_weight = local_sum_dy_centered * inv_std if needs_weight else None
        grad_bias = local_sum_dy if needs_bias else None
        return grad_input, grad_weight, grad_bias


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, ...) inputs (2 to 5 dimensions) whose training statistics are computed
    over the batches of every rank together (torch.nn.SyncBatchNorm). Arguments are BatchNorm2d's;
    ``process_group`` must be None (the default group)."""

    accepted_ranks = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None, device=None, dtype=None):
        if process_group is not None:
            raise ValueError("SyncBatchNorm: only the default process group exists (process_group=None)")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        self._check_input(input)
        if not self.training or not is_initialized() or get_world_size() == 1:
            return super().forward(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:
                factor = 1.0 / float(backend.to_host(self.num_batches_tracked.array))
        for what, tensor in (("weight", self.weight), ("bias", self.bias)):
            if tensor is not None and tensor.dtype != input.dtype:
                raise TypeError(f"{self!r}: {what} has dtype {tensor.dtype}, the input {input.dtype}")
        running = self.track_running_stats
        return SyncBatchNormFunction.apply(
            input, self.weight, self.bias,
            running_mean=self.running_mean.array if running else None,
            running_var=self.running_var.array if running else None,
            momentum=float(factor), eps=float(self.eps))

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm layer replaced by a SyncBatchNorm holding the same parameters
        and buffers (the very tensors, so an optimizer made before still updates them)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)
            if module.affine:
                converted.weight = module.weight
                if module.bias is not None:
                    converted.bias = module.bias
                else:
                    converted.register_parameter("bias", None)
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.train(module.training)
        for name, child in list(module.named_children()):
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted

