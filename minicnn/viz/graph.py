"""A picture of the graph ``backward`` walks: one box per Function, one ellipse per leaf.

    g = minicnn.viz.graph(loss, params=dict(model.named_parameters()))
    print(g.source)                  # the graphviz DOT text
    minicnn.viz.render(g, "g.svg")   # needs Graphviz's `dot` program

Each Function box shows its name, its output's shape (``show_shapes``) and the bytes it holds for
backward (``show_saved``); leaves are named by ``params`` (module paths such as ``layer1.0.conv1.weight``),
else by their shape. With ``show_grads`` the edges carry the norm of d output / d (the tensor on that
edge): the graph runs one backward of its own for them (``output`` must be a scalar, its graph not yet
released) and leaves every ``.grad`` as it found it.
"""
from __future__ import annotations

import math
import shutil

from .. import backend
from .. import hooks as _hooks
from ..profiler.flops import saved_bytes as _saved_bytes

INSTALL_DOT = "Graphviz's `dot` program is not installed; install it (Debian/Ubuntu: apt-get install graphviz)"


def _digraph_class():
    try:
        from graphviz import Digraph
    except ImportError:
        raise ImportError("minicnn.viz.graph needs the graphviz package: pip install graphviz "
                          "(or pip install 'minicnn[viz]')") from None
    return Digraph


def _bytes(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def _shape(shape) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ")"


def walk(output):
    """(nodes, leaves, edges): every Function below ``output`` with its output shape, every leaf, and
    (producer, consumer) pairs; a producer is a node or a leaf Tensor."""
    if output._ctx is None:
        raise ValueError("graph: output has no grad_fn (it is a leaf, or was computed without a gradient)")
    shapes = {id(output._ctx): output.shape}
    nodes, leaves, edges = {}, {}, []
    stack = [output._ctx]
    while stack:
        node = stack.pop()
        if id(node) in nodes:
            continue
        nodes[id(node)] = node
        if node.released:
            raise RuntimeError("graph: the graph was released by backward(); call graph() before backward, "
                               "or pass retain_graph=True to backward")
        for value in node.inputs:
            if value is None:
                continue
            if value._ctx is None:
                leaves[id(value)] = value
                edges.append((value, node))
            else:
                shapes.setdefault(id(value._ctx), value.shape)
                edges.append((value._ctx, node))
                stack.append(value._ctx)
    return nodes, shapes, leaves, edges


def _gradient_norms(output, nodes, leaves) -> dict:
    """id(node or leaf) -> ||d output / d (its output)||, from one backward on the retained graph."""
    if output.numel() != 1:
        raise ValueError(f"graph(show_grads=True): output must have one element (a loss), got shape {output.shape}")
    norms, handles = {}, []

    def recorder(key):
        def record(grad):
            norms[key] = float(math.sqrt(float((backend.to_host(grad.array).astype("float64") ** 2).sum())))
        return record

    for key, node in nodes.items():
        handles.append(_hooks._add(node.__dict__, "_tensor_hooks", recorder(key)))
    for key, leaf in leaves.items():
        handles.append(leaf.register_hook(recorder(key)))
    kept = {key: leaf.grad for key, leaf in leaves.items()}
    try:
        output.backward(retain_graph=True)
    finally:
        for handle in handles:
            handle.remove()
        for key, leaf in leaves.items():
            leaf.grad = kept[key]
    return norms


def graph(output, params=None, show_shapes: bool = True, show_saved: bool = True, show_grads: bool = False):
    """The graph below ``output`` as a ``graphviz.Digraph``.

    Args:
        output: a Tensor with a grad_fn (a loss, or a model's output).
        params: ``{name: tensor}`` naming leaves, e.g. ``dict(model.named_parameters())``.
        show_shapes / show_saved: put output shapes / bytes saved for backward in the boxes.
        show_grads: label edges with gradient norms (see the module docstring).
    """
    Digraph = _digraph_class()
    nodes, shapes, leaves, edges = walk(output)
    names = {id(tensor): name for name, tensor in (params or {}).items()}
    saved = {key: _saved_bytes(node) for key, node in nodes.items()}  # before a backward frees any of it
    norms = _gradient_norms(output, nodes, leaves) if show_grads else {}

    dot = Digraph(name="minicnn", format="svg",
                  graph_attr={"rankdir": "BT", "fontname": "Helvetica"},
                  node_attr={"fontname": "Helvetica", "fontsize": "11", "style": "filled"})
    for key, node in nodes.items():
        lines = [type(node).__name__.lstrip("_")]
        if show_shapes:
            lines.append(_shape(shapes[key]))
        if show_saved:
            lines.append(f"saved {_bytes(saved[key])}")
        color = "#fdd9a0" if node is output._ctx else "#d9e5f7"
        dot.node(str(key), "\n".join(lines), shape="box", fillcolor=color)
    for key, leaf in leaves.items():
        label = names.get(key, "leaf")
        if show_shapes:
            label += "\n" + _shape(leaf.shape)
        dot.node(str(key), label, shape="ellipse", fillcolor="#c9ebc4")
    for producer, consumer in edges:
        key = id(producer)
        label = f"|grad| {norms[key]:.3g}" if key in norms else None
        dot.edge(str(key), str(id(consumer)), **({"label": label, "fontsize": "9"} if label else {}))
    return dot


def dot_available() -> bool:
    return shutil.which("dot") is not None


def render(digraph, path) -> str | None:
    """Write ``digraph`` to ``path``, its format from the extension (.svg, .png, .pdf; .dot/.gv writes
    the source). Returns the path, or None after printing one line on installing Graphviz when its
    ``dot`` program is missing (the source can still be written with a .dot path)."""
    path = str(path)
    extension = path.rsplit(".", 1)[-1].lower() if "." in path else "svg"
    if extension in ("dot", "gv"):
        with open(path, "w") as file:
            file.write(digraph.source)
        return path
    if not dot_available():
        print(INSTALL_DOT)
        return None
    digraph.render(outfile=path, format=extension, cleanup=True)
    return path


def module_graph(module, input_shape, batch_size: int = 1, **options):
    """``Module.graph``: the graph of one forward of ``module`` (eval mode) on a random input of shape
    (batch_size, *input_shape), with leaves named by ``named_parameters``."""
    import numpy as np

    from ..autograd import Tensor

    parameters = list(module.parameters())
    dtype = parameters[0].dtype if parameters else np.float32
    device = parameters[0].device if parameters else "cpu"
    values = np.random.default_rng(0).standard_normal((batch_size, *tuple(input_shape))).astype(dtype)
    was_training = module.training
    module.eval()
    try:
        output = module(Tensor(values, device=device))
    finally:
        module.train(was_training)
    if options.get("show_grads"):
        output = output.sum()
    return graph(output, params=dict(module.named_parameters()), **options)
