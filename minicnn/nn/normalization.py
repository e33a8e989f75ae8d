"""Batch normalization layers: ``BatchNorm1d`` and ``BatchNorm2d``.

In training they normalize with the batch's statistics and fold them into ``running_mean`` and
``running_var`` (unbiased variance, as PyTorch); in eval they normalize with the running ones.
"""
from __future__ import annotations

from .. import argcheck, backend
from .. import functional as F
from . import init
from ._utils import check_channels, register_affine, register_running_stats
from .module import Module


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d. weight (gamma) and bias (beta): (num_features,), initialized to 1 and 0.

    ``bias=False`` (keyword) keeps gamma but drops beta. ``momentum=None`` makes the running statistics
    a cumulative average over all batches seen (factor 1 / num_batches_tracked), as in PyTorch.
    """

    accepted_ranks: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        name = type(self).__name__
        self.num_features = num_features = argcheck.integer(name, "num_features", num_features, 0)
        self.eps = argcheck.number(name, "eps", eps, 0)
        self.momentum = momentum if momentum is None else argcheck.probability(name, "momentum", momentum)
        self.affine = affine
        self.track_running_stats = track_running_stats
        register_affine(self, (num_features,), affine, bias, device, dtype)
        register_running_stats(self, num_features, track_running_stats, device, dtype)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input) -> None:
        if input.ndim not in self.accepted_ranks:
            wanted = " or ".join(f"{r}D" for r in self.accepted_ranks)
            raise ValueError(f"{self!r}: expected {wanted} input, got {input.ndim}D input of shape {input.shape}")
        check_channels(self, input, self.num_features, axis=1)

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1  # in place on the device: no host round trip
            if self.momentum is None:
                # Cumulative average: the only place that reads the counter back (a device sync).
                factor = 1.0 / float(backend.to_host(self.num_batches_tracked.array))
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        # Running statistics are updated only while training with track_running_stats.
        keep_running = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep_running else None,
            self.running_var if keep_running else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L), with statistics per channel C."""

    accepted_ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W), with statistics per channel C (over N, H and W)."""

    accepted_ranks = (4,)
