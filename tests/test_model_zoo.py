"""The later classic nets: registry and CLI, the layer tables their papers imply, MACs against published
figures, input-size limits, a few training steps each, and what memory-efficient DenseNet saves."""
import re

import numpy as np
import pytest

import minicnn
from minicnn.cli import main
from minicnn.cli.errors import UsageError
from minicnn.cli.model_builder import check_input_shape
from minicnn.models import get_model, list_models

from helpers import big_model, big_model_test, import_torchvision

NEW_MODELS = [
    "zfnet", "alexnet_original", "squeezenet1_0", "squeezenet1_1", "densenet121", "densenet161", "densenet169",
    "densenet201", "inception_v3", "mobilenet_v1", "mobilenet_v3_small", "mobilenet_v3_large", "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "efficientnet_b0",
]


def test_every_new_net_is_listed_and_built_by_name():
    assert set(NEW_MODELS) <= set(list_models())
    for name in NEW_MODELS:
        assert callable(getattr(minicnn.models, name))


def layer_table(model, input_shape, layer_types=("Conv2d", "Linear", "MaxPool2d")):
    """[(type, output shape without the batch, parameters)] of the layers of those types, in order."""
    rows = minicnn.summary(model, input_shape).rows
    return [(row.type, row.output_shape[1:], row.params) for row in rows if row.type in layer_types]


# The 2012 paper's Fig. 2 and section 3.5 on a 227x227 input; weights + biases, with the grouped layers'
# kernels seeing half the channels (conv2: 256 x 48 x 5 x 5, conv4: 384 x 192 x 3 x 3, conv5: 256 x 192 x 3 x 3).
ALEXNET_2012 = [
    ("Conv2d", (96, 55, 55), 96 * 3 * 11 * 11 + 96),           # 34,944
    ("MaxPool2d", (96, 27, 27), 0),
    ("Conv2d", (256, 27, 27), 256 * 48 * 5 * 5 + 256),         # 307,456
    ("MaxPool2d", (256, 13, 13), 0),
    ("Conv2d", (384, 13, 13), 384 * 256 * 3 * 3 + 384),        # 885,120
    ("Conv2d", (384, 13, 13), 384 * 192 * 3 * 3 + 384),        # 663,936
    ("Conv2d", (256, 13, 13), 256 * 192 * 3 * 3 + 256),        # 442,624
    ("MaxPool2d", (256, 6, 6), 0),
    ("Linear", (4096,), 9216 * 4096 + 4096),                   # 37,752,832
    ("Linear", (4096,), 4096 * 4096 + 4096),                   # 16,781,312
    ("Linear", (1000,), 4096 * 1000 + 1000),                   # 4,097,000
]

# Zeiler & Fergus 2013, Fig. 3's map sizes on a 224x224 crop, with Table 3's 512-1024-512 conv3-5.
ZFNET_2013 = [
    ("Conv2d", (96, 110, 110), 96 * 3 * 7 * 7 + 96),           # 14,208
    ("MaxPool2d", (96, 55, 55), 0),
    ("Conv2d", (256, 26, 26), 256 * 96 * 5 * 5 + 256),         # 614,656
    ("MaxPool2d", (256, 13, 13), 0),
    ("Conv2d", (512, 13, 13), 512 * 256 * 3 * 3 + 512),        # 1,180,160
    ("Conv2d", (1024, 13, 13), 1024 * 512 * 3 * 3 + 1024),     # 4,719,616
    ("Conv2d", (512, 13, 13), 512 * 1024 * 3 * 3 + 512),       # 4,719,104
    ("MaxPool2d", (512, 6, 6), 0),
    ("Linear", (4096,), 512 * 6 * 6 * 4096 + 4096),            # 75,501,568
    ("Linear", (4096,), 4096 * 4096 + 4096),
    ("Linear", (1000,), 4096 * 1000 + 1000),
]


