"""Comparing a minicnn zoo model with torchvision's net of the same name (weights copied across)."""
import functools

import numpy as np

import minicnn
from minicnn.models import DenseNet, EfficientNet, ShuffleNetV2, get_model, load_torch_state_dict

from helpers import host, import_torch, rel_error

# name -> (input size of the numeric tests, builder keyword arguments for both libraries)
TORCHVISION_MODELS = {
    "squeezenet1_0": (48, {}),
    "squeezenet1_1": (48, {}),
    # 64: at 32 the last stage sees 1x1 maps, and float32 batch statistics of three values amplify
    # rounding past 1e-4 (so for shufflenet and efficientnet too)
    "densenet121": (64, {}),
    "densenet161": (64, {}),
    "densenet169": (64, {}),
    "densenet201": (64, {}),
    # 139: the last grid is 3x3 (at 75, the minimum, it is 1x1, and at 107 2x2: see the densenets)
    "inception_v3": (139, {"aux_logits": False, "init_weights": True}),
    "mobilenet_v3_small": (64, {}),
    "mobilenet_v3_large": (64, {}),
    "shufflenet_v2_x0_5": (64, {}),
    "shufflenet_v2_x1_0": (64, {}),
    "shufflenet_v2_x1_5": (64, {}),
    "shufflenet_v2_x2_0": (64, {}),
    "efficientnet_b0": (64, {}),
}


def _efficientnet_stages():
    # expand ratio, kernel, stride, input and output channels, layers: the B0 block types, fewer and narrower
    return [(1, 3, 1, 8, 8, 1), (6, 3, 2, 8, 16, 2), (6, 5, 2, 16, 24, 1)]


def _torchvision_efficientnet(torchvision, num_classes):
    from torchvision.models.efficientnet import EfficientNet, MBConvConfig
    stages = [MBConvConfig(*stage, width_mult=1.0, depth_mult=1.0) for stage in _efficientnet_stages()]
    return EfficientNet(stages, dropout=0.2, num_classes=num_classes)


# Each family's architecture, shrunk so its numeric checks fit the default suite (the full-size nets'
# checks are slow tests): name -> (input size, torchvision builder, minicnn builder)
SMALL_VARIANTS = {
    "densenet_k8_2222": (32, lambda tv, n: tv.models.DenseNet(8, (2, 2, 2, 2), 16, num_classes=n),
                         lambda n: DenseNet(8, (2, 2, 2, 2), 16, num_classes=n)),
    # the same weights, recomputing each bottleneck in backward: the same numbers as torch's plain net
    "densenet_k8_2222_memory_efficient": (
        32, lambda tv, n: tv.models.DenseNet(8, (2, 2, 2, 2), 16, num_classes=n),
        lambda n: DenseNet(8, (2, 2, 2, 2), 16, num_classes=n, memory_efficient=True)),
    "shufflenet_v2_211_narrow": (32, lambda tv, n: tv.models.ShuffleNetV2([2, 1, 1], [8, 16, 32, 64, 128], n),
                                 lambda n: ShuffleNetV2([2, 1, 1], [8, 16, 32, 64, 128], n)),
    "mobilenet_v3_small_x0.25": (64, lambda tv, n: tv.models.mobilenet_v3_small(num_classes=n, width_mult=0.25),
                                 lambda n: get_model("mobilenet_v3_small", num_classes=n, width_mult=0.25)),
    "mobilenet_v3_large_x0.25": (64, lambda tv, n: tv.models.mobilenet_v3_large(num_classes=n, width_mult=0.25),
                                 lambda n: get_model("mobilenet_v3_large", num_classes=n, width_mult=0.25)),
    "efficientnet_b0_blocks_narrow": (32, _torchvision_efficientnet,
                                      lambda n: EfficientNet(_efficientnet_stages(), num_classes=n)),
}
# full-size nets small enough for the default suite
FAST_FULL_SIZE = ("squeezenet1_1",)


def torchvision_model(torchvision, name, **kwargs):
    """torchvision's net with random weights and non-trivial BatchNorm statistics and affine parameters."""
    torch = import_torch()
    torch.manual_seed(0)
    if name == "inception_v3":
        kwargs.setdefault("init_weights", True)  # (torchvision warns when it is left unsaid)
    return randomize_batch_norm(torch, torchvision.models.get_model(name, weights=None, **kwargs))


def randomize_batch_norm(torch, model):
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                channels = module.num_features
                module.weight.copy_(1 + 0.2 * torch.randn(channels, generator=generator))
                module.bias.copy_(0.2 * torch.randn(channels, generator=generator))
                module.running_mean.copy_(0.1 * torch.randn(channels, generator=generator))
                module.running_var.copy_(1 + 0.5 * torch.rand(channels, generator=generator))
    return model


