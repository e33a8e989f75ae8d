"""softmax, log_softmax and the losses: cross_entropy, nll_loss, mse_loss.

Shapes follow torch: class scores ``input`` of shape (N, C) or (N, C, d1, ...) (or (C,) unbatched),
integer class ``target`` of shape (N,) or (N, d1, ...) (or ()). The class axis is axis 1.

Every softmax here subtracts the maximum along the class axis first: exp never overflows and
log-probabilities of logits as large as 1e4 stay finite.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from .cast import cast
from .elementwise import where
from .dims import normalize_dim

__all__ = ["softmax", "log_softmax", "cross_entropy", "nll_loss", "mse_loss"]

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------------------------------
# softmax / log_softmax
# ----------------------------------------------------------------------------------------------

def _log_softmax_array(x, axis):
    """log softmax of a raw array along ``axis``, stable for any finite x."""
    xp = backend.get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    def forward(self, x, axis):
        xp = backend.get_array_module(x)
        out = xp.exp(x - x.max(axis=axis, keepdims=True))
        out /= out.sum(axis=axis, keepdims=True)
        self.axis = axis
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        # y = softmax(x):  dx = y * (dy - sum(dy * y) over the axis)   (the Jacobian diag(y) - y y^T)
        (out,) = self.saved
        return out * (grad - (grad * out).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, axis):
        out = _log_softmax_array(x, axis)
        self.axis = axis
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        # y = log softmax(x):  dx = dy - softmax(x) * sum(dy) over the axis
        (out,) = self.saved
        xp = backend.get_array_module(out)
        return grad - xp.exp(out) * grad.sum(axis=self.axis, keepdims=True)


def _softmax_dim(name: str, input: Tensor, dim, dtype):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    if dim is None:
        # torch's legacy choice when no dim is given, with the same warning
        dim = 0 if input.ndim in (0, 1, 3) else 1
        warnings.warn(f"{name}: implicit dimension choice is deprecated, pass dim=", UserWarning, stacklevel=3)
    if dtype is not None:
        input = cast(input, dtype)
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point tensor, got dtype {input.dtype}")
    return input, normalize_dim(dim, input.ndim, name)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``. Any shape; the output has the input's shape."""
    input, axis = _softmax_dim("softmax", input, dim, dtype)
    if input.ndim == 0:
        return input * 0.0 + 1.0
    return Softmax.apply(input, axis=axis)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x - log(sum(exp(x))) along ``dim``, finite for logits as large as 1e4. Any shape."""
    input, axis = _softmax_dim("log_softmax", input, dim, dtype)
    if input.ndim == 0:
        return input * 0.0
    return LogSoftmax.apply(input, axis=axis)


# ----------------------------------------------------------------------------------------------
# Checking arguments of the classification losses
# ----------------------------------------------------------------------------------------------

def _reduction_from(name, size_average, reduce, reduction) -> str:
    """The reduction string, honouring torch's deprecated size_average/reduce flags."""
    if size_average is not None or reduce is not None:
        warnings.warn(f"{name}: size_average and reduce are deprecated, use reduction=", UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _check_classification(name, input, target, weight, ignore_index):
    """Validate shapes, dtypes and class indices; return (input, target) with a batch axis."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{name}: input and target must be Tensors, got {type(input).__name__} "
                        f"and {type(target).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating point tensor of scores, got dtype {input.dtype}")
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: target must hold integer class indices (int64), got dtype {target.dtype}; "
            "class-probability targets are not supported"
        )
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")
    if input.ndim == 1:  # unbatched: (C,) scores, () target
        if target.ndim != 0:
            raise ValueError(f"{name}: unbatched input of shape {input.shape} expects target of shape (), "
                             f"got {target.shape}")
        input, target = input.reshape(1, input.shape[0]), target.reshape(1)
    expected = (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{name}: input of shape {input.shape} expects target of shape {expected}, "
                         f"got {target.shape}")
    classes = input.shape[1]
    if weight is not None:
        if not isinstance(weight, Tensor):
            raise TypeError(f"{name}: weight must be a Tensor, got {type(weight).__name__}")
        if weight.shape != (classes,):
            raise ValueError(f"{name}: weight must have shape ({classes},), one per class, got {weight.shape}")
        if weight.dtype != input.dtype:
            raise TypeError(f"{name}: weight dtype {weight.dtype} does not match input dtype {input.dtype}")
    invalid = _check_target_range(name, target.array, classes, ignore_index)
    return input, target, invalid


def _check_target_range(name, target, classes, ignore_index):
    """Find class indices (other than ignore_index) outside [0, classes).

    On the CPU this costs one min and one max: a bad index raises ValueError naming it. On a GPU,
    reading the answer back would stall every training step until the device catches up, so, as
    PyTorch on CUDA, the check stays on the device: it returns a 0-d boolean device array, and the
    caller turns the loss into NaN when it is set. Returns None when there is nothing to flag.
    """
    if target.size == 0:
        return None
    xp = backend.get_array_module(target)
    # Ignored positions are replaced by 0, which is always a valid class, so they never trip the check.
    valid = target * (target != ignore_index)
    if xp is not np:
        return (valid.min() < 0) | (valid.max() >= classes)
    low, high = int(valid.min()), int(valid.max())
    bad = low if low < 0 else high if high >= classes else None
    if bad is not None:
        raise ValueError(
            f"{name}: target holds class index {bad}, outside [0, {classes}) for input with {classes} classes"
            + (f" (ignore_index is {ignore_index})" if ignore_index < 0 or ignore_index >= classes else "")
        )


def _nan_where_invalid(loss: Tensor, invalid) -> Tensor:
    """The loss, or NaN everywhere when the device-side target check found a bad class index."""
    if invalid is None:
        return loss
    xp = backend.get_array_module(loss.array)
    nan = Tensor(xp.full((), float("nan"), dtype=loss.dtype))  # filled on the device: no host copy
    return where(Tensor(invalid), nan, loss)


def _class_axis_shape(ndim: int, classes: int) -> tuple:
    """Shape (1, C, 1, ...) that broadcasts a per-class vector along axis 1 of an ndim array."""
    return (1, classes) + (1,) * (ndim - 2)


def _target_terms(target, weight, ignore_index, dtype, classes):
    """Per-element pieces shared by the losses: ``kept`` (target != ignore_index), ``safe`` targets
    (ignored -> 0) as (N, 1, d...) for indexing along the class axis, and ``target_weight`` = w[t]
    (1 without weights, 0 where ignored), all but ``safe`` of shape (N, d...)."""
    xp = backend.get_array_module(target)
    # Masks multiply rather than xp.where(mask, x, 0): no python scalar can change the dtype.
    kept = target != ignore_index
    # Clipped so that a bad index left for the device-side check (see _check_target_range) still
    # gathers a real class: its loss is replaced by NaN afterwards.
    safe = xp.expand_dims(xp.clip(target * kept, 0, classes - 1), 1)
    target_weight = kept.astype(dtype) if weight is None else weight[safe[:, 0]] * kept
    return kept, safe, target_weight


def _reduce(losses, target_weight, reduction):
    """Apply the reduction; 'mean' divides by the summed weights of the non-ignored targets (torch)."""
    xp = backend.get_array_module(losses)
    if reduction == "none":
        return losses, None
    total = xp.asarray(losses.sum())
    if reduction == "sum":
        return total, None
    normalizer = xp.asarray(target_weight.sum())
    # Every target ignored: torch returns nan and zero gradients. Dividing by a safe 1 instead of 0
    # gives those zeros in backward (each element's gradient is already 0) without a 0/0 warning.
    empty = normalizer == 0
    normalizer = normalizer + empty
    return xp.where(empty, xp.full_like(total, float("nan")), total / normalizer), normalizer


def _spread(grad, reduction, normalizer):
    """d out / d loss_i, broadcastable against arrays of shape (N, 1, d...) (the class axis kept)."""
    if reduction == "none":
        return backend.get_array_module(grad).expand_dims(grad, 1)
    return grad / normalizer if reduction == "mean" else grad  # a 0-d array broadcasts anywhere


# ----------------------------------------------------------------------------------------------
# nll_loss and cross_entropy
# ----------------------------------------------------------------------------------------------

class NLLLoss(Function):
    def forward(self, log_probs, target, weight, ignore_index, reduction):
        xp = backend.get_array_module(log_probs)
        kept, safe, target_weight = _target_terms(target, weight, ignore_index, log_probs.dtype, log_probs.shape[1])
        # loss_i = -w[t_i] * input[i, t_i], and exactly 0 for ignored targets even where input is -inf
        picked = xp.where(kept, xp.take_along_axis(log_probs, safe, axis=1)[:, 0], xp.zeros((), log_probs.dtype))
        losses = -target_weight * picked
        out, self.normalizer = _reduce(losses, target_weight, reduction)
        self.safe, self.target_weight, self.reduction = safe, target_weight, reduction
        self.input_shape = log_probs.shape
        return out

    def backward(self, grad):
        # d loss_i / d input[i, c] = -w[t_i] [c == t_i]; times d out / d loss_i (1, g_i, or 1/sum w[t])
        if not self.needs_input_grad[0]:
            return None, None, None
        xp = backend.get_array_module(self.target_weight)
        ndim, classes = len(self.input_shape), self.input_shape[1]
        onehot = xp.arange(classes).reshape(_class_axis_shape(ndim, classes)) == self.safe
        upstream = _spread(grad, self.reduction, self.normalizer)
        grad_input = onehot * (-xp.expand_dims(self.target_weight, 1) * upstream)
        return grad_input, None, None


class CrossEntropy(Function):
    """log_softmax + label smoothing + nll in one node: its gradient is softmax minus the target mix."""

    def forward(self, logits, target, weight, ignore_index, reduction, label_smoothing):
        xp = backend.get_array_module(logits)
        classes = logits.shape[1]
        # log p_c = s_c - log sum_k e^{s_k} with s = logits - max: one exp serves the loss and the gradient
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = xp.exp(shifted)
        partition = probs.sum(axis=1, keepdims=True)
        log_partition = xp.log(partition)[:, 0]
        probs /= partition
        kept, safe, target_weight = _target_terms(target, weight, ignore_index, logits.dtype, logits.shape[1])
        # Each element's target is the mix q_c = (1-ls) w[t] [c == t] + (ls/C) w_c  (w = 1 without weights),
        # and its loss is -sum_c q_c log p_c.
        losses = target_weight * (log_partition - xp.take_along_axis(shifted, safe, axis=1)[:, 0])
        class_weight = None
        if label_smoothing > 0:
            # -sum_c w_c log p_c = (sum_c w_c) log Z - sum_c w_c s_c
            if weight is not None:
                class_weight = weight.reshape(_class_axis_shape(logits.ndim, classes))
                smooth = weight.sum() * log_partition - (shifted * class_weight).sum(axis=1)
            else:
                smooth = classes * log_partition - shifted.sum(axis=1)
            losses = (1 - label_smoothing) * losses + (label_smoothing / classes) * (smooth * kept)
        out, self.normalizer = _reduce(losses, target_weight, reduction)
        self.probs = probs  # backward needs the probabilities only
        self.safe, self.target_weight, self.class_weight = safe, target_weight, class_weight
        self.kept = kept
        self.reduction, self.label_smoothing = reduction, label_smoothing
        return out

    def backward(self, grad):
        # dL_i/dz_ic = p_ic * sum_k q_ik - q_ic;  without weights sum_k q_ik = 1, so this is
        # p - (1-ls) onehot - ls/C; ignored elements have q = 0 and get no gradient.
        if not self.needs_input_grad[0]:
            return None, None, None
        xp = backend.get_array_module(self.probs)
        probs, ls = self.probs, self.label_smoothing
        ndim, classes = probs.ndim, probs.shape[1]
        onehot = xp.arange(classes).reshape(_class_axis_shape(ndim, classes)) == self.safe
        upstream = _spread(grad, self.reduction, self.normalizer)  # d out / d L_i: 0-d, or (N, 1, d...)
        target_part = xp.expand_dims(self.target_weight * (1 - ls), 1)  # (1-ls) w[t_i], 0 where ignored
        mass = target_part  # sum_k q_ik, shape (N, 1, d...)
        smooth_part = None  # the (ls/C) w_c part of q
        if ls > 0:
            kept = xp.expand_dims(self.kept, 1).astype(probs.dtype)
            if self.class_weight is None:
                smooth_part = kept * (ls / classes)
                mass = mass + kept * ls
            else:
                smooth_part = kept * (self.class_weight * (ls / classes))
                mass = mass + smooth_part.sum(axis=1, keepdims=True)
        # (p * sum q - q) * upstream, built in one full-size array
        grad_logits = probs * (mass * upstream)
        grad_logits -= onehot * (target_part * upstream)
        if smooth_part is not None:
            grad_logits -= smooth_part * upstream
        return grad_logits, None, None


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of integer class targets under log-probabilities ``input``.

    Shapes: input (N, C) / (N, C, d1, ...) / (C,), target (N,) / (N, d1, ...) / () of integer dtype,
    weight (C,) or None. Returns a 0-d tensor, or target's shape for reduction='none'.
    """
    reduction = _reduction_from("nll_loss", size_average, reduce, reduction)
    batched = input.ndim != 1 if isinstance(input, Tensor) else True
    input, target, invalid = _check_classification("nll_loss", input, target, weight, ignore_index)
    out = NLLLoss.apply(input, target, weight, ignore_index=ignore_index, reduction=reduction)
    out = _nan_where_invalid(out, invalid)
    return out if batched or reduction != "none" else out.reshape(())


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits ``input`` and integer class ``target`` (log_softmax + nll_loss).

    Shapes: input (N, C) / (N, C, d1, ...) / (C,), target (N,) / (N, d1, ...) / () of integer dtype,
    weight (C,) or None. 'mean' divides by the summed weights of the non-ignored targets, as torch.
    label_smoothing mixes the one-hot target with the uniform distribution over the C classes.
    """
    reduction = _reduction_from("cross_entropy", size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    batched = input.ndim != 1 if isinstance(input, Tensor) else True
    input, target, invalid = _check_classification("cross_entropy", input, target, weight, ignore_index)
    out = CrossEntropy.apply(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                             label_smoothing=float(label_smoothing))
    out = _nan_where_invalid(out, invalid)
    return out if batched or reduction != "none" else out.reshape(())


# ----------------------------------------------------------------------------------------------
# mse_loss
# ----------------------------------------------------------------------------------------------

class MSELoss(Function):
    def forward(self, input, target, reduction):
        xp = backend.get_array_module(input)
        diff = input - target
        self.save_for_backward(diff)
        self.reduction = reduction
        squared = diff * diff
        if reduction == "none":
            return squared
        return xp.asarray(squared.sum() if reduction == "sum" else squared.mean())

    def backward(self, grad):
        # loss = (x - y)^2 [summed, or averaged over n]:  dx = 2 (x - y) g [/ n],  dy = -dx
        (diff,) = self.saved
        if self.reduction == "mean":
            grad = grad * (2.0 / diff.size)
        else:
            grad = grad * 2.0
        grad_input = diff * grad
        return (grad_input if self.needs_input_grad[0] else None,
                -grad_input if self.needs_input_grad[1] else None)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error between ``input`` and ``target`` of the same shape (any).

    With ``weight`` (same shape) each squared error is weighted and 'mean' divides by sum(weight), as torch.
    """
    reduction = _reduction_from("mse_loss", size_average, reduce, reduction)
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"mse_loss: input and target must be Tensors, got {type(input).__name__} "
                        f"and {type(target).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: target shape {target.shape} must equal input shape {input.shape}")
    if input.dtype.kind != "f" and target.dtype.kind != "f":
        raise TypeError(f"mse_loss: input or target must be floating point, got {input.dtype} and {target.dtype}")
    if input.dtype != target.dtype:  # torch's type promotion: an integer target takes the input's float dtype
        common = input.dtype if target.dtype.kind != "f" else (
            target.dtype if input.dtype.kind != "f" else np.promote_types(input.dtype, target.dtype))
        input, target = input.to(common), target.to(common)
    if weight is None:
        return MSELoss.apply(input, target, reduction=reduction)
    if weight.shape != input.shape:
        raise ValueError(f"mse_loss: weight shape {weight.shape} must equal input shape {input.shape}")
    # Rare path: built from differentiable ops, so weight gets a gradient too.
    weighted = (input - target) ** 2 * weight
    if reduction == "none":
        return weighted
    return weighted.sum() if reduction == "sum" else weighted.sum() / weight.sum()