@pytest.mark.parametrize("name, input_size, expected, total", [
    ("alexnet_original", 227, ALEXNET_2012, 60_965_224),
    ("zfnet", 224, ZFNET_2013, 107_627_624),
])
def test_per_layer_parameters_and_output_sizes_are_the_papers(name, input_size, expected, total):
    model = get_model(name)
    assert layer_table(model, (3, input_size, input_size)) == expected
    assert sum(p.numel() for p in model.parameters()) == total == sum(row[2] for row in expected)


def test_alexnet_original_normalises_after_conv1_and_conv2_with_the_papers_constants():
    model = get_model("alexnet_original")
    norms = [(i, m) for i, m in enumerate(model.features) if isinstance(m, minicnn.nn.LocalResponseNorm)]
    assert [i for i, _ in norms] == [2, 6]  # conv, ReLU, LRN, pool: twice
    for _, norm in norms:
        # the paper's alpha 1e-4 multiplies the window's sum; torch's LRN divides alpha by size
        assert (norm.size, norm.alpha / norm.size, norm.beta, norm.k) == (5, pytest.approx(1e-4), 0.75, 2.0)
    assert [m.groups for m in model.features if isinstance(m, minicnn.nn.Conv2d)] == [1, 2, 1, 2, 2]


def test_zfnet_fig3_channels_give_the_smaller_model():
    from minicnn.models.zfnet import FIG3_CONV_CHANNELS

    model = get_model("zfnet", conv_channels=FIG3_CONV_CHANNELS)
    assert sum(p.numel() for p in model.parameters()) == 62_357_608


# MobileNet V1, Table 6 of Howard et al. (2017): (alpha, million mult-adds, million parameters), at 224x224.
MOBILENET_V1_TABLE6 = [(1.0, 569, 4.2), (0.75, 325, 2.6), (0.5, 149, 1.3), (0.25, 41, 0.5)]


@pytest.mark.parametrize("alpha, mult_adds, params", [
    row if row[0] == 0.25 else pytest.param(*row, marks=big_model) for row in MOBILENET_V1_TABLE6])
def test_mobilenet_v1_width_multiplier_matches_the_papers_table(alpha, mult_adds, params):
    result = minicnn.summary(get_model("mobilenet_v1", width_mult=alpha), (3, 224, 224))
    assert round(result.total_macs / 1e6) == mult_adds
    assert round(result.total_params / 1e6, 1) == params


# torchvision's published cost of each net (GFLOPS column of its model table, i.e. billions of
# multiply-accumulates of convolutions and linear layers, at 224x224 -- 299x299 for inception_v3): the
# ``_ops`` field of each weights entry's metadata in torchvision 0.28.
FAST_MAC_MODELS = ("squeezenet1_1", "mobilenet_v3_small", "shufflenet_v2_x0_5")
TORCHVISION_MAC_MODELS = ["squeezenet1_0", "squeezenet1_1", "densenet121", "densenet161", "densenet169",
                          "densenet201", "inception_v3", "mobilenet_v3_small", "mobilenet_v3_large",
                          "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
                          "efficientnet_b0"]


@pytest.mark.parametrize("name", [name if name in FAST_MAC_MODELS else pytest.param(name, marks=big_model)
                                  for name in TORCHVISION_MAC_MODELS])
def test_macs_agree_with_torchvisions_published_figures(name):
    torchvision = import_torchvision()
    meta = torchvision.models.get_model_weights(name).DEFAULT.meta
    size = 299 if name == "inception_v3" else 224
    result = minicnn.summary(get_model(name), (3, size, size))
    published = meta["_ops"]
    decimals = len(repr(published).split(".")[1])
    # within 1%, or half a unit of the figure's last digit where that is coarser (0.04 for shufflenet x0.5)
    tolerance = max(0.01 * published, 0.5 * 10.0 ** -decimals)
    assert abs(result.total_macs / 1e9 - published) <= tolerance
    assert result.total_params == meta["num_params"]
    assert result.output_shape == (1, 1000)


