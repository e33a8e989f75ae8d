"""The record of a training run: one row per epoch, saved as JSON, CSV and (when matplotlib is there) a plot.

A row holds ``epoch``, ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc`` (None without a
validation set), ``lr`` (the learning rate the epoch ran with) and ``time`` (seconds the epoch took).
Accuracies are fractions in [0, 1].
"""
from __future__ import annotations

import csv
import json
import math
import os

COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "time")


class History:
    """Per-epoch metrics of a run, in the order the epochs ran."""

    def __init__(self, rows: list[dict] | None = None):
        self.rows: list[dict] = [dict(row) for row in rows or []]

    def append(self, **row) -> None:
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"History.append: unknown columns {sorted(unknown)}; expected some of {COLUMNS}")
        self.rows.append({column: row.get(column) for column in COLUMNS})

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, column: str) -> list:
        """``history["val_acc"]``: one column as a list, one value per epoch."""
        if column not in COLUMNS:
            raise KeyError(f"History has no column {column!r}; columns are {COLUMNS}")
        return [row[column] for row in self.rows]

    def best(self, column: str = "val_acc"):
        """The best value of an accuracy column (highest) or a loss column (lowest); None when empty."""
        values = [value for value in self[column] if value is not None]
        if not values:
            return None
        return min(values) if column.endswith("loss") else max(values)

    def to_json(self) -> str:
        return json.dumps(self.rows)

    @classmethod
    def from_json(cls, text: str) -> "History":
        return cls(json.loads(text))

    def save(self, out_dir: str, plot: bool = True, notice=print) -> None:
        """Write history.json, history.csv and, when ``plot``, history.png into ``out_dir``."""
        os.makedirs(out_dir, exist_ok=True)
        _write_atomically(os.path.join(out_dir, "history.json"), json.dumps(self.rows, indent=1) + "\n")
        csv_path = os.path.join(out_dir, "history.csv")
        with open(csv_path + ".tmp", "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=COLUMNS)
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: "" if row[k] is None else row[k] for k in COLUMNS})
        os.replace(csv_path + ".tmp", csv_path)
        if plot:
            self.plot(os.path.join(out_dir, "history.png"), notice=notice)

    def plot(self, path: str, notice=print) -> bool:
        """Loss and accuracy curves in one PNG. Returns False (after a one-line notice) without matplotlib."""
        try:
            import matplotlib

            matplotlib.use("Agg")  # files only: no display is needed or wanted
            import matplotlib.pyplot as plt
        except ImportError:
            notice("history.png skipped: matplotlib is not installed (pip install matplotlib)")
            return False
        epochs = self["epoch"]
        figure, (loss_axes, acc_axes) = plt.subplots(1, 2, figsize=(10, 4))
        for split, style in (("train", "-o"), ("val", "-s")):
            losses, accs = self[f"{split}_loss"], self[f"{split}_acc"]
            if any(value is not None for value in losses):
                loss_axes.plot(epochs, [_nan_if_none(v) for v in losses], style, label=split)
                acc_axes.plot(epochs, [100 * _nan_if_none(v) for v in accs], style, label=split)
        loss_axes.set(xlabel="epoch", ylabel="loss", title="loss")
        acc_axes.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
        for axes in (loss_axes, acc_axes):
            axes.grid(alpha=0.3)
            axes.legend()
        figure.tight_layout()
        figure.savefig(path + ".tmp.png", dpi=100)
        plt.close(figure)
        os.replace(path + ".tmp.png", path)
        return True


def _nan_if_none(value):
    return math.nan if value is None else value


def _write_atomically(path: str, text: str) -> None:
    with open(path + ".tmp", "w") as file:
        file.write(text)
    os.replace(path + ".tmp", path)
