"""The ``minicnn`` command line: train, evaluate, predict, summary, gradcheck.

    python -m minicnn                      # = minicnn train: LeNet-5 on the bundled digits, offline
    python -m minicnn train --model lenet5 --dataset mnist --data-dir DIR --epochs 5
    python -m minicnn evaluate --checkpoint runs/lenet5-digits/best.npz
    python -m minicnn predict --checkpoint runs/lenet5-digits/best.npz image.png
    python -m minicnn summary --model resnet18 --input 3,224,224
    python -m minicnn gradcheck
    python -m minicnn profile --model resnet18 --batch-size 32
    python -m minicnn graph --model resnet18 --out g.svg
    python -m minicnn explain --checkpoint runs/lenet5-digits/best.npz image.png --method grad-cam --out cam.png
    python -m minicnn experiment permuted-pixels
    mpiexec -n 4 python -m minicnn train   # data-parallel over 4 processes (minicnn.distributed)

A mistake in the arguments, an unreadable input file or an unusable output path ends with one line
on stderr and exit code 2; a training run whose loss or gradients become NaN or infinite stops with
one line and exit code 3 (its last good checkpoints are kept).
"""
from __future__ import annotations

import argparse
import sys

from ..cpu import keep_freed_memory
from .errors import UsageError

EXIT_USAGE = 2  # a bad argument, input file or output path
EXIT_DIVERGED = 3  # training stopped: the loss or a gradient became NaN or infinite

COMMANDS = ("train", "evaluate", "predict", "summary", "gradcheck", "profile", "graph", "explain", "experiment")


def build_parser() -> argparse.ArgumentParser:
    from . import evaluate_command, gradcheck_command, predict_command, summary_command, train_command
    from . import experiment_command, explain_command, graph_command, profile_command

    parser = argparse.ArgumentParser(
        prog="minicnn",
        description="Train and inspect small CNNs built on minicnn. Without a command: train (LeNet-5 on digits).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (train_command, evaluate_command, predict_command, summary_command, gradcheck_command,
                   profile_command, graph_command, explain_command, experiment_command):
        module.add_parser(commands)
    return parser


def main(argv=None) -> int:
    """Run one command; returns the exit code (0 ok, 1 a failed check, 2 a usage error, 3 a diverged run)."""
    from ..training import TrainingDiverged

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        parser.error(f"unknown command {argv[0]!r}; commands: {', '.join(COMMANDS)}")  # exits with code 2
    if not argv or argv[0] not in COMMANDS and argv[0] not in ("-h", "--help"):
        argv = ["train", *argv]  # no command: train with the defaults (and any options given)
    args = parser.parse_args(argv)  # exits with code 2 and one usage message on its own errors
    keep_freed_memory()  # the command line owns its process: no page faults on every step's arrays
    try:
        return args.run(args) or 0
    except UsageError as error:
        return _fail(args.command, error, EXIT_USAGE)
    except TrainingDiverged as error:
        return _fail(args.command, error, EXIT_DIVERGED)
    except OSError as error:  # a file that vanished or became unreadable or unwritable while the command ran
        where = f" {error.filename}" if getattr(error, "filename", None) else ""
        return _fail(args.command, f"{error.strerror or error}{where}", EXIT_USAGE)
    except KeyboardInterrupt:
        print(f"minicnn {args.command}: interrupted", file=sys.stderr)
        return 130


def _fail(command: str, error, code: int) -> int:
    """Report ``error`` as one line on stderr, whatever line breaks its message holds."""
    message = " ".join(str(error).split())
    print(f"minicnn {command}: error: {message}", file=sys.stderr)
    return code
