"""minicnn.utils.tensorboard.SummaryWriter: event files that TensorBoard's own reader reads back."""
import numpy as np
import pytest

import minicnn
from minicnn.cli import main

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from minicnn.utils.tensorboard import SummaryWriter  # noqa: E402


def _read(folder):
    accumulator = EventAccumulator(str(folder), size_guidance={"histograms": 0, "images": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def test_scalars_histograms_images_and_text_are_read_back(tmp_path):
    values = np.random.default_rng(0).standard_normal(1000)
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalar("loss", minicnn.tensor(1.0 / (step + 1)), step)
        writer.add_histogram("weights", minicnn.tensor(values), 7, bins=10)
        writer.add_image("picture", np.linspace(0, 1, 3 * 4 * 5).reshape(3, 4, 5), 2)
        writer.add_image("grey", np.zeros((6, 7), dtype=np.uint8), 2, dataformats="HW")
        writer.add_text("note", "hello", 0)
    events = _read(tmp_path)
    assert [(e.step, round(e.value, 6)) for e in events.Scalars("loss")] == [(0, 1.0), (1, 0.5), (2, 0.333333)]
    histogram = events.Histograms("weights")[0].histogram_value
    assert histogram.num == 1000 and len(histogram.bucket) == 10 and sum(histogram.bucket) == 1000
    assert histogram.min == pytest.approx(values.min()) and histogram.sum == pytest.approx(values.sum())
    image = events.Images("picture")[0]
    assert (image.width, image.height) == (5, 4) and image.encoded_image_string[:4] == b"\x89PNG"
    assert (events.Images("grey")[0].width, events.Images("grey")[0].height) == (7, 6)
    assert events.Tensors("note")[0].tensor_proto.string_val == [b"hello"]


def test_add_graph_writes_functions_and_parameters_by_module_path(tmp_path):
    model = minicnn.models.get_model("lenet5")
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, minicnn.randn(1, 1, 32, 32))
    nodes = {node.name: node for node in _read(tmp_path).Graph().node}
    assert "features/0/weight" in nodes and nodes["features/0/weight"].op == "Parameter"
    convolutions = [node for node in nodes.values() if node.op == "Conv2d"]
    assert len(convolutions) == 2 and all("features/0/weight" in n.input or "features/3/weight" in n.input
                                          for n in convolutions)


def test_add_image_rejects_a_shape_that_does_not_fit(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match="dataformats"):
            writer.add_image("x", np.zeros((4, 5)))
        with pytest.raises(ValueError, match="channels"):
            writer.add_image("x", np.zeros((2, 4, 5)))


def test_train_command_logs_curves_and_histograms(tmp_path, capsys):
    board = tmp_path / "board"
    assert main(["train", "--epochs", "2", "--train-limit", "64", "--out", str(tmp_path / "run"), "--no-progress",
                 "--tensorboard", str(board)]) == 0
    events = _read(board)
    tags = events.Tags()
    for tag in ("loss/train", "accuracy/train", "loss/val", "accuracy/val", "lr"):
        assert [e.step for e in events.Scalars(tag)] == [1, 2]
    assert "weights/features.0.weight" in tags["histograms"] and "grads/features.0.weight" in tags["histograms"]
    history_loss = [round(row, 6) for row in _history_losses(tmp_path / "run")]
    assert [round(e.value, 6) for e in events.Scalars("loss/train")] == history_loss


def _history_losses(run):
    import json

    return [row["train_loss"] for row in json.loads((run / "history.json").read_text())]
