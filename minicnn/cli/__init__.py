"""The ``minicnn`` command line: train, evaluate, predict, summary, gradcheck.

    python -m minicnn                      # = minicnn train: LeNet-5 on the bundled digits, offline
    python -m minicnn train --model lenet5 --dataset mnist --data-dir DIR --epochs 5
    python -m minicnn evaluate --checkpoint runs/lenet5-digits/best.npz
    python -m minicnn predict --checkpoint runs/lenet5-digits/best.npz image.png
    python -m minicnn summary --model resnet18 --input 3,224,224
    python -m minicnn gradcheck

A mistake in the arguments or the data ends with one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import sys

from ..cpu import keep_freed_memory
from .errors import UsageError

COMMANDS = ("train", "evaluate", "predict", "summary", "gradcheck")


def build_parser() -> argparse.ArgumentParser:
    from . import evaluate_command, gradcheck_command, predict_command, summary_command, train_command

    parser = argparse.ArgumentParser(
        prog="minicnn",
        description="Train and inspect small CNNs built on minicnn. Without a command: train (LeNet-5 on digits).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (train_command, evaluate_command, predict_command, summary_command, gradcheck_command):
        module.add_parser(commands)
    return parser


def main(argv=None) -> int:
    """Run one command; returns the exit code (0 ok, 1 a failed check, 2 a usage error)."""
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
        print(f"minicnn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"minicnn {args.command}: interrupted", file=sys.stderr)
        return 130
