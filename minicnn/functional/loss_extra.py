"""More losses: binary cross-entropy (on probabilities and on logits), L1, smooth L1, KL divergence,
hinge embedding, and the distance-based cosine_similarity, pairwise_distance, triplet_margin_loss.

The pointwise losses share one Function: forward computes each element's loss and its local
derivatives with respect to input and target; backward multiplies them by the upstream gradient
(divided by the element count for "mean", by N for "batchmean"). The formulas, per element:

    binary_cross_entropy   l = -w (t log x + (1 - t) log(1 - x))     (logs clamped at -100, as torch)
                           dl/dx = w (x - t) / max(x (1 - x), 1e-12),  dl/dt = w (log(1 - x) - log x)
    bce_with_logits        l = w ((1 - t) x + c softplus(-x)),  c = 1 + (pos_weight - 1) t
                           dl/dx = w ((1 - t) - c sigmoid(-x)),  dl/dt = w (-x + (pos_weight - 1) softplus(-x))
    l1                     l = |x - t|,  dl/dx = sign(x - t) = -dl/dt
    smooth_l1 (beta)       l = (x - t)^2 / (2 beta) if |x - t| < beta else |x - t| - beta / 2
                           dl/dx = (x - t) / beta, or sign(x - t);  dl/dt = -dl/dx
    kl_div                 l = t (log t - x)  (0 where t = 0),  dl/dx = -t,  dl/dt = log t + 1 - x
    kl_div, log_target     l = e^t (t - x),  dl/dx = -e^t,  dl/dt = e^t (t - x + 1)
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from .loss import _reduction_from

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "l1_loss", "smooth_l1_loss", "kl_div",
           "cosine_similarity", "pairwise_distance", "triplet_margin_loss", "hinge_embedding_loss"]


def _softplus(xp, x):
    return xp.logaddexp(0, x)


def _pointwise(kind, x, t, weight, options):
    """(loss, dloss/dx, dloss/dt) elementwise, as in the module docstring."""
    xp = backend.get_array_module(x)
    if kind == "bce":
        log_x, log_1mx = xp.maximum(xp.log(x), -100), xp.maximum(xp.log1p(-x), -100)
        loss = -(t * log_x + (1 - t) * log_1mx)
        dx, dt = (x - t) / xp.maximum(x * (1 - x), 1e-12), log_1mx - log_x
    elif kind == "bce_logits":
        pos_weight = options["pos_weight"]
        coefficient = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        softplus_neg = _softplus(xp, -x)
        loss = (1 - t) * x + coefficient * softplus_neg
        dx = (1 - t) - coefficient * xp.exp(-_softplus(xp, x))  # sigmoid(-x) = exp(-softplus(x))
        dt = -x + (0 if pos_weight is None else (pos_weight - 1) * softplus_neg)
    elif kind == "l1":
        diff = x - t
        loss, dx = xp.abs(diff), xp.sign(diff)
        dt = -dx
    elif kind == "smooth_l1":
        beta, diff = options["beta"], x - t
        small = xp.abs(diff) < beta
        if beta == 0:
            loss, dx = xp.abs(diff), xp.sign(diff)
        else:
            loss = xp.where(small, 0.5 * diff * diff / beta, xp.abs(diff) - 0.5 * beta)
            dx = xp.where(small, diff / beta, xp.sign(diff))
        dt = -dx
    elif options["log_target"]:  # kl_div
        exp_t = xp.exp(t)
        loss, dx, dt = exp_t * (t - x), -exp_t, exp_t * (t - x + 1)
    else:
        positive = t > 0
        log_t = xp.log(xp.where(positive, t, 1))
        loss = xp.where(positive, t * (log_t - x), 0)
        dx, dt = -t, xp.where(positive, log_t + 1 - x, 0)
    if weight is not None:
        weight = weight.astype(x.dtype, copy=False)
        loss, dx, dt = loss * weight, dx * weight, dt * weight
    return loss, dx, dt


class PointwiseLoss(Function):
    def forward(self, x, t, weight, kind, options, reduction):
        xp = backend.get_array_module(x)
        loss, dx, dt = _pointwise(kind, x, t, weight, options)
        self.save_for_backward(dx, dt)
        self.reduction = reduction
        if reduction == "none":
            return loss.astype(x.dtype, copy=False)
        total = loss.sum()
        self.count = loss.size if reduction == "mean" else (x.shape[0] if reduction == "batchmean" and x.ndim else 1)
        return xp.asarray(total / self.count if reduction in ("mean", "batchmean") else total, dtype=x.dtype)

    def backward(self, grad):
        # d(reduced loss)/d element = 1 (sum), 1/n (mean), 1/N (batchmean); times the local derivatives
        dx, dt = self.saved
        scale = grad if self.reduction == "none" else grad / (self.count if self.reduction != "sum" else 1)
        return (dx * scale if self.needs_input_grad[0] else None,
                dt * scale if self.needs_input_grad[1] else None)


def _pair_check(name, input, target, weight=None):
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{name}: input and target must be Tensors, got {type(input).__name__} and "
                        f"{type(target).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"{name}: Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point, got dtype {input.dtype}")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)  # torch promotes an integer or other-float target
    if weight is not None and not isinstance(weight, Tensor):
        raise TypeError(f"{name}: weight must be a Tensor, got {type(weight).__name__}")
    return target


def _weight_array(weight, shape):
    if weight is None:
        return None
    xp = backend.get_array_module(weight.array)
    return xp.broadcast_to(weight.array, shape)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-w (t log x + (1 - t) log(1 - x)) for probabilities ``input`` in [0, 1], any shape."""
    reduction = _reduction_from("binary_cross_entropy", size_average, reduce, reduction)
    target = _pair_check("binary_cross_entropy", input, target, weight)
    values = input.array
    if backend.get_array_module(values) is np and values.size and (values.min() < 0 or values.max() > 1):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1")
    return PointwiseLoss.apply(input, target, weight=_weight_array(weight, input.shape), kind="bce", options={},
                               reduction=reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid plus binary cross-entropy in one stable step; ``pos_weight`` scales the positive term per class."""
    reduction = _reduction_from("binary_cross_entropy_with_logits", size_average, reduce, reduction)
    target = _pair_check("binary_cross_entropy_with_logits", input, target, weight)
    options = {"pos_weight": None if pos_weight is None else
               _weight_array(pos_weight, input.shape).astype(input.dtype, copy=False)}
    return PointwiseLoss.apply(input, target, weight=_weight_array(weight, input.shape), kind="bce_logits",
                               options=options, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """|x - t|, reduced."""
    reduction = _reduction_from("l1_loss", size_average, reduce, reduction)
    target = _pair_check("l1_loss", input, target)
    return PointwiseLoss.apply(input, target, weight=None, kind="l1", options={}, reduction=reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Quadratic below ``beta``, linear above (Huber loss divided by beta)."""
    reduction = _reduction_from("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    target = _pair_check("smooth_l1_loss", input, target)
    return PointwiseLoss.apply(input, target, weight=None, kind="smooth_l1", options={"beta": float(beta)},
                               reduction=reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: ``input`` holds log-probabilities; "batchmean" divides by N."""
    if reduction == "batchmean":
        chosen = "batchmean"
    else:
        chosen = _reduction_from("kl_div", size_average, reduce, reduction)
        if chosen == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          UserWarning, stacklevel=2)
    target = _pair_check("kl_div", input, target)
    return PointwiseLoss.apply(input, target, weight=None, kind="kl", options={"log_target": bool(log_target)},
                               reduction=chosen)


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    reduction = _reduction_from(name, None, None, reduction)
    return loss if reduction == "none" else (loss.sum() if reduction == "sum" else loss.mean())


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(|x1|, eps) * max(|x2|, eps)) along ``dim`` (inputs broadcast)."""
    norm1 = (x1 * x1).sum(dim=dim).sqrt().clamp(min=eps)
    norm2 = (x2 * x2).sum(dim=dim).sqrt().clamp(min=eps)
    return (x1 * x2).sum(dim=dim) / (norm1 * norm2)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension."""
    diff = (x1 - x2 + eps).abs()
    return (diff ** p).sum(dim=-1, keepdim=keepdim) ** (1.0 / p)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-norm distance; ``swap`` uses min(d(a, n), d(p, n))."""
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(f"triplet_margin_loss: anchor, positive and negative must have the same number of "
                           f"dimensions, got {anchor.shape}, {positive.shape}, {negative.shape}")
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        other = pairwise_distance(positive, negative, p, eps)
        from .elementwise import where

        to_negative = where(other < to_negative, other, to_negative)
    loss = (to_positive - to_negative + margin).clamp(min=0)
    return _reduce(loss, _reduction_from("triplet_margin_loss", size_average, reduce, reduction),
                   "triplet_margin_loss")


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """x where target is 1, max(0, margin - x) where target is -1."""
    from .elementwise import where

    target_values = target.array
    zero = input * 0
    loss = where(Tensor(target_values != 1), (margin - input).clamp(min=0), zero) + \
        where(Tensor(target_values != -1), input, zero)
    return _reduce(loss, _reduction_from("hinge_embedding_loss", size_average, reduce, reduction),
                   "hinge_embedding_loss")