def exact_hardsigmoid(torch, model):
    """torch's float64 hardsigmoid backward multiplies by 1/6 rounded to float32; put the exact function
    (relu6(x + 3) / 6, whose autograd slope is the float64 1/6) in its place for float64 gradient checks."""
    for module in model.modules():
        if isinstance(module, torch.nn.Hardsigmoid):
            module.forward = lambda x: torch.nn.functional.relu6(x + 3) / 6


def without_randomness(model, dropout_types):
    """Dropout and stochastic depth draw different random masks in each library: turn them off."""
    for module in model.modules():
        if type(module).__name__ in dropout_types:
            module.p = 0.0
    return model


def build_pair(torchvision, name, num_classes=10):
    """(torchvision model, minicnn model with the same weights), both in train mode."""
    if name in SMALL_VARIANTS:
        _, make_reference, make_model = SMALL_VARIANTS[name]
        torch = import_torch()
        torch.manual_seed(0)
        reference = randomize_batch_norm(torch, make_reference(torchvision, num_classes))
        model = make_model(num_classes)
    else:
        _, kwargs = TORCHVISION_MODELS[name]
        reference = torchvision_model(torchvision, name, num_classes=num_classes, **kwargs)
        model = get_model(name, num_classes=num_classes, **kwargs)
    load_torch_state_dict(model, reference.state_dict())
    without_randomness(reference, ("Dropout", "StochasticDepth"))
    without_randomness(model, ("Dropout", "StochasticDepth"))
    return reference, model


def batch(name, count=3, seed=7):
    """``count`` images and labels: three, so BatchNorm over 1x1 maps late in the net does not flatten
    every value to +-1 as a batch of two would."""
    size = (SMALL_VARIANTS[name] if name in SMALL_VARIANTS else TORCHVISION_MODELS[name])[0]
    generator = np.random.default_rng(seed)
    return generator.standard_normal((count, 3, size, size)), generator.integers(0, 10, count)


def single_threaded_torch(function):
    """Run ``function`` with torch on one thread: its float64 grouped convolutions on several threads that
    compete with minicnn's (and a busy machine's) slow down twentyfold."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        torch = import_torch()
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return function(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)
    return wrapper


@single_threaded_torch
def float64_gradient_errors(torchvision, name, device="cpu", lr=0.05):
    """({parameter or "<input>": relative error of its float64 train-mode gradient}, relative error of the
    train-mode logits after one SGD step on both models)."""
    torch = import_torch()
    reference, model = build_pair(torchvision, name)
    exact_hardsigmoid(torch, reference)
    reference.double().train()
    model.double().to(device).train()
    images, labels = batch(name)
    torch_images = torch.tensor(images, requires_grad=True)
    torch.nn.functional.cross_entropy(reference(torch_images), torch.tensor(labels)).backward()
    x = minicnn.tensor(images, requires_grad=True, device=device)
    minicnn.functional.cross_entropy(model(x), minicnn.tensor(labels, device=device)).backward()
    expected = {key: p.grad.numpy() for key, p in reference.named_parameters()}
    # Some gradients are exactly zero in exact arithmetic -- the bias of a BatchNorm whose output feeds
    # (through a convolution) another train-mode BatchNorm, which removes any per-channel shift -- and both
    # libraries return rounding noise there. Each error is measured against at least 1e-6 of the largest
    # gradient of the net, so noise against noise is not mistaken for a disagreement.
    floor = 1e-6 * max(np.max(np.abs(value)) for value in expected.values())
    errors = {key: rel_error(host(p.grad), expected[key], floor) for key, p in model.named_parameters()}
    errors["<input>"] = rel_error(host(x.grad), torch_images.grad.numpy())
    torch.optim.SGD(reference.parameters(), lr=lr).step()
    minicnn.optim.SGD(model.parameters(), lr=lr).step()
    with torch.no_grad():
        after_step = reference(torch_images).numpy()
    with minicnn.no_grad():
        step_error = rel_error(host(model(x)), after_step)
    return errors, step_error


@single_threaded_torch
def float32_logit_errors(torchvision, name, device="cpu"):
    """Relative float32 logit errors in eval mode and in train mode (batch statistics), and of the
    running statistics the train-mode pass leaves."""
    torch = import_torch()
    reference, model = build_pair(torchvision, name)
    model.to(device)
    images, _ = batch(name)
    torch_images = torch.tensor(images, dtype=torch.float32)
    x = minicnn.tensor(images.astype(np.float32), device=device)
    errors = {}
    for mode in ("eval", "train"):
        reference.train(mode == "train")
        model.train(mode == "train")
        with torch.no_grad():
            expected = reference(torch_images).numpy()
        with minicnn.no_grad():
            errors[mode] = rel_error(host(model(x)), expected)
    state = model.state_dict()
    errors["running_stats"] = max(
        [rel_error(state[key], value.numpy()) for key, value in reference.state_dict().items() if "running" in key],
        default=0.0)
    return errors
