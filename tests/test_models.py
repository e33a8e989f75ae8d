"""The model zoo: architectures, parameter counts and state_dict keys equal to torchvision's, output
shapes, initialisation, a training step that learns, and float64 gradchecks through tiny networks."""
import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.models import (
    BasicBlock, Bottleneck, GoogLeNetOutputs, InvertedResidual, MobileNetV2, ResNet, get_model, list_models,
)
from minicnn.models.mobilenet import make_divisible

from helpers import host, make_input, rel_error

# torchvision's parameter counts (1000 classes), and the classic LeNets (10 classes).
PARAMETER_COUNTS = {
    "lenet5": 61_706,
    "lenet": 121_182,
    "alexnet": 61_100_840,
    "vgg11": 132_863_336,
    "vgg13": 133_047_848,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "vgg16_bn": 138_365_992,
    "googlenet": 13_004_888,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "resnext50_32x4d": 25_028_904,
    "resnext101_32x8d": 88_791_336,
    "wide_resnet50_2": 68_883_240,
    "mobilenet_v2": 3_504_872,
}

_RANDOM_INITS = ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_",
                 "xavier_uniform_", "xavier_normal_")


def _mean_preserving_fill(tensor, *args, **kwargs):
    """Weights 1 / fan_in (each output is the mean of its inputs: no overflow however deep), biases 0."""
    fan_in = int(np.prod(tensor.shape[1:])) if tensor.ndim > 1 else 0
    return nn.init.constant_(tensor, 1.0 / fan_in if fan_in else 0.0)


@pytest.fixture
def cheap_init(monkeypatch):
    """Replace the random initialisers with a constant fill: counts and shapes do not depend on the
    values, and drawing 100M+ normal numbers for VGG would dominate the suite's runtime."""
    for name in _RANDOM_INITS:
        monkeypatch.setattr(nn.init, name, _mean_preserving_fill)


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def random_batch(shape, device, dtype=np.float32, seed=0):
    return make_input(shape, device, dtype=dtype, requires_grad=False, seed=seed)[0]


# ------------------------------------------------------------------------------------------------
# architecture: parameter counts, state_dict keys
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(PARAMETER_COUNTS))
def test_parameter_count_matches_torchvision(name, cheap_init):
    assert count_parameters(get_model(name)) == PARAMETER_COUNTS[name]


def test_googlenet_without_aux_heads_has_torchvision_inference_count(cheap_init):
    model = get_model("googlenet", aux_logits=False)
    assert count_parameters(model) == 6_624_904
    assert model.aux1 is None and model.aux2 is None


def test_list_models_names_every_builder_and_get_model_rejects_unknown_names():
    names = list_models()
    assert set(PARAMETER_COUNTS) <= set(names)
    assert {"vgg11_bn", "vgg13_bn", "vgg19_bn"} <= set(names)
    with pytest.raises(ValueError, match="unknown model 'resnet17'.*resnet18"):
        get_model("resnet17")


def _resnet_expected_keys(layers, bottleneck: bool) -> list:
    """torchvision's ResNet state_dict keys, spelled out from its layout."""
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    keys = ["conv1.weight"] + [f"bn1.{k}" for k in bn]
    convs = 3 if bottleneck else 2
    for stage, blocks in enumerate(layers, start=1):
        for block in range(blocks):
            prefix = f"layer{stage}.{block}"
            for i in range(1, convs + 1):
                keys += [f"{prefix}.conv{i}.weight"] + [f"{prefix}.bn{i}.{k}" for k in bn]
            if block == 0 and (stage > 1 or bottleneck):
                keys += [f"{prefix}.downsample.0.weight"] + [f"{prefix}.downsample.1.{k}" for k in bn]
    return keys + ["fc.weight", "fc.bias"]


def _vgg16_bn_expected_keys() -> list:
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    conv_indices = [0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40]  # conv, bn, relu (+ pool after stages)
    keys = []
    for i in conv_indices:
        keys += [f"features.{i}.weight", f"features.{i}.bias"] + [f"features.{i + 1}.{k}" for k in bn]
    return keys + [f"classifier.{i}.{k}" for i in (0, 3, 6) for k in ("weight", "bias")]


def _alexnet_expected_keys() -> list:
    return ([f"features.{i}.{k}" for i in (0, 3, 6, 8, 10) for k in ("weight", "bias")]
            + [f"classifier.{i}.{k}" for i in (1, 4, 6) for k in ("weight", "bias")])


