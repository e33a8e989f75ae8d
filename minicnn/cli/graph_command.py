"""``minicnn graph``: draw the autograd graph of one forward of a model (Functions, parameters, shapes).

The format follows --out's extension: .svg, .png or .pdf need Graphviz's `dot` program; .dot writes the
graph's source text, which needs nothing more.
"""
from __future__ import annotations

from .errors import UsageError
from .model_builder import build_model, check_input_shape, model_kwargs
from .summary_command import parse_shape


def add_parser(commands) -> None:
    parser = commands.add_parser("graph", help="draw a model's autograd graph (SVG, PNG, PDF or DOT)",
                                 description=__doc__.split("``: ")[-1])
    parser.add_argument("--model", default="lenet5", help="model name (default lenet5)")
    parser.add_argument("--input", default=None, metavar="C,H,W",
                        help="image shape without the batch (default 1,32,32 for LeNet, 3,32,32 otherwise)")
    parser.add_argument("--num-classes", type=int, default=10, help="size of the last layer (default 10)")
    parser.add_argument("--out", default="graph.svg", metavar="FILE", help="output file (default graph.svg)")
    parser.add_argument("--grads", action="store_true", help="label edges with gradient norms of sum(output)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..viz.graph import INSTALL_DOT, dot_available, render

    extension = args.out.rsplit(".", 1)[-1].lower() if "." in args.out else ""
    if extension not in ("svg", "png", "pdf", "dot", "gv"):
        raise UsageError(f"--out must end in .svg, .png, .pdf or .dot, got {args.out!r}")
    if extension not in ("dot", "gv") and not dot_available():
        raise UsageError(INSTALL_DOT + "; or write the source with --out FILE.dot")
    default = "1,32,32" if args.model.startswith("lenet") else "3,32,32"
    input_shape = parse_shape(args.input or default)
    model = build_model(args.model, model_kwargs(args.model, args.num_classes, input_shape[0], min(input_shape[1:])))
    check_input_shape(model, args.model, input_shape)
    digraph = model.graph(input_shape, show_grads=args.grads)
    render(digraph, args.out)
    print(f"graph of {args.model} ({digraph.source.count('shape=box')} Functions) written to {args.out}")
    return 0
