"""Explaining a trained classifier: what its layers compute, and which pixels its decision depends on.

    maps = viz.feature_maps(model, x, "layer1")           # (N, C, H, W) activations of one layer
    grid = viz.filters(model.conv1)                       # the kernels as one image grid
    sal = viz.saliency(model, x, target)                  # (N, H, W): max over channels of |d score / d x|
    cam = viz.grad_cam(model, x, target, "layer4")        # (N, H, W) in [0, 1], at the input's size
    names, means, maxes = viz.gradient_flow(model)        # after backward: |grad| per layer

Every function takes ``save=PATH`` to also write a PNG. ``layer`` is a Module or its dotted name
(``model.get_submodule``). The model runs in eval mode (dropout off, batch-norm running statistics)
and is put back in the mode it had.

Grad-CAM (Selvaraju et al., 2017): with A the layer's activations (C, h, w) and y the target's score,
the weight of channel c is the mean over positions of dy/dA_c; the map is ReLU(sum_c weight_c A_c),
upsampled (bilinear) to the input and scaled to [0, 1].
"""
from __future__ import annotations

import contextlib

import numpy as np

from .. import backend
from ..autograd import Tensor
from . import figures


def _host(tensor) -> np.ndarray:
    return backend.to_host(tensor.array if isinstance(tensor, Tensor) else tensor)


def _layer(model, layer):
    return model.get_submodule(layer) if isinstance(layer, str) else layer


@contextlib.contextmanager
def _eval_mode(model):
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _targets(target, count: int, scores: np.ndarray) -> np.ndarray:
    """One class per image: given (int or sequence), or the predicted class when None."""
    if target is None:
        return scores.argmax(axis=1)
    targets = np.broadcast_to(np.asarray(target, dtype=np.int64), (count,))
    if targets.min() < 0 or targets.max() >= scores.shape[1]:
        raise ValueError(f"target {target} is outside the model's {scores.shape[1]} classes")
    return targets


def _score_gradient(model, x, target, capture=None):
    """Forward, then backward of the sum of each image's target score. Returns (x_grad, targets, captured):
    ``captured`` holds (activation, gradient) of module ``capture`` when given."""
    captured = {}
    handles = []
    if capture is not None:
        def keep(module, args, output):
            captured["activation"] = output
            output.register_hook(lambda grad: captured.__setitem__("gradient", grad))
        handles.append(capture.register_forward_hook(keep))
    inputs = Tensor(x.array if isinstance(x, Tensor) else np.asarray(x), requires_grad=True)
    parameters = list(model.parameters())
    wanted = [parameter.requires_grad for parameter in parameters]
    try:
        for parameter in parameters:  # no parameter gradient is needed, and none may be disturbed
            parameter.requires_grad = False
        with _eval_mode(model):
            scores = model(inputs)
            targets = _targets(target, scores.shape[0], _host(scores))
            one_hot = np.zeros(scores.shape, dtype=scores.dtype)
            one_hot[np.arange(scores.shape[0]), targets] = 1
            scores.backward(Tensor(one_hot, device=scores.device))
    finally:
        for handle in handles:
            handle.remove()
        for parameter, wants in zip(parameters, wanted):
            parameter.requires_grad = wants
    return _host(inputs.grad), targets, captured


def feature_maps(model, x, layer, save=None, image: int = 0) -> np.ndarray:
    """The (N, C, H, W) output of ``layer`` for input ``x``; ``save`` draws image ``image``'s channels."""
    module = _layer(model, layer)
    captured = {}
    handle = module.register_forward_hook(lambda m, args, output: captured.__setitem__("output", output))
    from ..autograd import no_grad

    try:
        with _eval_mode(model), no_grad():
            model(x if isinstance(x, Tensor) else Tensor(np.asarray(x)))
    finally:
        handle.remove()
    maps = _host(captured["output"])
    if save is not None:
        figures.save_image(figures.tile(figures.normalize(maps[image], axis=(1, 2))), save,
                           f"{layer if isinstance(layer, str) else type(module).__name__}: {maps.shape[1]} maps")
    return maps


