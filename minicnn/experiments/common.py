"""What every experiment shares: its data, one training run, the table, the figure and the report.

Data: the bundled 8x8 digits (sklearn), upscaled, 1,438 training and 359 held-out images; or, with
``data_dir``, the MNIST t10k files there (first 8,000 images to train on, last 2,000 held out).
``quick`` (used by the tests) trains on 256 images for 1 epoch and holds out 128: the files come out
the same, the numbers mean nothing.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .. import optim
from .. import random as minicnn_random
from ..data import MNIST, ArrayImageDataset, DataLoader, Digits
from ..data import transforms as T
from ..training import fit
from ..viz import figures


@dataclass
class Settings:
    out_dir: str
    quick: bool = False
    data_dir: str | None = None
    seed: int = 0
    epochs: int | None = None  # None: each experiment's own default
    log: object = print

    def epochs_or(self, default: int) -> int:
        return 1 if self.quick else (self.epochs or default)


@dataclass
class Report:
    """What an experiment found: a table (one row per configuration), a figure, and what it shows."""

    title: str
    question: str
    columns: list
    rows: list
    finding: str
    figure: object = None                 # a matplotlib Figure
    details: dict = field(default_factory=dict)


def load_data(settings: Settings, size: int, permutation=None):
    """(train, held-out) datasets of (1, size, size) images normalized by the training mean and std;
    pixel positions permuted by ``permutation`` (indices into size*size) when given."""
    if settings.data_dir:
        mnist = MNIST(settings.data_dir, train=False)
        images, labels = mnist.data, mnist.targets
        if images.shape[1] != size:
            from ..data import image_ops

            images = np.clip(np.rint(image_ops.resize(images[..., 0] / 255.0, size, size, "bilinear") * 255),
                             0, 255).astype(np.uint8)[..., None]
        train_images, train_labels, test_images, test_labels = images[:8000], labels[:8000], images[8000:], labels[8000:]
        name = "MNIST t10k files (first images to train, last held out)"
    else:
        train, test = Digits(train=True, size=size), Digits(train=False, size=size)
        train_images, train_labels, test_images, test_labels = train.data, train.targets, test.data, test.targets
        name = f"digits (sklearn's 8x8 images{'' if size == 8 else f', resized to {size}x{size}'})"
    if settings.quick:
        train_images, train_labels = train_images[:256], train_labels[:256]
        test_images, test_labels = test_images[:128], test_labels[:128]
    if permutation is not None:
        def permute(images):
            return images.reshape(len(images), -1)[:, permutation].reshape(images.shape)
        train_images, test_images = permute(train_images), permute(test_images)
    name += f": {len(train_images)} images to train on, {len(test_images)} held out"
    mean = float(train_images.mean() / 255.0)
    std = float(train_images.std() / 255.0)
    transform = T.Compose([T.ToTensor(), T.Normalize([mean], [std])])
    return (ArrayImageDataset(train_images, train_labels, transform),
            ArrayImageDataset(test_images, test_labels, transform), name)


def adam(lr: float = 2e-3):
    return lambda parameters: optim.Adam(parameters, lr=lr)


@dataclass
class Run:
    """One trained configuration: its History (per-epoch curves), held-out accuracy and seconds."""

    history: object
    train_acc: float
    val_acc: float
    seconds: float
    parameters: int


def train(make_model, data, settings: Settings, epochs: int, make_optimizer=None, batch_size: int = 64) -> Run:
    """Train a fresh ``make_model()`` (seeded with ``settings.seed``, so every configuration starts from
    the same random numbers) and evaluate it on the held-out part after every epoch."""
    minicnn_random.manual_seed(settings.seed)
    model = make_model()
    train_set, held_out, _ = data
    optimizer = (make_optimizer or adam())(model.parameters())
    started = time.perf_counter()
    history = fit(model, DataLoader(train_set, batch_size=batch_size, shuffle=True, seed=settings.seed),
                  DataLoader(held_out, batch_size=500), optimizer=optimizer, epochs=epochs, progress=False,
                  log=None, plot=False)
    return Run(history, history["train_acc"][-1], history["val_acc"][-1], time.perf_counter() - started,
               count_parameters(model))


def count_parameters(model) -> int:
    return sum(int(parameter.numel()) for parameter in model.parameters())


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def markdown_table(columns, rows) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(columns, rows) -> str:
    cells = [list(map(str, columns))] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in cells]
    return "\n".join(lines[:1] + ["  ".join("-" * width for width in widths)] + lines[1:])


def curves_figure(title: str, series: dict, ylabel: str, log_scale: bool = False, panels=None):
    """One panel per entry of ``panels`` ({panel title: {label: values per epoch}}), or one panel of ``series``."""
    panels = panels or {title: series}
    figure = figures.new_figure(5 * len(panels), 3.6)
    for index, (panel_title, lines) in enumerate(panels.items(), 1):
        axes = figure.add_subplot(1, len(panels), index)
        for label, values in lines.items():
            axes.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=label)
        axes.set_title(panel_title)
        axes.set_xlabel("epoch")
        axes.set_ylabel(ylabel)
        if log_scale:
            axes.set_yscale("log")
        axes.legend(fontsize=8)
    figure.tight_layout()
    return figure


def write(report: Report, settings: Settings, command: str, data_name: str) -> dict:
    """report.md, figure.png and results.json into ``settings.out_dir``; prints the table. Returns the paths."""
    os.makedirs(settings.out_dir, exist_ok=True)
    paths = {"report": os.path.join(settings.out_dir, "report.md"),
             "figure": os.path.join(settings.out_dir, "figure.png"),
             "results": os.path.join(settings.out_dir, "results.json")}
    if report.figure is not None:
        figures.save(report.figure, paths["figure"])
    table = markdown_table(report.columns, report.rows)
    quick = "\n\n*Quick configuration (tests): 256 training images, 1 epoch; the numbers mean nothing.*" \
        if settings.quick else ""
    text = (f"# {report.title}\n\n{report.question}\n\nData: {data_name}. Command: `{command}`.{quick}\n\n"
            f"{table}\n\n![figure](figure.png)\n\n**What this run shows.** {report.finding}\n")
    with open(paths["report"], "w") as file:
        file.write(text)
    with open(paths["results"], "w") as file:
        json.dump({"title": report.title, "columns": report.columns, "rows": report.rows,
                   "details": report.details, "quick": settings.quick}, file, indent=1, default=_json_default)
    settings.log(report.title)
    settings.log(text_table(report.columns, report.rows))
    settings.log(f"report: {paths['report']}  figure: {paths['figure']}")
    return paths


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(type(value).__name__)
