"""ResNets against a PyTorch reference: weights moved with load_torch_state_dict give the same logits
(eval and train mode), the same BatchNorm running statistics and the same gradients for every parameter.
Also the checks load_torch_state_dict makes before it touches a model (these need no torch)."""
import numpy as np
import pytest

import minicnn
from minicnn.models import BasicBlock, Bottleneck, ResNet, get_model
from minicnn.models.torch_weights import convert_torch_state_dict, load_torch_state_dict

from helpers import host, import_torch, parity_tolerance, rel_error


def torch_resnet(torch, bottleneck: bool, layers, num_classes: int, groups: int = 1, width_per_group: int = 64,
                 widths=(64, 128, 256, 512)):
    """A compact PyTorch ResNet with torchvision's layout and names (v1.5: stride on the 3x3)."""
    tnn = torch.nn

    def bn(channels):
        return tnn.BatchNorm2d(channels)

    class Block(tnn.Module):
        expansion = 4 if bottleneck else 1

        def __init__(self, inplanes, planes, stride, downsample):
            super().__init__()
            width = int(planes * width_per_group / 64) * groups if bottleneck else planes
            if bottleneck:
                self.conv1, self.bn1 = tnn.Conv2d(inplanes, width, 1, bias=False), bn(width)
                self.conv2, self.bn2 = tnn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False), bn(width)
                self.conv3 = tnn.Conv2d(width, planes * 4, 1, bias=False)
                self.bn3 = bn(planes * 4)
            else:
                self.conv1, self.bn1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False), bn(planes)
                self.conv2, self.bn2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False), bn(planes)
            self.relu = tnn.ReLU()
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            if bottleneck:
                out = self.relu(self.bn2(self.conv2(out)))
                out = self.bn3(self.conv3(out))
            else:
                out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            inplanes = widths[0]
            self.conv1, self.bn1 = tnn.Conv2d(3, inplanes, 7, 2, 3, bias=False), bn(inplanes)
            self.relu, self.maxpool = tnn.ReLU(), tnn.MaxPool2d(3, 2, 1)
            for stage, (planes, blocks) in enumerate(zip(widths, layers), start=1):
                stride = 1 if stage == 1 else 2
                downsample = None
                if stride != 1 or inplanes != planes * Block.expansion:
                    downsample = tnn.Sequential(
                        tnn.Conv2d(inplanes, planes * Block.expansion, 1, stride, bias=False),
                        bn(planes * Block.expansion))
                stage_blocks = [Block(inplanes, planes, stride, downsample)]
                inplanes = planes * Block.expansion
                stage_blocks += [Block(inplanes, planes, 1, None) for _ in range(1, blocks)]
                setattr(self, f"layer{stage}", tnn.Sequential(*stage_blocks))
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(widths[3] * Block.expansion, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    model = Net()
    # Non-trivial BatchNorm state, so eval mode exercises the running statistics and the affine part.
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, tnn.BatchNorm2d):
                channels = module.num_features
                module.weight.copy_(1 + 0.2 * torch.randn(channels, generator=generator))
                module.bias.copy_(0.2 * torch.randn(channels, generator=generator))
                module.running_mean.copy_(0.1 * torch.randn(channels, generator=generator))
                module.running_var.copy_(1 + 0.5 * torch.rand(channels, generator=generator))
    return model


NARROW = (16, 32, 64, 128)

# (name, torch reference arguments, minicnn model builder)
CASES = {
    "resnet18": (dict(bottleneck=False, layers=[2, 2, 2, 2]),
                 lambda classes: get_model("resnet18", num_classes=classes)),
    # ResNeXt-style (grouped 3x3), two blocks in the first stage, at a quarter of the width.
    "bottleneck-grouped": (dict(bottleneck=True, layers=[2, 1, 1, 1], groups=2, width_per_group=32, widths=NARROW),
                           lambda classes: ResNet(Bottleneck, [2, 1, 1, 1], classes, groups=2, width_per_group=32,
                                                  widths=NARROW)),
}