def filters(conv_layer, save=None) -> np.ndarray:
    """The kernels of a convolution as one image grid: (rows, cols) for one input channel, (rows, cols, 3)
    for three (shown as colour), else each kernel's mean over input channels. Each kernel is scaled to [0, 1]."""
    weight = _host(conv_layer.weight).astype(np.float64)  # (C_out, C_in, kh, kw)
    if weight.shape[1] == 3:
        kernels = weight.transpose(0, 2, 3, 1)
        kernels = figures.normalize(kernels, axis=(1, 2, 3))
    else:
        kernels = figures.normalize(weight.mean(axis=1), axis=(1, 2))
    grid = figures.tile(kernels)
    if save is not None:
        figures.save_image(grid, save, f"{weight.shape[0]} filters {weight.shape[2]}x{weight.shape[3]}", cmap="gray")
    return grid


def saliency(model, x, target=None, save=None) -> np.ndarray:
    """(N, H, W): the largest |d score[target] / d pixel| over channels (Simonyan et al., 2014)."""
    gradient, targets, _ = _score_gradient(model, x, target)
    maps = np.abs(gradient).max(axis=1)
    if save is not None:
        figures.save_image(maps[0], save, f"saliency of class {targets[0]}", cmap="hot")
    return maps


def _bilinear(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """(N, h, w) -> (N, height, width), sampling at pixel centres (align_corners=False)."""
    _, h, w = maps.shape
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[None, :, None], (xs - x0)[None, None, :]
    top = maps[:, y0][:, :, x0] * (1 - fx) + maps[:, y0][:, :, x1] * fx
    bottom = maps[:, y1][:, :, x0] * (1 - fx) + maps[:, y1][:, :, x1] * fx
    return top * (1 - fy) + bottom * fy


def grad_cam(model, x, target=None, layer=None, save=None) -> np.ndarray:
    """(N, H, W) Grad-CAM maps in [0, 1] at the input's size (see the module docstring); ``layer``
    should output (N, C, h, w), usually the last convolutional stage."""
    if layer is None:
        raise ValueError("grad_cam: give the layer whose activations explain the decision, e.g. 'layer4'")
    module = _layer(model, layer)
    _, targets, captured = _score_gradient(model, x, target, capture=module)
    activation, gradient = _host(captured["activation"]), _host(captured["gradient"])
    if activation.ndim != 4:
        raise ValueError(f"grad_cam: layer {layer!r} outputs shape {activation.shape}; expected (N, C, h, w)")
    weights = gradient.mean(axis=(2, 3), keepdims=True)
    cams = np.maximum((weights * activation).sum(axis=1), 0)
    inputs = x.shape if isinstance(x, Tensor) else np.shape(x)
    cams = figures.normalize(_bilinear(cams, inputs[2], inputs[3]), axis=(1, 2))
    if save is not None:
        picture = x.array if isinstance(x, Tensor) else np.asarray(x)
        picture = figures.normalize(backend.to_host(picture)[0].mean(axis=0))
        figures.save_image(picture, save, f"Grad-CAM of class {targets[0]} at {layer}", cmap="jet", overlay=cams[0])
    return cams


def gradient_flow(model, save=None):
    """(names, mean |grad|, max |grad|) of every weight (not bias) that has a gradient, in model order:
    after a backward, it shows where gradients shrink (vanish) or grow (explode) through depth."""
    names, means, maxes = [], [], []
    for name, parameter in model.named_parameters():
        if parameter.grad is None or name.endswith("bias"):
            continue
        values = np.abs(_host(parameter.grad))
        names.append(name)
        means.append(float(values.mean()))
        maxes.append(float(values.max()))
    if not names:
        raise ValueError("gradient_flow: no parameter has a gradient; call backward() first")
    means, maxes = np.array(means), np.array(maxes)
    if save is not None:
        figure = figures.new_figure(max(6, 0.3 * len(names)), 4)
        axes = figure.add_subplot()
        positions = np.arange(len(names))
        axes.bar(positions, maxes, alpha=0.4, label="max |grad|")
        axes.bar(positions, means, alpha=0.9, label="mean |grad|")
        axes.set_yscale("log")
        axes.set_xticks(positions, names, rotation=90, fontsize=7)
        axes.set_ylabel("|gradient|")
        axes.legend()
        figures.save(figure, save)
    return names, means, maxes
