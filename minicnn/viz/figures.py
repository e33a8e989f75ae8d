"""Saving arrays as PNG figures with matplotlib's Agg canvas: files only, no display, no pyplot state."""
from __future__ import annotations

import math

import numpy as np


def new_figure(width: float, height: float):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("saving figures needs matplotlib: pip install matplotlib (or 'minicnn[viz]')") from None
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def save(figure, path) -> str:
    figure.savefig(str(path), bbox_inches="tight")
    return str(path)


def tile(images: np.ndarray, columns: int | None = None, pad: int = 1) -> np.ndarray:
    """(K, H, W) or (K, H, W, 3) images in a grid with ``pad`` pixels of 0 between them."""
    count, height, width = images.shape[:3]
    columns = columns or int(math.ceil(math.sqrt(count)))
    rows = int(math.ceil(count / columns))
    grid = np.zeros((rows * (height + pad) - pad, columns * (width + pad) - pad) + images.shape[3:], images.dtype)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid[row * (height + pad):row * (height + pad) + height, column * (width + pad):column * (width + pad) + width] = image
    return grid


def save_image(array: np.ndarray, path, title: str | None = None, cmap: str = "viridis", overlay=None) -> str:
    """One array as a picture (grey/colour-mapped when 2-D); ``overlay`` is drawn semi-transparent on top."""
    figure = new_figure(4, 4)
    axes = figure.add_subplot()
    axes.imshow(array, cmap="gray" if overlay is not None else cmap)
    if overlay is not None:
        axes.imshow(overlay, cmap=cmap, alpha=0.5)
    axes.axis("off")
    if title:
        axes.set_title(title)
    return save(figure, path)


def normalize(array: np.ndarray, axis=None) -> np.ndarray:
    """Scaled to [0, 1] (over ``axis``, or the whole array); a constant array becomes zeros."""
    low = array.min(axis=axis, keepdims=True)
    span = array.max(axis=axis, keepdims=True) - low
    return np.where(span > 0, (array - low) / np.where(span > 0, span, 1), 0.0)
