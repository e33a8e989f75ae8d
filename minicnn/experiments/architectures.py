"""Experiments on what an architecture assumes: pixel neighbourhoods, the classifier head, LeNet's choices."""
from __future__ import annotations

import numpy as np

from .. import nn, optim
from . import common
from .common import Report, percent


def mlp(size: int) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(size * size, 100), nn.ReLU(), nn.Linear(100, 10))


def small_cnn(size: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * (size // 4) ** 2, 10))


def permuted_pixels(settings) -> tuple[Report, str]:
    size = 28 if settings.data_dir else 16
    epochs = settings.epochs_or(10)
    permutation = np.random.default_rng(1234).permutation(size * size)
    datasets = {"original": common.load_data(settings, size), "permuted": common.load_data(settings, size, permutation)}
    runs = {}
    for model_name, make in (("MLP", mlp), ("CNN", small_cnn)):
        for data_name, data in datasets.items():
            settings.log(f"  {model_name} on {data_name} pixels")
            runs[model_name, data_name] = common.train(lambda: make(size), data, settings, epochs)
    rows = [[model, runs[model, "original"].parameters, percent(runs[model, "original"].val_acc),
             percent(runs[model, "permuted"].val_acc),
             f"{100 * (runs[model, 'permuted'].val_acc - runs[model, 'original'].val_acc):+.1f}"]
            for model in ("MLP", "CNN")]
    mlp_change = runs["MLP", "permuted"].val_acc - runs["MLP", "original"].val_acc
    cnn_change = runs["CNN", "permuted"].val_acc - runs["CNN", "original"].val_acc
    finding = (f"One fixed permutation of the {size * size} pixel positions changed the MLP's held-out accuracy by "
               f"{100 * mlp_change:+.1f} points and the CNN's by {100 * cnn_change:+.1f} points. The MLP gives "
               "every pixel its own weights, so where a pixel sits cannot matter to it (its change is training "
               "noise); the CNN's small kernels assume neighbouring pixels belong together, which is its "
               "advantage on real images " + ("and what it loses" if cnn_change < mlp_change else
                                               "though in this run it did not lose more") + " when neighbours are unrelated.")
    figure = common.curves_figure("", {}, "held-out accuracy", panels={
        "original pixels": {m: runs[m, "original"].history["val_acc"] for m in ("MLP", "CNN")},
        "permuted pixels": {m: runs[m, "permuted"].history["val_acc"] for m in ("MLP", "CNN")}})
    return Report("Permuted pixels: an MLP against a CNN",
                  "Does a CNN rely on where pixels are? Both nets are trained on the images and on the same images "
                  "with their pixel positions shuffled by one fixed permutation.",
                  ["model", "parameters", "held-out (original)", "held-out (permuted)", "change (points)"],
                  rows, finding, figure), datasets["original"][2]


def conv_body() -> list:
    return [nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]


def gap_head_net(size: int) -> nn.Module:
    return nn.Sequential(*conv_body(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


def fc_head_net(size: int) -> nn.Module:
    return nn.Sequential(*conv_body(), nn.Flatten(), nn.Linear(32 * (size // 4) ** 2, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def gap_vs_fc(settings) -> tuple[Report, str]:
    size = 28 if settings.data_dir else 16
    epochs = settings.epochs_or(12)
    data = common.load_data(settings, size)
    runs = {}
    for name, make in (("global average pooling + linear", gap_head_net), ("flatten + FC 128 + linear", fc_head_net)):
        settings.log(f"  {name}")
        runs[name] = common.train(lambda: make(size), data, settings, epochs)
    rows = [[name, run.parameters, run.parameters - common.count_parameters(nn.Sequential(*conv_body())),
             percent(run.train_acc), percent(run.val_acc), f"{100 * (run.train_acc - run.val_acc):.1f}"]
            for name, run in runs.items()]
    gap, fc = runs.values()
    finding = (f"The GAP head has {gap.parameters - common.count_parameters(nn.Sequential(*conv_body()))} parameters, "
               f"the FC head {fc.parameters - common.count_parameters(nn.Sequential(*conv_body()))}. Held out, GAP "
               f"reached {percent(gap.val_acc)} and FC {percent(fc.val_acc)}; the gap between training and held-out "
               f"accuracy was {100 * (gap.train_acc - gap.val_acc):.1f} points for GAP and "
               f"{100 * (fc.train_acc - fc.val_acc):.1f} for FC. Averaging each channel over the image throws away "
               "where a feature was and leaves the head almost nothing to overfit with; the FC head can memorise "
               "positions, and learns faster on few epochs.")
    figure = common.curves_figure("", {}, "accuracy", panels={
        "training accuracy": {name: run.history["train_acc"] for name, run in runs.items()},
        "held-out accuracy": {name: run.history["val_acc"] for name, run in runs.items()}})
    return Report("A global-average-pooling head against a fully connected head",
                  "The same two convolution stages, followed either by global average pooling and one linear "
                  "layer or by flattening and two fully connected layers.",
                  ["head", "parameters", "head parameters", "train", "held-out", "train - held-out (points)"],
                  rows, finding, figure), data[2]


def lenet(activation, pool) -> nn.Module:
    """LeNet-5's layout on 32x32 inputs: 6@5x5, pool, 16@5x5, pool, 120, 84, 10."""
    return nn.Sequential(nn.Conv2d(1, 6, 5), activation(), pool(2), nn.Conv2d(6, 16, 5), activation(), pool(2),
                         nn.Flatten(), nn.Linear(16 * 5 * 5, 120), activation(), nn.Linear(120, 84), activation(),
                         nn.Linear(84, 10))


LENETS = {"sigmoid + average pooling (1998)": (nn.Sigmoid, nn.AvgPool2d),
          "tanh + average pooling": (nn.Tanh, nn.AvgPool2d),
          "ReLU + max pooling (modern)": (nn.ReLU, nn.MaxPool2d)}


def lenet_1998_vs_modern(settings) -> tuple[Report, str]:
    epochs = settings.epochs_or(10)
    data = common.load_data(settings, 32)
    sgd = lambda parameters: optim.SGD(parameters, lr=0.02, momentum=0.9)  # noqa: E731
    runs = {}
    for name, (activation, pool) in LENETS.items():
        settings.log(f"  LeNet-5, {name}")
        runs[name] = common.train(lambda: lenet(activation, pool), data, settings, epochs, sgd)
    rows = [[name, percent(run.history["val_acc"][0]), percent(run.val_acc), f"{run.history['train_loss'][-1]:.3f}",
             f"{run.seconds:.1f}"] for name, run in runs.items()]
    old, _, new = runs.values()
    finding = (f"With the same SGD (lr 0.02, momentum 0.9) and {epochs} epochs, the sigmoid/average-pooling LeNet "
               f"reached {percent(old.val_acc)} held out (after one epoch {percent(old.history['val_acc'][0])}), the "
               f"ReLU/max-pooling one {percent(new.val_acc)} (after one epoch {percent(new.history['val_acc'][0])}). "
               "The sigmoid's slope is at most 1/4, so each layer shrinks the gradient on its way back and the "
               "early layers learn slowly; ReLU passes it unchanged wherever the unit is on.")
    figure = common.curves_figure("", {}, "", panels={
        "training loss": {name: run.history["train_loss"] for name, run in runs.items()},
        "held-out accuracy": {name: run.history["val_acc"] for name, run in runs.items()}})
    return Report("LeNet-5 in 1998 and today: sigmoid and average pooling against ReLU and max pooling",
                  "Three LeNet-5s differing only in their activation and pooling, trained identically.",
                  ["LeNet-5", "held-out after epoch 1", "held-out", "final train loss", "seconds"],
                  rows, finding, figure), data[2]
