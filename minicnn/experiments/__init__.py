"""The tutorials' experiments, built in: ``python -m minicnn experiment NAME`` (see ``minicnn.cli``).

Each trains a few small nets offline (the bundled digits, or MNIST given its folder), prints a table and
writes report.md, figure.png and results.json into its output folder; ``run(name, ...)`` does the same
from Python and returns the report's paths.
"""
from __future__ import annotations

from . import architectures, dynamics
from .common import Settings, write

EXPERIMENTS = {
    "permuted-pixels": architectures.permuted_pixels,
    "plain-vs-residual": dynamics.plain_vs_residual,
    "gap-vs-fc": architectures.gap_vs_fc,
    "lenet-1998-vs-modern": architectures.lenet_1998_vs_modern,
    "batchnorm": dynamics.batchnorm,
    "optimizers": dynamics.optimizers,
}


def run(name: str, out_dir: str, quick: bool = False, data_dir=None, seed: int = 0, epochs=None, log=print,
        command: str | None = None) -> dict:
    """Run experiment ``name``; returns {"report", "figure", "results"} paths under ``out_dir``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; experiments: {', '.join(EXPERIMENTS)}")
    settings = Settings(out_dir=str(out_dir), quick=quick, data_dir=data_dir, seed=seed, epochs=epochs, log=log)
    report, data_name = EXPERIMENTS[name](settings)
    return write(report, settings, command or f"python -m minicnn experiment {name}", data_name)
