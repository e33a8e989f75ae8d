"""``minicnn experiment``: run one of the tutorials' experiments and write its table, figure and report.

Experiments: permuted-pixels, plain-vs-residual, gap-vs-fc, lenet-1998-vs-modern, batchnorm, optimizers.
Each trains offline on the bundled digits (or on MNIST with --data-dir) in a few minutes, prints a table
and writes report.md, figure.png and results.json to --out (default runs/experiment-NAME).
"""
from __future__ import annotations

import os

from .errors import UsageError


def add_parser(commands) -> None:
    from ..experiments import EXPERIMENTS

    parser = commands.add_parser("experiment", help="run a built-in experiment: table, figure and report",
                                 description=__doc__.split("``: ")[-1])
    parser.add_argument("name", choices=sorted(EXPERIMENTS), metavar="NAME", help=", ".join(EXPERIMENTS))
    parser.add_argument("--out", default=None, metavar="DIR", help="output folder (default runs/experiment-NAME)")
    parser.add_argument("--data-dir", default=None, metavar="DIR", help="a folder with the MNIST t10k files")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default: the experiment's own)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--quick", action="store_true", help="256 images, 1 epoch: checks the pipeline only")
    parser.set_defaults(run=run)


def run(args) -> int:
    from .. import experiments

    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {args.epochs}")
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        raise UsageError(f"--data-dir {args.data_dir} is not a folder")
    out = args.out or os.path.join("runs", f"experiment-{args.name}")
    command = "python -m minicnn experiment " + args.name + (f" --data-dir {args.data_dir}" if args.data_dir else "") \
        + (f" --epochs {args.epochs}" if args.epochs else "") + (" --quick" if args.quick else "")
    try:
        experiments.run(args.name, out, quick=args.quick, data_dir=args.data_dir, seed=args.seed, epochs=args.epochs,
                        command=command)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    return 0