def build_pair(torch, case, num_classes=10):
    torch.manual_seed(0)
    reference_args, make_model = CASES[case]
    reference = torch_resnet(torch, num_classes=num_classes, **reference_args)
    model = make_model(num_classes)
    load_torch_state_dict(model, reference.state_dict())
    return reference, model


@pytest.fixture(scope="module")
def batch():
    # Three 32x32 images: the last stage sees 1x1 maps, where BatchNorm over a batch of two would
    # normalise every value to +-1 and hide errors in its gradient.
    generator = np.random.default_rng(7)
    images = generator.standard_normal((3, 3, 32, 32))
    labels = np.array([3, 8, 0])
    return images, labels


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_float32_logits_match_torch(case, train, batch, device):
    torch = import_torch()
    reference, model = build_pair(torch, case)
    model.to(device).train(train)
    reference.train(train)
    images, _ = batch
    with torch.no_grad():
        expected = reference(torch.tensor(images, dtype=torch.float32)).numpy()
    with minicnn.no_grad():
        logits = model(minicnn.tensor(images.astype(np.float32), device=device))
    assert logits.dtype == np.float32
    assert rel_error(host(logits), expected) < parity_tolerance(np.float32)
    if train:  # one forward in train mode updates every running statistic the same way
        state = model.state_dict()
        for key, value in reference.state_dict().items():
            if "running" in key or "num_batches_tracked" in key:
                assert rel_error(state[key], value.numpy()) < parity_tolerance(np.float32), key


@pytest.mark.parametrize("case", sorted(CASES))
def test_float64_gradients_of_every_parameter_match_torch(case, batch, device):
    torch = import_torch()
    reference, model = build_pair(torch, case)
    reference.double().train()
    model.double().to(device).train()
    images, labels = batch

    torch_images = torch.tensor(images, requires_grad=True)
    torch.nn.functional.cross_entropy(reference(torch_images), torch.tensor(labels)).backward()
    x = minicnn.tensor(images, requires_grad=True, device=device)
    loss = minicnn.functional.cross_entropy(model(x), minicnn.tensor(labels, device=device))
    loss.backward()

    tolerance = parity_tolerance(np.float64)
    assert rel_error(host(x.grad), torch_images.grad.numpy()) < tolerance
    expected_grads = {name: p.grad.numpy() for name, p in reference.named_parameters()}
    grads = {name: host(p.grad) for name, p in model.named_parameters()}
    assert grads.keys() == expected_grads.keys()
    errors = {name: rel_error(grads[name], expected_grads[name]) for name in grads}
    worst = max(errors, key=errors.get)
    assert errors[worst] < tolerance, f"{worst}: relative error {errors[worst]:.2e}"


@pytest.mark.parametrize("name, reference_args", [
    ("resnet18", dict(bottleneck=False, layers=[2, 2, 2, 2])),
    ("resnet50", dict(bottleneck=True, layers=[3, 4, 6, 3])),
    ("resnext50_32x4d", dict(bottleneck=True, layers=[3, 4, 6, 3], groups=32, width_per_group=4)),
])
def test_state_dict_keys_and_shapes_equal_the_torch_reference(name, reference_args):
    torch = import_torch()
    expected = {key: tuple(value.shape) for key, value in torch_resnet(torch, num_classes=1000, **reference_args)
                .state_dict().items()}
    actual = {key: tuple(value.shape) for key, value in get_model(name).state_dict(keep_vars=True).items()}
    assert list(actual) == list(expected)
    assert actual == expected


# ------------------------------------------------------------------------------------------------
# load_torch_state_dict's checks (arrays only, no torch needed)
# ------------------------------------------------------------------------------------------------

def tiny_model():
    return ResNet(BasicBlock, [1, 1, 1, 1], num_classes=3, widths=(4, 4, 8, 8))


