"""Experiments on how training behaves: depth with and without shortcuts, batch norm, optimizers."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import nn, optim
from .. import random as minicnn_random
from ..autograd import Tensor
from . import common
from .common import Report, percent


class Block(nn.Module):
    """conv-BN-ReLU-conv-BN, then + x when ``residual`` (an identity shortcut), then ReLU."""

    def __init__(self, channels: int, residual: bool):
        super().__init__()
        self.residual = residual
        self.conv1, self.bn1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
        self.conv2, self.bn2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + x if self.residual else out)


def deep_net(depth: int, residual: bool, channels: int = 16) -> nn.Module:
    """``depth`` weight layers: a stem convolution, (depth - 2) / 2 blocks, and a linear classifier."""
    blocks = [Block(channels, residual) for _ in range((depth - 2) // 2)]
    return nn.Sequential(nn.Conv2d(1, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
                         *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10))


def gradient_norms_at_init(model, data) -> list[float]:
    """||d loss / d W|| of every convolution and linear weight, input to output, on one batch of 64."""
    images, labels = data[0].get_batch(np.arange(min(64, len(data[0]))))
    F.cross_entropy(model(Tensor(images)), Tensor(labels)).backward()
    return [float(np.linalg.norm(module.weight.grad.numpy())) for module in model.modules()
            if isinstance(module, (nn.Conv2d, nn.Linear))]


def plain_vs_residual(settings) -> tuple[Report, str]:
    size = 14 if settings.data_dir else 8
    depths = (4, 8) if settings.quick else (4, 10, 20)
    epochs = settings.epochs_or(8)
    data = common.load_data(settings, size)
    runs, norms = {}, {}
    for depth in depths:
        for residual in (False, True):
            name = f"{'residual' if residual else 'plain'}-{depth}"
            settings.log(f"  {name}")
            minicnn_random.manual_seed(settings.seed)
            norms[name] = gradient_norms_at_init(deep_net(depth, residual), data)
            runs[name] = common.train(lambda: deep_net(depth, residual), data, settings, epochs)
    rows = [[name, run.parameters, f"{run.history['train_loss'][0]:.3f}", f"{run.history['train_loss'][-1]:.3f}",
             percent(run.val_acc), f"{norms[name][0]:.3g}", f"{norms[name][-1]:.3g}"] for name, run in runs.items()]
    def loss(run):
        return run.history["train_loss"][-1]

    deepest = depths[-1]
    plain, residual = runs[f"plain-{deepest}"], runs[f"residual-{deepest}"]
    shallowest = min(depths[:-1], key=lambda depth: loss(runs[f"plain-{depth}"]))  # the best shallower plain net
    shallow = runs[f"plain-{shallowest}"]

    def spread(name):
        ratio = norms[name][0] / norms[name][-1]
        return f"{ratio:.2g}x the last layer's ({'larger' if ratio > 1 else 'smaller'} toward the input)"

    degradation = (f"deeper plain net trained worse than the {shallowest}-layer one ({loss(plain):.3f} against "
                   f"{loss(shallow):.3f}), although it has more capacity: the degradation of plain nets with depth"
                   if loss(plain) > loss(shallow) else
                   f"deeper plain net still trained at least as well as the {shallowest}-layer one ({loss(plain):.3f} "
                   f"against {loss(shallow):.3f}) at these depths")
    finding = (f"At depth {deepest} the plain net ended at training loss {loss(plain):.3f} and "
               f"{percent(plain.val_acc)} held out, the residual net at {loss(residual):.3f} and "
               f"{percent(residual.val_acc)}. The {degradation}; the residual net "
               + ("trained better than both" if loss(residual) < min(loss(plain), loss(shallow)) else "did not")
               + ". At initialization the first layer's gradient norm was, in the plain net, "
               f"{spread(f'plain-{deepest}')}, and in the residual net {spread(f'residual-{deepest}')}. "
               "An identity shortcut makes each block add a correction to its input, so gradients reach every block "
               "directly through the sum and a deep residual net starts out close to a shallow one.")
    figure = common.figures.new_figure(11, 3.8)
    axes = figure.add_subplot(1, 2, 1)
    for name, run in runs.items():
        axes.plot(range(1, epochs + 1), run.history["train_loss"], linestyle="-" if "residual" in name else "--",
                  marker="o", markersize=3, label=name)
    axes.set(title="training loss", xlabel="epoch", ylabel="loss")
    axes.legend(fontsize=7)
    axes = figure.add_subplot(1, 2, 2)
    for name, values in norms.items():
        axes.plot(range(1, len(values) + 1), values, linestyle="-" if "residual" in name else "--", marker=".",
                  label=name)
    axes.set(title="gradient norm per layer at initialization", xlabel="layer (input to output)", ylabel="||dL/dW||",
             yscale="log")
    axes.legend(fontsize=7)
    figure.tight_layout()
    report = Report("Plain against residual networks as depth grows",
                    f"Nets of {', '.join(map(str, depths))} weight layers (16 channels, batch norm), with and "
                    "without identity shortcuts around each pair of convolutions.",
                    ["net", "parameters", "train loss epoch 1", "final train loss", "held-out",
                     "|grad| first layer at init", "|grad| last layer at init"], rows, finding, figure,
                    {"gradient_norms_at_init": norms})
    return report, data[2]


def bn_net(batch_norm: bool) -> nn.Module:
    def stage(inputs, outputs):
        layers = [nn.Conv2d(inputs, outputs, 3, padding=1, bias=not batch_norm)]
        return layers + ([nn.BatchNorm2d(outputs)] if batch_norm else []) + [nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(*stage(1, 16), *stage(16, 32), *stage(32, 32), nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


def batchnorm(settings) -> tuple[Report, str]:
    epochs = settings.epochs_or(8)
    data = common.load_data(settings, 16)
    runs = {}
    for lr in (0.01, 0.2):
        for batch_norm in (False, True):
            name = f"{'with' if batch_norm else 'without'} BN, lr {lr}"
            settings.log(f"  {name}")
            runs[name] = common.train(lambda: bn_net(batch_norm), data, settings, epochs,
                                      lambda parameters: optim.SGD(parameters, lr=lr, momentum=0.9))
    rows = [[name, f"{run.history['train_loss'][0]:.3f}", f"{run.history['train_loss'][-1]:.3f}", percent(run.val_acc)]
            for name, run in runs.items()]
    finding = ("With SGD (momentum 0.9): at lr 0.01 the net without batch norm reached "
               f"{percent(runs['without BN, lr 0.01'].val_acc)} held out and with it "
               f"{percent(runs['with BN, lr 0.01'].val_acc)}; at lr 0.2, "
               f"{percent(runs['without BN, lr 0.2'].val_acc)} without and {percent(runs['with BN, lr 0.2'].val_acc)} "
               "with. Batch norm rescales each channel's activations to zero mean and unit variance per batch, so "
               "a larger step cannot blow the activations up layer after layer, and the same net tolerates a "
               "learning rate that can stall or derail it without.")
    figure = common.curves_figure("", {}, "", panels={
        "training loss": {name: run.history["train_loss"] for name, run in runs.items()},
        "held-out accuracy": {name: run.history["val_acc"] for name, run in runs.items()}})
    return Report("Batch normalization, with and without",
                  "One three-stage CNN with and without BatchNorm2d after each convolution, at a small and a large "
                  "learning rate.", ["configuration", "train loss epoch 1", "final train loss", "held-out"],
                  rows, finding, figure), data[2]


OPTIMIZERS = {"SGD lr 0.05": lambda p: optim.SGD(p, lr=0.05),
              "SGD + momentum 0.9, lr 0.05": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
              "Adam lr 0.001": lambda p: optim.Adam(p, lr=0.001)}


def optimizers(settings) -> tuple[Report, str]:
    from .architectures import small_cnn

    epochs = settings.epochs_or(8)
    data = common.load_data(settings, 16)
    runs = {}
    for name, make_optimizer in OPTIMIZERS.items():
        settings.log(f"  {name}")
        runs[name] = common.train(lambda: small_cnn(16), data, settings, epochs, make_optimizer)
    rows = [[name, f"{run.history['train_loss'][0]:.3f}", f"{run.history['train_loss'][-1]:.3f}",
             percent(run.history["val_acc"][0]), percent(run.val_acc)] for name, run in runs.items()]
    losses = {name: run.history["train_loss"][-1] for name, run in runs.items()}
    best = min(losses, key=losses.get)
    finding = (f"After {epochs} epochs the training losses were " + ", ".join(f"{name} {loss:.3f}" for name, loss in
                                                                           losses.items())
               + f"; {best} got lowest. Momentum sums past gradients, so directions that agree from batch to batch "
               "build up speed while noise cancels; Adam also divides each parameter's step by its recent gradient "
               "size, so rarely or weakly driven weights move as fast as the rest.")
    figure = common.curves_figure("", {}, "", panels={
        "training loss": {name: run.history["train_loss"] for name, run in runs.items()},
        "held-out accuracy": {name: run.history["val_acc"] for name, run in runs.items()}})
    return Report("SGD, momentum and Adam on one net",
                  "The same small CNN (two convolution stages) trained from the same initialization with three "
                  "optimizers.", ["optimizer", "train loss epoch 1", "final train loss", "held-out epoch 1",
                                  "held-out"], rows, finding, figure), data[2]