@pytest.mark.parametrize("name, expected", [
    ("resnet18", _resnet_expected_keys([2, 2, 2, 2], bottleneck=False)),
    ("resnet50", _resnet_expected_keys([3, 4, 6, 3], bottleneck=True)),
    ("vgg16_bn", _vgg16_bn_expected_keys()),
    ("alexnet", _alexnet_expected_keys()),
])
def test_state_dict_keys_equal_torchvision_in_order(name, expected, cheap_init):
    keys = list(get_model(name).state_dict(keep_vars=True).keys())  # keep_vars: no copy of the weights
    assert keys == expected


@pytest.mark.parametrize("name, key_count, shapes", [
    ("mobilenet_v2", 314, {
        "features.0.0.weight": (32, 3, 3, 3),
        "features.0.1.running_var": (32,),
        "features.1.conv.0.0.weight": (32, 1, 3, 3),     # depthwise, no expansion in the first block
        "features.1.conv.1.weight": (16, 32, 1, 1),      # linear projection
        "features.1.conv.2.num_batches_tracked": (),
        "features.2.conv.0.0.weight": (96, 16, 1, 1),    # expansion x6
        "features.2.conv.1.0.weight": (96, 1, 3, 3),
        "features.2.conv.2.weight": (24, 96, 1, 1),
        "features.2.conv.3.bias": (24,),
        "features.17.conv.2.weight": (320, 960, 1, 1),
        "features.18.0.weight": (1280, 320, 1, 1),
        "classifier.1.weight": (1000, 1280),
    }),
    ("googlenet", 364, {
        "conv1.conv.weight": (64, 3, 7, 7),
        "conv1.bn.running_mean": (64,),
        "conv3.conv.weight": (192, 64, 3, 3),
        "inception3a.branch1.conv.weight": (64, 192, 1, 1),
        "inception3a.branch2.1.conv.weight": (128, 96, 3, 3),
        "inception3a.branch3.1.conv.weight": (32, 16, 3, 3),  # torchvision's "5x5" branch is 3x3
        "inception3a.branch4.1.bn.num_batches_tracked": (),
        "inception5b.branch4.1.conv.weight": (128, 832, 1, 1),
        "aux1.conv.conv.weight": (128, 512, 1, 1),
        "aux1.fc1.weight": (1024, 2048),
        "aux2.conv.conv.weight": (128, 528, 1, 1),
        "aux2.fc2.bias": (1000,),
        "fc.weight": (1000, 1024),
    }),
])
def test_state_dict_key_count_and_shapes_equal_torchvision(name, key_count, shapes):
    state = get_model(name).state_dict(keep_vars=True)
    assert len(state) == key_count
    for key, shape in shapes.items():
        assert tuple(state[key].shape) == shape, key


# ------------------------------------------------------------------------------------------------
# forward shapes
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kwargs, input_shape, classes", [
    ("lenet5", {}, (1, 1, 32, 32), 10),
    ("lenet5", {"input_size": 28}, (2, 1, 28, 28), 10),
    ("lenet5", {"classic": True, "in_channels": 3, "num_classes": 7}, (2, 3, 32, 32), 7),
    ("lenet", {}, (2, 3, 32, 32), 10),
    ("resnet18", {"num_classes": 10, "cifar": True}, (1, 3, 32, 32), 10),
    ("resnet18", {}, (1, 3, 64, 64), 1000),
    ("mobilenet_v2", {"num_classes": 10}, (1, 3, 48, 48), 10),
    ("googlenet", {"num_classes": 10}, (1, 3, 48, 48), 10),
])
def test_forward_gives_logits_of_the_right_shape(name, kwargs, input_shape, classes, device):
    model = get_model(name, **kwargs).to(device).eval()
    with minicnn.no_grad():
        logits = model(random_batch(input_shape, device))
    assert logits.shape == (input_shape[0], classes)
    assert np.all(np.isfinite(host(logits)))


@pytest.mark.parametrize("name, input_size", [
    ("alexnet", 64), ("vgg11_bn", 32), ("resnet50", 32), ("resnext50_32x4d", 32),
])
def test_big_models_forward_at_batch_one(name, input_size, device, cheap_init):
    model = get_model(name).to(device).eval()
    with minicnn.no_grad():
        logits = model(random_batch((1, 3, input_size, input_size), device))
    assert logits.shape == (1, 1000)
    assert np.all(np.isfinite(host(logits)))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg19", "resnet152", "resnext101_32x8d", "wide_resnet50_2"])
def test_deepest_models_forward_at_small_resolution(name, device, cheap_init):
    model = get_model(name, num_classes=10).to(device).eval()
    with minicnn.no_grad():
        logits = model(random_batch((1, 3, 32, 32), device))
    assert logits.shape == (1, 10)
    assert np.all(np.isfinite(host(logits)))


