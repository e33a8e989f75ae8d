"""``minicnn profile``: where one training step's time goes, op by op (forward and backward).

Builds the model, runs one untimed step (numba compiles its kernels on first use), then profiles
``--steps`` steps of forward, cross-entropy, backward and an SGD update on random images, and prints
``profiler.key_averages().table()``: calls, self and total time, FLOPs and bytes saved for backward.
"""
from __future__ import annotations

import numpy as np

from .errors import UsageError
from .model_builder import build_model, check_input_shape, model_kwargs
from .summary_command import parse_shape


def add_parser(commands) -> None:
    parser = commands.add_parser("profile", help="time a training step per op (forward and backward)",
                                 description=__doc__.split("``: ")[-1])
    parser.add_argument("--model", default="resnet18", help="model name (default resnet18)")
    parser.add_argument("--batch-size", type=int, default=32, help="(default 32)")
    parser.add_argument("--input", default=None, metavar="C,H,W",
                        help="image shape without the batch (default 1,32,32 for LeNet, 3,32,32 otherwise)")
    parser.add_argument("--num-classes", type=int, default=10, help="size of the last layer (default 10)")
    parser.add_argument("--steps", type=int, default=1, help="profiled steps after the warm-up (default 1)")
    parser.add_argument("--sort-by", default="self_cpu_time_total",
                        help="table order: self_cpu_time_total, cpu_time_total, count, flops, saved_bytes")
    parser.add_argument("--row-limit", type=int, default=25, help="rows shown (default 25)")
    parser.add_argument("--trace", default=None, metavar="FILE", help="also write a Chrome trace (JSON)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or sim (default cpu)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from .. import functional as F
    from .. import optim, profiler
    from ..autograd import Tensor
    from ..profiler.events import SORT_KEYS

    if args.batch_size < 1 or args.steps < 1:
        raise UsageError(f"--batch-size and --steps must be at least 1, got {args.batch_size} and {args.steps}")
    if args.sort_by not in SORT_KEYS:
        raise UsageError(f"--sort-by must be one of {', '.join(SORT_KEYS)}, got {args.sort_by!r}")
    default = "1,32,32" if args.model.startswith("lenet") else "3,32,32"
    input_shape = parse_shape(args.input or default)
    model = build_model(args.model, model_kwargs(args.model, args.num_classes, input_shape[0], min(input_shape[1:])))
    check_input_shape(model, args.model, input_shape)
    model.to(args.device)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    generator = np.random.default_rng(0)
    images = Tensor(generator.standard_normal((args.batch_size, *input_shape)).astype(np.float32), device=args.device)
    labels = Tensor(generator.integers(0, args.num_classes, args.batch_size), device=args.device)

    def step():
        with profiler.record_function("forward"):
            loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        with profiler.record_function("backward"):
            loss.backward()
        with profiler.record_function("optimizer.step"):
            optimizer.step()

    step()  # warm-up, untimed
    with profiler.profile(record_shapes=False, profile_memory=True) as prof:
        for _ in range(args.steps):
            step()
    shape = "x".join(str(size) for size in input_shape)
    print(prof.key_averages().table(sort_by=args.sort_by, row_limit=args.row_limit,
                                    header=f"{args.model}, batch {args.batch_size} of {shape}, {args.steps} step(s)"))
    if args.trace:
        prof.export_chrome_trace(args.trace)
        print(f"trace written to {args.trace}")
    return 0
