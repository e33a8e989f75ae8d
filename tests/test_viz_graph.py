"""minicnn.viz.graph: the DOT source of the autograd graph, gradient norms on edges, rendering, the CLI."""
import re

import numpy as np
import pytest

import minicnn
import minicnn.functional as F
import minicnn.nn as nn
from minicnn import viz
from minicnn.cli import main

pytest.importorskip("graphviz")
needs_dot = pytest.mark.skipif(not viz.dot_available(), reason="Graphviz's dot program is not installed")


def _small_model():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))


def _labels(source):
    return [quoted or bare for quoted, bare in re.findall(r'label=(?:"([^"]*)"|([^\s\]"]+))', source)]


def test_nodes_are_functions_with_output_shapes_and_saved_bytes_and_leaves_are_named_parameters():
    model = _small_model()
    output = model(minicnn.randn(2, 1, 6, 6))
    source = viz.graph(output, params=dict(model.named_parameters())).source
    labels = _labels(source)
    assert "Conv2d\n(2, 2, 4, 4)" in "|".join(labels)
    assert any(label.startswith("Linear\n(2, 3)\nsaved") for label in labels)
    for name, parameter in model.named_parameters():
        assert f"{name}\n{tuple(parameter.shape)}".replace(",)", ")") in labels
    # Linear saves its input (2, 32) and weight (3, 32), float32: 640 bytes.
    assert "Linear\n(2, 3)\nsaved 640 B" in labels
    assert source.count("->") == 7  # conv<-w,b; relu<-conv; reshape<-relu; linear<-reshape,w,b


def test_options_leave_out_shapes_and_saved_bytes():
    output = _small_model()(minicnn.randn(1, 1, 6, 6))
    labels = _labels(viz.graph(output, show_shapes=False, show_saved=False).source)
    assert "Conv2d" in labels and "leaf" in labels and not any("saved" in label or "(" in label for label in labels)


def test_gradient_norms_on_edges_match_the_gradients_and_leave_grad_untouched():
    model = _small_model()
    loss = F.cross_entropy(model(minicnn.randn(2, 1, 6, 6)), minicnn.tensor([0, 2]))
    source = viz.graph(loss, params=dict(model.named_parameters()), show_grads=True).source
    assert all(parameter.grad is None for parameter in model.parameters())
    loss.backward()
    weight_norm = float(np.linalg.norm(model[3].weight.grad.numpy()))
    assert f"|grad| {weight_norm:.3g}" in source
    assert source.count("|grad|") == 8  # the 7 edges of the model and cross_entropy <- linear


def test_graph_of_a_released_graph_or_a_leaf_is_an_error():
    loss = (minicnn.ones(2, requires_grad=True) * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        viz.graph(loss)
    with pytest.raises(ValueError, match="grad_fn"):
        viz.graph(minicnn.ones(2))


def test_module_graph_names_resnet_parameters_by_module_path():
    model = minicnn.models.resnet18(cifar=True)
    source = model.graph((3, 32, 32)).source
    assert "layer1.0.conv1.weight" in source and "fc.weight" in source
    assert model.training  # restored after the eval-mode forward


@needs_dot
@pytest.mark.parametrize("extension, magic", [("svg", b"<svg "), ("png", b"\x89PNG")])
def test_render_writes_svg_and_png(tmp_path, extension, magic):
    path = tmp_path / f"g.{extension}"
    assert viz.render(_small_model().graph((1, 6, 6)), path) == str(path)
    assert magic in path.read_bytes()[:1000]


def test_render_without_dot_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert viz.render(_small_model().graph((1, 6, 6)), tmp_path / "g.svg") is None
    assert "apt-get install graphviz" in capsys.readouterr().out
    assert viz.render(_small_model().graph((1, 6, 6)), tmp_path / "g.dot") == str(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


@needs_dot
def test_graph_command_writes_an_svg(tmp_path, capsys):
    out = tmp_path / "g.svg"
    assert main(["graph", "--model", "lenet5", "--out", str(out)]) == 0
    assert b"<svg " in out.read_bytes()[:1000] and "Functions" in capsys.readouterr().out


def test_graph_command_rejects_an_unknown_format(capsys):
    assert main(["graph", "--out", "g.txt"]) == 2
    assert ".svg" in capsys.readouterr().err