def test_lenet5_feature_maps_have_the_classic_sizes(device):
    model = get_model("lenet5", input_size=28).to(device)
    x = random_batch((1, 1, 28, 28), device)
    sizes = []
    for layer in model.features:
        x = layer(x)
        sizes.append(x.shape[1:])
    assert sizes == [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5)]
    assert isinstance(get_model("lenet5", classic=True).features[1], nn.Tanh)
    assert isinstance(get_model("lenet5", classic=True).features[2], nn.AvgPool2d)
    assert isinstance(get_model("lenet5").features[2], nn.MaxPool2d)


def test_googlenet_returns_aux_logits_only_in_training(device):
    model = get_model("googlenet", num_classes=5).to(device)
    x = random_batch((2, 3, 32, 32), device)  # 1x1 maps at the end; the aux heads pool 2x2 up to 4x4
    outputs = model(x)
    assert isinstance(outputs, GoogLeNetOutputs)
    assert [o.shape for o in outputs] == [(2, 5)] * 3
    model.eval()
    with minicnn.no_grad():
        assert model(x).shape == (2, 5)
    no_aux = get_model("googlenet", num_classes=5, aux_logits=False).to(device)
    assert no_aux(x).shape == (2, 5)


def test_googlenet_transform_input_maps_imagenet_normalisation_to_minus_one_one(device):
    plain = get_model("googlenet", num_classes=4, aux_logits=False).eval()
    transformed = get_model("googlenet", num_classes=4, aux_logits=False, transform_input=True).eval()
    transformed.load_state_dict(plain.state_dict())
    plain.to(device)
    transformed.to(device)
    x = random_batch((1, 3, 32, 32), device, dtype=np.float64).to(minicnn.float32)
    mean = np.array([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
    pixels = host(x) * std + mean  # the images x was normalised from
    rescaled = minicnn.tensor(((pixels - 0.5) / 0.5).astype(np.float32), device=device)
    with minicnn.no_grad():
        assert rel_error(host(transformed(x)), host(plain(rescaled))) < 1e-5


# ------------------------------------------------------------------------------------------------
# options and initialisation
# ------------------------------------------------------------------------------------------------

def test_resnet_cifar_stem_is_3x3_stride_1_without_maxpool(cheap_init):
    model = get_model("resnet18", num_classes=10, cifar=True)
    assert model.conv1.weight.shape == (64, 3, 3, 3) and model.conv1.stride == (1, 1)
    assert isinstance(model.maxpool, nn.Identity)
    # The only differences from torchvision's resnet18: a 3x3 instead of 7x7 stem, 10 instead of 1000 classes.
    assert count_parameters(model) == 11_689_512 - (49 - 9) * 3 * 64 - 990 * (512 + 1)


def test_resnet_initialisation_follows_torchvision():
    model = get_model("resnet18")
    weight = host(model.layer3[0].conv2.weight)  # (256, 256, 3, 3): std sqrt(2 / fan_out)
    assert abs(weight.std() / np.sqrt(2 / (256 * 9)) - 1) < 0.02
    assert np.all(host(model.bn1.weight) == 1) and np.all(host(model.bn1.bias) == 0)
    assert np.all(host(model.layer1[0].bn2.weight) == 1)


@pytest.mark.parametrize("name, last_bn", [("resnet18", "bn2"), ("resnet50", "bn3")])
def test_zero_init_residual_zeroes_the_last_bn_scale_of_every_block(name, last_bn, cheap_init):
    model = get_model(name, zero_init_residual=True)
    blocks = [block for stage in (model.layer1, model.layer2, model.layer3, model.layer4) for block in stage]
    assert all(np.all(host(getattr(block, last_bn).weight) == 0) for block in blocks)
    assert np.all(host(model.layer1[0].bn1.weight) == 1)


def test_resnext_groups_the_3x3_convolution(cheap_init):
    model = get_model("resnext50_32x4d")
    conv = model.layer1[0].conv2
    assert conv.groups == 32 and conv.weight.shape == (128, 4, 3, 3)
    assert model.layer4[0].conv2.weight.shape == (1024, 32, 3, 3)


def test_make_divisible_rounds_to_multiples_and_never_loses_more_than_ten_percent():
    assert make_divisible(32 * 0.75) == 24
    assert make_divisible(1280) == 1280
    assert make_divisible(10) == 16  # 8 would lose 20%
    assert make_divisible(3, 8) == 8
    model = MobileNetV2(width_mult=0.5, num_classes=10)
    assert model.features[0][0].weight.shape == (16, 3, 3, 3)
    assert model.classifier[1].weight.shape == (10, 1280)


def test_inverted_residual_uses_the_shortcut_only_when_shape_is_kept():
    assert InvertedResidual(16, 16, 1, 6).use_res_connect
    assert not InvertedResidual(16, 16, 2, 6).use_res_connect
    assert not InvertedResidual(16, 24, 1, 6).use_res_connect
    depthwise = InvertedResidual(8, 8, 1, 2).conv[1][0]
    assert depthwise.groups == 16 and depthwise.weight.shape == (16, 1, 3, 3)


# ------------------------------------------------------------------------------------------------
# learning: one SGD step, float64 gradchecks through tiny networks
# ------------------------------------------------------------------------------------------------

def tiny_resnet(block, num_classes=3, **kwargs):
    """Four stages of one block each, 4 to 8 channels wide: every part of ResNet, at toy size."""
    return ResNet(block, [1, 1, 1, 1], num_classes=num_classes, widths=(4, 4, 8, 8), **kwargs)


def tiny_mobilenet(num_classes=3, dropout=0.2):
    return MobileNetV2(num_classes=num_classes, inverted_residual_setting=[[1, 16, 1, 1], [2, 32, 2, 2]],
                       width_mult=0.25, round_nearest=4, last_channel=8, dropout=dropout)


@pytest.mark.parametrize("make_model, input_shape", [
    (lambda: get_model("lenet5"), (8, 1, 32, 32)),
    (lambda: get_model("lenet5", classic=True, input_size=28), (8, 1, 28, 28)),
    (lambda: get_model("lenet"), (8, 3, 32, 32)),
    (lambda: tiny_resnet(BasicBlock, cifar=True), (8, 3, 16, 16)),
    (lambda: tiny_resnet(Bottleneck), (8, 3, 32, 32)),
    (lambda: tiny_mobilenet(dropout=0.0), (8, 3, 16, 16)),
], ids=["lenet5", "lenet5-classic", "lenet", "tiny-resnet-basic", "tiny-resnet-bottleneck", "tiny-mobilenet"])
def test_one_sgd_step_lowers_the_loss_on_a_fixed_batch(make_model, input_shape, device):
    model = make_model().to(device).train()
    x = random_batch(input_shape, device)
    labels = minicnn.tensor(np.arange(input_shape[0]) % 3, device=device)
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01)

    def loss_value():
        return minicnn.functional.cross_entropy(model(x), labels)

    loss = loss_value()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with minicnn.no_grad():
        assert loss_value().item() < loss.item()


def _gradcheck_model(model, input_shape, device, parameter_names):
    """Float64 gradcheck of the whole network in train mode, with respect to a few parameters and the
    first sample of the batch (the other samples are fixed: they still shape every BatchNorm statistic,
    and checking one sample's pixels keeps the number of finite-difference forwards small)."""
    model.double().to(device).train()
    first = make_input((1, *input_shape[1:]), device, dtype=np.float64, seed=3)[0]
    others = make_input((input_shape[0] - 1, *input_shape[1:]), device, dtype=np.float64, requires_grad=False,
                        seed=4)[0]
    params = dict(model.named_parameters())
    checked = [params[name] for name in parameter_names]

    def run(first, *weights):  # the weights are the model's own Parameters, perturbed in place by gradcheck
        return model(minicnn.cat([first, others], 0))

    assert minicnn.gradcheck(run, [first, *checked], atol=1e-6, rtol=1e-4)


# Batch 3: the last stages see 1x1 maps, where BatchNorm over only two values would be degenerate.
@pytest.mark.parametrize("block, cifar, params", [
    (BasicBlock, False, ["layer1.0.bn1.weight", "layer2.0.downsample.1.bias", "fc.weight"]),
    (Bottleneck, True, ["layer1.0.conv1.weight", "layer2.0.bn2.bias", "layer4.0.downsample.1.weight"]),
], ids=["basic-maxpool-stem", "bottleneck-cifar-stem"])
def test_tiny_resnet_passes_float64_gradcheck_in_train_mode(block, cifar, params, device):
    minicnn.manual_seed(1)
    model = tiny_resnet(block, cifar=cifar, in_channels=1)
    _gradcheck_model(model, (3, 1, 8, 8), device, params)


def test_tiny_mobilenet_passes_float64_gradcheck_in_train_mode(device):
    minicnn.manual_seed(2)
    model = tiny_mobilenet(dropout=0.0)  # train mode: dropout would draw a new mask every forward
    assert model.features[1].conv[0][0].groups == 8  # depthwise convolutions inside
    assert model.features[3].use_res_connect         # and a residual connection
    _gradcheck_model(model, (2, 3, 6, 6), device,
                     ["features.1.conv.0.0.weight", "features.3.conv.3.bias", "classifier.1.bias"])