def test_summary_shows_the_new_layers_with_their_shapes():
    result = minicnn.summary(get_model("mobilenet_v3_small", num_classes=10), (3, 64, 64))
    types = {row.type for row in result.rows}
    assert {"Hardswish", "Hardsigmoid", "AdaptiveAvgPool2d", "Conv2d", "BatchNorm2d"} <= types
    se_gates = [row for row in result.rows if row.type == "Hardsigmoid"]
    assert se_gates[0].output_shape == (1, 16, 1, 1)  # the first block's gate: one value per channel
    assert result.output_shape == (1, 10)
    shuffle = minicnn.summary(get_model("shufflenet_v2_x0_5", num_classes=10), (3, 64, 64))
    assert shuffle.total_params == sum(p.numel() for p in get_model("shufflenet_v2_x0_5", num_classes=10).parameters())


# ------------------------------------------------------------------------------------------------
# training, input sizes, the CLI
# ------------------------------------------------------------------------------------------------

# name -> (input size, builder arguments): inputs whose last grid is at least 2x2, so BatchNorm's batch
# statistics over two images are well conditioned
TRAINING_CASES = {
    "squeezenet1_0": (48, {}), "squeezenet1_1": (48, {}), "densenet121": (64, {}),
    "densenet121_memory_efficient": (64, {"memory_efficient": True}), "densenet161": (64, {}),
    "densenet169": (64, {}), "densenet201": (64, {}), "inception_v3": (107, {"aux_logits": False}),
    "inception_v3_aux": (299, {}), "mobilenet_v1": (64, {"width_mult": 0.25}), "mobilenet_v3_small": (64, {}),
    "mobilenet_v3_large": (64, {}), "shufflenet_v2_x0_5": (64, {}), "shufflenet_v2_x1_0": (64, {}),
    "shufflenet_v2_x1_5": (64, {}), "shufflenet_v2_x2_0": (64, {}), "efficientnet_b0": (64, {}),
    "alexnet_original": (227, {}), "zfnet": (224, {}),
}
# SqueezeNet has no BatchNorm: on unit-variance noise its loss surface is steep enough that 0.002 overshoots
LEARNING_RATES = {"squeezenet1_0": 2e-4, "squeezenet1_1": 2e-4}
FAST_TRAINING = ("squeezenet1_1", "densenet121_memory_efficient", "mobilenet_v1", "mobilenet_v3_small",
                 "shufflenet_v2_x0_5", "efficientnet_b0")


@pytest.mark.parametrize("case", [case if case in FAST_TRAINING else pytest.param(case, marks=big_model)
                                  for case in TRAINING_CASES])
def test_a_few_training_steps_lower_the_loss_on_a_fixed_batch(case, device):
    size, kwargs = TRAINING_CASES[case]
    name = case.replace("_memory_efficient", "").replace("_aux", "")
    model = get_model(name, num_classes=4, **kwargs).to(device).train()
    for module in model.modules():  # a fixed objective: no random masks between the steps
        if type(module).__name__ in ("Dropout", "StochasticDepth"):
            module.p = 0.0
    generator = np.random.default_rng(0)
    x = minicnn.tensor(generator.standard_normal((2, 3, size, size)).astype(np.float32), device=device)
    y = minicnn.tensor(np.array([1, 3]), device=device)
    # small steps of plain gradient descent on a fixed batch: the loss must go down
    optimizer = minicnn.optim.SGD(model.parameters(), lr=LEARNING_RATES.get(case, 0.002))
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        outputs = model(x)
        logits = outputs.logits if hasattr(outputs, "logits") else outputs
        loss = minicnn.functional.cross_entropy(logits, y)
        if hasattr(outputs, "aux_logits"):
            loss = loss + 0.4 * minicnn.functional.cross_entropy(outputs.aux_logits, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name, shape, expected", [
    ("inception_v3", (3, 64, 64), "inception_v3"),
    ("alexnet_original", (3, 160, 160), "expected 227x227 images"),
    ("zfnet", (3, 120, 120), "expected 224x224 images"),
    ("densenet121", (3, 16, 16), "densenet121"),
])
def test_an_input_too_small_or_the_wrong_size_is_a_clear_usage_error(name, shape, expected):
    model = get_model(name, **({"aux_logits": False} if name == "inception_v3" else {}))
    with pytest.raises(UsageError, match=expected) as error:
        check_input_shape(model, name, shape)
    assert "x".join(map(str, shape)) in str(error.value)


