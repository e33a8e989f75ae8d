"""``minicnn train``: train a model on a dataset, keeping checkpoints and history in an output folder.

With no options it trains LeNet-5 on the 8x8 digits bundled with scikit-learn (upscaled to 32x32),
offline, in well under a minute of CPU time.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import warnings

from .. import backend, optim
from .. import data
from .. import random as minicnn_random
from ..distributed.training import Ranks
from ..training import Trainer, load_checkpoint
from ..serialization import CheckpointError
from .datasets import DATASETS, augmentation, load_datasets, make_loader
from .errors import UsageError
from .model_builder import build_model, check_input_shape, known_models, model_kwargs

# Defaults chosen so the plain `python -m minicnn` reaches >= 97% held-out accuracy on the digits
# (98.05-98.61% over seeds 0-3) in well under two minutes on two cores (examples/README.md).
DEFAULT_EPOCHS = 20
DEFAULT_BATCH_SIZE = 32
DEFAULT_LR = {"sgd": 0.05, "adam": 0.002}


def add_parser(commands) -> None:
    parser = commands.add_parser("train", help="train a model (default: LeNet-5 on the bundled digits)",
                                 description=__doc__.split("``: ")[-1])
    parser.add_argument("--model", default="lenet5", help="model name (default lenet5); `minicnn summary` shows one")
    parser.add_argument("--dataset", default="digits", help=f"one of {', '.join(DATASETS)} (default digits)")
    parser.add_argument("--data-dir", default=None, metavar="DIR", help="where the dataset's files are")
    parser.add_argument("--download", action="store_true", help="download the dataset if missing (cifar10)")
    parser.add_argument("--image-size", type=int, default=None, metavar="PIXELS",
                        help="resize images to PIXELS x PIXELS (default: the dataset's own, 32 for digits/folder)")
    parser.add_argument("--grayscale", action="store_true", help="read --dataset folder images as grey (1 channel)")
    parser.add_argument("--train-limit", type=int, default=None, metavar="N", help="use only the first N training images")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help=f"total epochs (default {DEFAULT_EPOCHS})")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help=f"(default {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="adam", help="(default adam)")
    parser.add_argument("--lr", type=float, default=None,
                        help=f"learning rate (default {DEFAULT_LR['adam']} for adam, {DEFAULT_LR['sgd']} for sgd)")
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    parser.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty (default 0)")
    parser.add_argument("--scheduler", choices=("none", "step", "cosine"), default="cosine",
                        help="learning-rate schedule over the epochs (default cosine)")
    parser.add_argument("--step-size", type=int, default=None, help="epochs per decay for --scheduler step (default epochs/3)")
    parser.add_argument("--gamma", type=float, default=0.1, help="decay factor for --scheduler step (default 0.1)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                        help="random shifts (and flips for colour images); default on for digits only")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or sim (default cpu)")
    parser.add_argument("--out", default=None, metavar="DIR", help="output folder (default runs/MODEL-DATASET)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.npz up to --epochs")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--detect-anomaly", action="store_true",
                        help="check every operation (slow): a diverging run names the operation and the layer "
                             "that first produced a NaN or an infinity")
    parser.add_argument("--threads-per-rank", type=int, default=None, metavar="N",
                        help="CPU threads per process under mpiexec (default: the cores divided among the "
                             "processes on each machine)")
    parser.add_argument("--tensorboard", default=None, metavar="DIR",
                        help="also write TensorBoard event files there (needs the tensorboard package)")
    parser.set_defaults(run=run)


def _check_numbers(args) -> None:
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.train_limit is not None and args.train_limit < 1:
        raise UsageError(f"--train-limit must be at least 1, got {args.train_limit}")
    if args.lr is not None and args.lr <= 0:
        raise UsageError(f"--lr must be positive, got {args.lr}")
    if args.image_size is not None and args.image_size < 1:
        raise UsageError(f"--image-size must be positive, got {args.image_size}")
    if args.threads_per_rank is not None and args.threads_per_rank < 1:
        raise UsageError(f"--threads-per-rank must be at least 1, got {args.threads_per_rank}")


def _check_device(name: str) -> str:
    try:
        device = backend.normalize_device(name)
        backend.array_module_for(device)
    except (ValueError, RuntimeError, ImportError) as error:
        raise UsageError(str(error)) from None
    return device


def make_optimizer(args, parameters):
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    if args.optimizer == "sgd":
        return optim.SGD(parameters, lr=lr, momentum=args.momentum, weight_decay=args.weight_decay)
    return optim.Adam(parameters, lr=lr, weight_decay=args.weight_decay)


def make_scheduler(args, optimizer):
    if args.scheduler == "step":
        step_size = args.step_size or max(1, args.epochs // 3)
        return optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=args.gamma)
    if args.scheduler == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    return None


def run(args) -> int:
    """Under ``mpiexec -n N`` every process runs this: each trains on its shard of the training set
    (``--batch-size`` images per process and step), gradients are averaged, and rank 0 prints and
    writes the checkpoints. A failure on any process ends all of them with its error."""
    ranks = Ranks.from_launcher(getattr(args, "threads_per_rank", None))
    with ranks.stop_all_on_error("minicnn train"):
        return _train(args, ranks)


def _train(args, ranks: Ranks) -> int:
    say = _printer(ranks)
    if args.model not in known_models():
        raise UsageError(f"unknown model {args.model!r}; known models: {', '.join(known_models())}")
    _check_numbers(args)
    device = _check_device(args.device)
    out_dir = args.out or os.path.join("runs", f"{args.model}-{args.dataset}")
    check_output_dir(out_dir)
    last_path = os.path.join(out_dir, "last.npz")
    if args.resume:
        try:
            load_checkpoint(last_path)
        except FileNotFoundError:
            raise UsageError(f"--resume: no checkpoint {last_path} to continue from") from None
        except (CheckpointError, ValueError) as error:
            raise UsageError(f"--resume: cannot read {last_path}: {error}") from None

    try:  # now, not after the first epoch: an output folder that cannot be made is known at once
        os.makedirs(out_dir, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out_dir}: cannot create the folder ({error.strerror or error})") from None
    minicnn_random.manual_seed(args.seed)
    train_set, eval_set, info = load_datasets(args)
    for note in info.notes:
        say(note)
    kwargs = model_kwargs(args.model, info.num_classes, info.in_channels, info.image_size)
    model = build_model(args.model, kwargs)
    check_input_shape(model, args.model, info.input_shape)

    # The digits are few (1,438 training images): shifted copies are what lets LeNet-5 reach 98% on them.
    augment = args.augment if args.augment is not None else args.dataset == "digits"
    # Several processes: each its shard, reshuffled every epoch (the trainer calls set_epoch).
    sampler = data.DistributedSampler(train_set, ranks.world_size, ranks.rank, seed=args.seed) if ranks.several else None
    train_loader = make_loader(train_set, args.batch_size, shuffle=True, seed=args.seed,
                               transform=augmentation(info) if augment else None, sampler=sampler)
    eval_loader = make_loader(ranks.shard(eval_set), max(args.batch_size, 256), shuffle=False, seed=args.seed)
    optimizer = make_optimizer(args, model.parameters())
    scheduler = make_scheduler(args, optimizer)
    config = {"model": args.model, "model_kwargs": kwargs, **info.config()}
    if args.tensorboard:
        try:
            import minicnn.utils.tensorboard  # noqa: F401
        except ImportError as error:
            raise UsageError(str(error)) from None
    trainer = Trainer(model, optimizer, scheduler=scheduler, device=device, out_dir=out_dir,
                      progress=not args.no_progress, config=config, detect_anomaly=args.detect_anomaly,
                      tensorboard=args.tensorboard)
    say(f"training {args.model} on {info.name}: {len(train_set)} training images, {len(eval_set)} held out, "
        f"{info.in_channels}x{info.image_size}x{info.image_size}, {info.num_classes} classes, device {device}"
        + (f", {ranks.world_size} processes of {args.batch_size} images a step" if ranks.several else ""))
    started = time.perf_counter()
    with warnings.catch_warnings():
        # A diverging run is reported once, by the trainer, not by numpy on every overflowing operation.
        warnings.simplefilter("ignore", RuntimeWarning)
        history = trainer.fit(train_loader, eval_loader, epochs=args.epochs, resume=args.resume)
    seconds = time.perf_counter() - started

    best_path = os.path.join(out_dir, "best.npz")
    best = history.best("val_acc")
    say(f"best held-out accuracy {100 * best:.2f}% (epoch {history['val_acc'].index(best) + 1}), "
        f"trained in {seconds:.1f}s")
    say(f"checkpoint: {best_path} (last epoch: {last_path}); history: {os.path.join(out_dir, 'history.csv')}")
    say(f"evaluate it with: {_program()} evaluate --checkpoint {shlex.quote(best_path)}")
    return 0


def check_output_dir(out_dir: str) -> None:
    """A UsageError unless ``out_dir`` is a folder this process can write in, or one it can create."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise UsageError(f"--out {out_dir} is an existing file, not a folder")
    existing = os.path.abspath(out_dir)
    while not os.path.exists(existing):  # the nearest folder that exists must let us create the rest
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UsageError(f"--out {out_dir}: {existing} is a file, so the folder cannot be created")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out_dir}: {existing} is not writable")


def _printer(ranks: Ranks):
    """``print`` on rank 0; silence on the others (their lines would repeat rank 0's)."""
    return print if ranks.is_main else (lambda *args, **kwargs: None)


def _program() -> str:
    """How this command was started, so the printed follow-up command can be pasted as it is."""
    return "minicnn" if os.path.basename(sys.argv[0]) == "minicnn" else "python -m minicnn"
