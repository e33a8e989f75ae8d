"""minicnn.summary: one row per leaf-layer call with output shape, parameters and multiply-accumulates."""
import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.models import BasicBlock, ResNet, get_model
from minicnn.summary import print_summary, summary


def _mean_preserving_fill(tensor, *args, **kwargs):
    """Weights 1 / fan_in (each output is the mean of its inputs: no overflow however deep), biases 0."""
    fan_in = int(np.prod(tensor.shape[1:])) if tensor.ndim > 1 else 0
    return nn.init.constant_(tensor, 1.0 / fan_in if fan_in else 0.0)


@pytest.fixture
def cheap_init(monkeypatch):
    """Constant weights instead of random draws: shapes, counts and MACs do not depend on them."""
    for name in ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_"):
        monkeypatch.setattr(nn.init, name, _mean_preserving_fill)


def test_lenet5_table_has_one_row_per_layer_with_classic_shapes(device):
    model = get_model("lenet5").to(device)
    result = summary(model, (1, 32, 32), device=device)
    assert [row.name for row in result.rows] == ([f"features.{i}" for i in range(6)]
                                                 + [f"classifier.{i}" for i in range(5)])
    assert [row.output_shape for row in result.rows] == [
        (1, 6, 28, 28), (1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10), (1, 16, 10, 10), (1, 16, 5, 5),
        (1, 120), (1, 120), (1, 84), (1, 84), (1, 10)]
    assert [row.params for row in result.rows] == [156, 0, 0, 2416, 0, 0, 48120, 0, 10164, 0, 850]
    assert result.total_params == result.trainable_params == sum(p.numel() for p in model.parameters()) == 61_706
    # conv1: 6*28*28 outputs, each 1*5*5 products; conv2: 16*10*10 outputs of 6*5*5; then the Linear layers.
    assert result.rows[0].macs == 6 * 28 * 28 * 25
    assert result.rows[3].macs == 16 * 10 * 10 * 6 * 25
    assert result.total_macs == 6 * 28 * 28 * 25 + 16 * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    assert result.output_shape == (1, 10)
    table = str(result)
    assert "Total params: 61,706" in table and "features.3" in table and "[1, 16, 10, 10]" in table


def test_alexnet_textbook_table(cheap_init, device):
    result = summary(get_model("alexnet").to(device), (3, 224, 224), device=device)
    convs = [row for row in result.rows if row.type == "Conv2d"]
    assert [row.output_shape[1:] for row in convs] == [(64, 55, 55), (192, 27, 27), (384, 13, 13), (256, 13, 13),
                                                       (256, 13, 13)]
    assert [row.output_shape[1:] for row in result.rows if row.type == "MaxPool2d"] == [
        (64, 27, 27), (192, 13, 13), (256, 6, 6)]
    assert len(result.rows) == 21 and result.total_params == 61_100_840
    assert convs[0].macs == 55 * 55 * 64 * (3 * 11 * 11)
    assert convs[0].params == 64 * 3 * 11 * 11 + 64
    assert result.total_macs == 714_188_480  # the 0.71 GMACs usually quoted for this AlexNet


def test_batch_size_scales_shapes_and_macs(device):
    model = get_model("lenet5").to(device)
    one, four = summary(model, (1, 32, 32), device=device), summary(model, (1, 32, 32), batch_size=4, device=device)
    assert four.rows[0].output_shape == (4, 6, 28, 28)
    assert four.total_macs == 4 * one.total_macs
    assert four.activation_size_mb == pytest.approx(4 * one.activation_size_mb)


def test_grouped_convolution_macs_divide_by_groups(device):
    model = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1, groups=2), nn.Conv2d(8, 8, 3, groups=8, bias=False))
    result = summary(model.to(device), (4, 5, 5), device=device)
    assert result.rows[0].macs == 8 * 5 * 5 * (4 // 2) * 3 * 3
    assert result.rows[1].macs == 8 * 3 * 3 * 1 * 3 * 3  # depthwise: one input channel per filter
    assert result.total_params == 8 * 2 * 9 + 8 + 8 * 9


def test_a_shared_module_gives_a_row_per_call_and_counts_its_parameters_once(device):
    model = get_model("lenet").to(device)  # one ReLU and one MaxPool2d, called several times
    result = summary(model, (3, 32, 32), device=device)
    names = [row.name for row in result.rows]
    assert names == ["conv1", "relu", "pool", "conv2", "relu", "pool", "fc1", "relu", "fc2", "relu", "fc3"]
    assert sum(row.params for row in result.rows) == result.total_params == 121_182


def test_wrappers_and_training_modes_are_restored_even_when_forward_fails(device):
    model = get_model("lenet5").to(device)
    model.train()
    model.classifier[1].eval()
    with pytest.raises(ValueError):
        summary(model, (3, 32, 32), device=device)  # wrong channel count: conv1 expects 1
    for module in model.modules():
        assert "forward" not in vars(module)
    result = summary(model, (1, 32, 32), device=device)
    assert model.training and model.features[0].training and not model.classifier[1].training
    assert all("forward" not in vars(module) for module in model.modules())
    assert len(result.rows) == 11


def test_summary_runs_in_eval_mode_so_dropout_and_batchnorm_do_not_change_state(device):
    model = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10, widths=(4, 4, 8, 8), cifar=True).to(device)
    before = model.state_dict()["bn1.running_mean"]
    result = summary(model, (3, 32, 32), device=device)
    assert np.array_equal(model.state_dict()["bn1.running_mean"], before)
    assert result.total_params == sum(p.numel() for p in model.parameters())
    assert result.rows[-1].output_shape == (1, 10)


def test_print_summary_prints_the_table(capsys, device):
    result = print_summary(get_model("lenet5").to(device), (1, 32, 32), device=device)
    printed = capsys.readouterr().out
    assert printed.strip() == str(result).strip()
    assert "Total MACs: 416,520" in printed
    assert minicnn.summary is summary