def source_arrays(seed=0):
    """A state dict of fresh values for ``tiny_model``, as a torch checkpoint would hold them."""
    generator = np.random.default_rng(seed)
    state = {}
    for key, value in tiny_model().state_dict().items():
        if key.endswith("num_batches_tracked"):
            state[key] = np.array(5, dtype=np.int64)
        elif key.endswith("running_var"):
            state[key] = generator.uniform(0.5, 1.5, value.shape).astype(np.float32)
        else:
            state[key] = generator.standard_normal(value.shape).astype(np.float32)
    return state


def test_loading_copies_every_value_and_casts_to_the_model_dtype(device):
    state = source_arrays()
    model = tiny_model().double().to(device)
    assert load_torch_state_dict(model, state) is model
    loaded = model.state_dict()
    for key, value in state.items():
        assert np.array_equal(loaded[key], value.astype(loaded[key].dtype)), key
    assert loaded["conv1.weight"].dtype == np.float64
    assert model.conv1.weight.device == minicnn.backend.normalize_device(device)


def test_missing_num_batches_tracked_is_tolerated_and_data_parallel_prefixes_stripped():
    state = {f"module.{key}": value for key, value in source_arrays().items()
             if not key.endswith("num_batches_tracked")}
    model = load_torch_state_dict(tiny_model(), state)
    assert np.array_equal(model.state_dict()["fc.bias"], state["module.fc.bias"])
    assert int(model.state_dict()["bn1.num_batches_tracked"]) == 0


def test_checkpoint_wrapped_under_state_dict_is_unwrapped():
    state = source_arrays()
    model = load_torch_state_dict(tiny_model(), {"state_dict": state, "epoch": 3})
    assert np.array_equal(model.state_dict()["conv1.weight"], state["conv1.weight"])


def test_missing_unexpected_and_mismatched_keys_are_all_named_and_nothing_is_loaded():
    state = source_arrays()
    del state["layer1.0.conv1.weight"]
    state["layer9.weight"] = np.zeros(3, np.float32)
    state["fc.weight"] = np.zeros((5, 8), np.float32)
    model = tiny_model()
    before = model.state_dict()["conv1.weight"].clone()  # state_dict values share the parameters' memory
    with pytest.raises(ValueError) as error:
        load_torch_state_dict(model, state)
    message = str(error.value)
    assert "1 missing key(s): layer1.0.conv1.weight" in message
    assert "1 unexpected key(s): layer9.weight" in message
    assert "fc.weight: model has (3, 8), checkpoint has (5, 8)" in message
    assert np.array_equal(model.state_dict()["conv1.weight"], before)


def test_non_strict_loading_skips_missing_and_unexpected_keys_but_not_shape_errors():
    state = source_arrays()
    del state["fc.bias"]
    state["extra.weight"] = np.ones(2, np.float32)
    model = tiny_model()
    bias_before = model.state_dict()["fc.bias"].clone()
    load_torch_state_dict(model, state, strict=False)
    assert np.array_equal(model.state_dict()["fc.bias"], bias_before)
    assert np.array_equal(model.state_dict()["fc.weight"], state["fc.weight"])
    state["fc.weight"] = np.zeros((4, 8), np.float32)
    with pytest.raises(ValueError, match="shape mismatch"):
        load_torch_state_dict(tiny_model(), state, strict=False)


def test_torch_tensors_are_converted():
    torch = import_torch()
    arrays = source_arrays()
    tensors = {key: torch.tensor(value, requires_grad=value.dtype == np.float32) for key, value in arrays.items()}
    converted = convert_torch_state_dict(tensors)
    assert all(isinstance(value, np.ndarray) for value in converted.values())
    model = load_torch_state_dict(tiny_model(), tensors)
    assert np.array_equal(model.state_dict()["layer4.0.bn2.running_var"], arrays["layer4.0.bn2.running_var"])
