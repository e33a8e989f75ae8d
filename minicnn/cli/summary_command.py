"""``minicnn summary``: the layer table of a model (output shapes, parameter counts)."""
from __future__ import annotations

from .errors import UsageError
from .model_builder import build_model, check_input_shape, model_kwargs


def add_parser(commands) -> None:
    parser = commands.add_parser("summary", help="print a model's layers, output shapes and parameter counts",
                                 description=__doc__.split("``: ")[-1])
    parser.add_argument("--model", default="lenet5", help="model name (default lenet5)")
    parser.add_argument("--input", default=None, metavar="C,H,W",
                        help="input shape without the batch, e.g. 3,224,224 (default 1,32,32)")
    parser.add_argument("--num-classes", type=int, default=10, help="size of the last layer (default 10)")
    parser.set_defaults(run=run)


def parse_shape(text: str | None) -> tuple[int, int, int]:
    if text is None:
        return (1, 32, 32)
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise UsageError(f"--input must be three positive integers C,H,W such as 3,224,224, got {text!r}")
    return shape


def run(args) -> int:
    from .. import summary

    if args.num_classes < 1:
        raise UsageError(f"--num-classes must be at least 1, got {args.num_classes}")
    input_shape = parse_shape(args.input)
    channels, height, width = input_shape
    kwargs = model_kwargs(args.model, args.num_classes, channels, min(height, width))
    model = build_model(args.model, kwargs)
    check_input_shape(model, args.model, input_shape)
    table = summary(model, input_shape)
    if table is not None:
        print(table)
    return 0
