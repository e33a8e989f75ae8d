"""The package's layers: only engines reach into minicnn.cpu, no module imports a layer above it, no cycles."""
import ast
import os

import pytest

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "minicnn")
# Importable from minicnn.cpu anywhere: the switches a program (the CLI, fit) turns on for its own process,
# and the thread count across the forks of DataLoader workers.
PUBLIC_CPU_NAMES = {"keep_freed_memory", "set_num_threads", "get_num_threads", "forking_single_threaded",
                    "restore_after_fork"}


def modules():
    """{dotted name: path} of every module of the package."""
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for file in files:
            if file.endswith(".py"):
                path = os.path.join(folder, file)
                parts = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts.pop()
                found[".".join(parts)] = path
    return found


def statement_imports(name, path, node):
    """(module imported, names taken from it) of one import statement of module ``name``, made absolute;
    ``from x import y`` also counts as importing the submodule x.y (when there is one)."""
    if isinstance(node, ast.Import):
        return [(alias.name, None) for alias in node.names]
    if node.level:
        base = name.split(".")
        base = base[:len(base) - node.level + (1 if path.endswith("__init__.py") else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module
    return [(target, {alias.name for alias in node.names})] + [(f"{target}.{a.name}", None) for a in node.names]


def imports(name, path, top_level_only=False):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from statement_imports(name, path, node)


def is_engine(name):
    return any(part == "engines" or part.endswith("_engines") for part in name.split(".")[1:])


def in_cpu(name):
    return name == "minicnn.cpu" or name.startswith("minicnn.cpu.")


ALL = modules()


def test_the_walk_sees_the_package():
    assert "minicnn.autograd" in ALL and "minicnn.cpu.parallel" in ALL
    assert any(is_engine(name) for name in ALL)


@pytest.mark.parametrize("name", sorted(ALL))
def test_only_engines_import_the_cpu_package(name):
    if in_cpu(name) or is_engine(name):
        return
    reaching = [target for target, names in imports(name, ALL[name])
                if target and in_cpu(target) and target in ALL
                and not (target == "minicnn.cpu" and names is not None and names <= PUBLIC_CPU_NAMES)]
    assert not reaching, f"{name} imports {reaching}: the CPU machinery is for engines only"


# Lower layers never import upper ones (nn -> functional -> autograd -> backend).
FORBIDDEN = {
    "minicnn.backend": ("minicnn.autograd", "minicnn.functional", "minicnn.nn"),
    "minicnn.autograd": ("minicnn.functional", "minicnn.nn"),
    "minicnn.backward": ("minicnn.autograd", "minicnn.functional", "minicnn.nn"),
    "minicnn.grad_mode": ("minicnn.autograd", "minicnn.functional", "minicnn.nn"),
    "minicnn.functional": ("minicnn.nn", "minicnn.optim", "minicnn.models", "minicnn.training"),
    "minicnn.cpu": ("minicnn.autograd", "minicnn.functional", "minicnn.nn"),
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_no_module_imports_a_layer_above_it(name):
    for layer, above in FORBIDDEN.items():
        if name == layer or name.startswith(layer + "."):
            bad = [t for t, _ in imports(name, ALL[name]) if t and any(t == a or t.startswith(a + ".") for a in above)]
            assert not bad, f"{name} (in {layer}) imports {bad}"


def test_no_import_cycles_at_module_level():
    """Module-level imports inside the package form no cycle (a function may import lazily)."""
    graph = {name: {target for target, _ in imports(name, path, top_level_only=True)
                    if target in ALL and target != name and not name.startswith(target + ".")}
             for name, path in ALL.items()}
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for successor in sorted(graph[node]):
            if state.get(successor) == "open":
                raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(successor):] + [successor]))
            if successor not in state:
                visit(successor, trail + [successor])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


# A module over ~400 lines asks to be split.
MOST_LINES = 400


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_module_says_what_it_is_for_and_stays_small(name):
    source = open(ALL[name], encoding="utf-8").read()
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring and docstring.strip(), f"{name} has no docstring"
    lines = source.count("\n")
    assert lines <= MOST_LINES, f"{name} has {lines} lines"