def run_cli(argv, capsys):
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().out


@big_model_test
def test_cli_summary_of_inception_v3_at_299(capsys):
    code, stdout = run_cli(["summary", "--model", "inception_v3", "--input", "3,299,299", "--num-classes", "1000"],
                           capsys)
    assert code == 0
    assert "Total params: 27,161,264" in stdout  # the aux head's parameters count, though eval skips it
    assert re.search(r"Mixed_7c.branch_pool.conv +Conv2d +\[1, 192, 8, 8\]", stdout)


def test_cli_summary_of_a_new_net(capsys):
    code, stdout = run_cli(["summary", "--model", "mobilenet_v3_small", "--input", "3,64,64", "--num-classes", "10"],
                           capsys)
    assert code == 0
    count = sum(p.numel() for p in get_model("mobilenet_v3_small", num_classes=10).parameters())
    assert f"Total params: {count:,}" in stdout and "Hardswish" in stdout


def test_cli_trains_densenet121_on_an_image_folder(tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    generator = np.random.default_rng(0)
    for split in ("train", "val"):
        for label in ("cat", "dog"):
            (tmp_path / "images" / split / label).mkdir(parents=True)
            for i in range(2):
                pixels = generator.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(tmp_path / "images" / split / label / f"{i}.png")
    code, stdout = run_cli(["train", "--model", "densenet121", "--dataset", "folder", "--data-dir",
                            tmp_path / "images", "--epochs", "1", "--batch-size", "2", "--out", tmp_path / "run",
                            "--no-progress"], capsys)
    assert code == 0, stdout
    assert (tmp_path / "run" / "best.npz").is_file()


# ------------------------------------------------------------------------------------------------
# memory-efficient DenseNet
# ------------------------------------------------------------------------------------------------

def test_memory_efficient_densenet_gives_the_same_gradients_and_statistics(device):
    from minicnn.models import DenseNet

    results = []
    for memory_efficient in (False, True):
        minicnn.manual_seed(0)
        model = DenseNet(8, (3, 3), 16, num_classes=3, memory_efficient=memory_efficient).double().to(device)
        x = minicnn.tensor(np.random.default_rng(1).standard_normal((2, 3, 16, 16)), requires_grad=True,
                           device=device)
        model(x).sum().backward()
        results.append(({k: p.grad.numpy() for k, p in model.named_parameters()}, x.grad.numpy(),
                        {k: v.clone() for k, v in model.state_dict().items()}))
    (grads, x_grad, state), (grads_me, x_grad_me, state_me) = results
    assert np.allclose(x_grad, x_grad_me, rtol=1e-12, atol=1e-14)
    for key in grads:
        assert np.allclose(grads[key], grads_me[key], rtol=1e-12, atol=1e-14), key
    for key in state:  # the recomputation does not count a batch twice in the running statistics
        assert np.array_equal(state[key], state_me[key]), key


def traced_step_peak(model, x):
    """Most bytes numpy arrays held at once during one forward + backward (tracemalloc), after a warm-up."""
    import tracemalloc

    model(x).sum().backward()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    model(x).sum().backward()
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return peak


def test_memory_efficient_densenet_holds_less_memory_during_a_step():
    from minicnn.models import DenseNet

    peaks = {}
    for memory_efficient in (False, True):
        model = DenseNet(8, (12, 12), 32, num_classes=3, memory_efficient=memory_efficient)
        x = minicnn.tensor(np.random.default_rng(1).standard_normal((2, 3, 32, 32)).astype(np.float32))
        peaks[memory_efficient] = traced_step_peak(model, x)
    # the plain net keeps every layer's concatenation, normalised copy and ReLU output; the recomputing
    # one keeps only the layers' inputs, which its concatenation shares
    assert peaks[True] < 0.7 * peaks[False], peaks
