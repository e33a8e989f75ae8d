"""Every layer against its torch.nn twin: forward, input and parameter gradients, buffers, and repr."""
import numpy as np
import pytest

import minicnn
from minicnn import nn
from helpers import host, import_torch, parity_tolerance, rel_error

# (id, constructor taking the library, input shape, training mode). A conv bias right before a batch norm
# would get a gradient of pure rounding noise (the norm removes it), so such convs have no bias.
LAYERS = [
    ("conv", lambda lib: lib.nn.Conv2d(3, 4, 3), (2, 3, 7, 6), True),
    ("conv-strided-grouped", lambda lib: lib.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, bias=False),
     (1, 4, 9, 8), True),
    ("conv-dilated-same", lambda lib: lib.nn.Conv2d(2, 3, 3, padding="same", dilation=2), (2, 2, 7, 7), True),
    ("conv-unbatched", lambda lib: lib.nn.Conv2d(2, 3, 3, padding=1), (2, 5, 5), True),
    ("linear", lambda lib: lib.nn.Linear(5, 3), (4, 5), True),
    ("linear-3d-nobias", lambda lib: lib.nn.Linear(5, 3, bias=False), (2, 4, 5), True),
    ("bn1d", lambda lib: lib.nn.BatchNorm1d(4), (6, 4), True),
    ("bn1d-3d", lambda lib: lib.nn.BatchNorm1d(4, momentum=0.3), (5, 4, 3), True),
    ("bn2d-train", lambda lib: lib.nn.BatchNorm2d(3), (4, 3, 5, 5), True),
    ("bn2d-eval", lambda lib: lib.nn.BatchNorm2d(3), (4, 3, 5, 5), False),
    ("bn2d-cumulative", lambda lib: lib.nn.BatchNorm2d(3, momentum=None), (4, 3, 3, 3), True),
    ("bn2d-no-affine", lambda lib: lib.nn.BatchNorm2d(3, affine=False), (4, 3, 3, 3), True),
    ("bn2d-no-running", lambda lib: lib.nn.BatchNorm2d(3, track_running_stats=False), (4, 3, 3, 3), False),
    ("maxpool", lambda lib: lib.nn.MaxPool2d(2), (2, 3, 6, 7), True),
    ("maxpool-padded-ceil", lambda lib: lib.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 2, 8, 7), True),
    ("avgpool", lambda lib: lib.nn.AvgPool2d(2), (2, 3, 6, 6), True),
    ("avgpool-excl-pad", lambda lib: lib.nn.AvgPool2d(3, 2, 1, count_include_pad=False), (1, 2, 7, 8), True),
    ("adaptive-avg", lambda lib: lib.nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 7, 8), True),
    ("adaptive-avg-global", lambda lib: lib.nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5), True),
    ("adaptive-max", lambda lib: lib.nn.AdaptiveMaxPool2d(3), (2, 2, 7, 7), True),
    ("relu", lambda lib: lib.nn.ReLU(), (3, 4, 5), True),
    ("relu6", lambda lib: lib.nn.ReLU6(), (3, 4, 5), True),
    ("leaky-relu", lambda lib: lib.nn.LeakyReLU(0.2), (3, 4, 5), True),
    ("sigmoid", lambda lib: lib.nn.Sigmoid(), (3, 4, 5), True),
    ("tanh", lambda lib: lib.nn.Tanh(), (3, 4, 5), True),
    ("softmax", lambda lib: lib.nn.Softmax(dim=1), (3, 4, 5), True),
    ("log-softmax", lambda lib: lib.nn.LogSoftmax(dim=-1), (3, 4, 5), True),
    ("flatten", lambda lib: lib.nn.Flatten(), (2, 3, 4, 5), True),
    ("flatten-middle", lambda lib: lib.nn.Flatten(1, 2), (2, 3, 4, 5), True),
    ("identity", lambda lib: lib.nn.Identity(), (2, 3), True),
    ("dropout-eval", lambda lib: lib.nn.Dropout(0.5), (4, 5), False),
    ("dropout-p0", lambda lib: lib.nn.Dropout(0.0), (4, 5), True),
    ("sequential", lambda lib: lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3, bias=False), lib.nn.BatchNorm2d(3),
                                                   lib.nn.ReLU(), lib.nn.MaxPool2d(2), lib.nn.Flatten(),
                                                   lib.nn.Linear(12, 4)),
     (3, 2, 6, 6), True),
]


def twin_layers(torch, make, device, dtype):
    """The torch layer and ours, holding the same parameters and buffers, in ``dtype``."""
    theirs = make(torch).to(getattr(torch, np.dtype(dtype).name))
    ours = make(minicnn).to(dtype)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours.to(device)


def compare_forward_backward(torch, theirs, ours, shape, device, dtype, steps=2, seed=0):
    """Run both layers ``steps`` times; return the worst relative error over outputs, gradients and buffers."""
    generator = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(steps):
        x = generator.standard_normal(shape).astype(dtype)
        ours_x = minicnn.tensor(x, requires_grad=True, device=device)
        theirs_x = torch.tensor(x, requires_grad=True)
        ours_out, theirs_out = ours(ours_x), theirs(theirs_x)
        upstream = generator.standard_normal(tuple(theirs_out.shape)).astype(dtype)
        ours_out.backward(minicnn.tensor(upstream, device=device))
        theirs_out.backward(torch.tensor(upstream))
        assert ours_out.shape == tuple(theirs_out.shape) and ours_out.dtype == dtype
        worst = max(worst, rel_error(host(ours_out), theirs_out.detach().numpy()))
        worst = max(worst, rel_error(host(ours_x.grad), theirs_x.grad.numpy()))
        for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert mine.grad is not None, name
            worst = max(worst, rel_error(host(mine.grad), reference.grad.numpy()))
        ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
        assert list(ours_state) == list(theirs_state)
        for key, value in theirs_state.items():
            worst = max(worst, rel_error(ours_state[key], value.numpy()))
    return worst


@pytest.mark.parametrize("name,make,shape,training", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_layer_matches_torch_float64(device, name, make, shape, training):
    torch = import_torch()
    theirs, ours = twin_layers(torch, make, device, np.float64)
    theirs.train(training)
    ours.train(training)
    assert compare_forward_backward(torch, theirs, ours, shape, device, np.float64) < parity_tolerance(np.float64)


@pytest.mark.parametrize("name", ["conv", "bn2d-train", "linear", "sequential"])
def test_layer_matches_torch_float32(device, name):
    torch = import_torch()
    _, make, shape, training = next(layer for layer in LAYERS if layer[0] == name)
    theirs, ours = twin_layers(torch, make, device, np.float32)
    theirs.train(training)
    ours.train(training)
    assert compare_forward_backward(torch, theirs, ours, shape, device, np.float32) < parity_tolerance(np.float32)


LOSSES = [
    ("cross-entropy", lambda lib: lib.nn.CrossEntropyLoss(), "classes"),
    ("cross-entropy-sum", lambda lib: lib.nn.CrossEntropyLoss(reduction="sum"), "classes"),
    ("nll", lambda lib: lib.nn.NLLLoss(), "classes"),
    ("nll-none", lambda lib: lib.nn.NLLLoss(reduction="none"), "classes"),
    ("mse", lambda lib: lib.nn.MSELoss(), "values"),
    ("mse-sum", lambda lib: lib.nn.MSELoss(reduction="sum"), "values"),
]


@pytest.mark.parametrize("name,make,target_kind", LOSSES, ids=[loss[0] for loss in LOSSES])
def test_loss_layer_matches_torch(device, name, make, target_kind):
    torch = import_torch()
    generator = np.random.default_rng(1)
    logits = generator.standard_normal((6, 5))
    if target_kind == "classes":
        target = generator.integers(0, 5, size=6)
    else:
        target = generator.standard_normal((6, 5))
    ours_x = minicnn.tensor(logits, requires_grad=True, device=device)
    theirs_x = torch.tensor(logits, requires_grad=True)
    ours_loss = make(minicnn)(ours_x, minicnn.tensor(target, device=device))
    theirs_loss = make(torch)(theirs_x, torch.tensor(target))
    upstream = generator.standard_normal(tuple(theirs_loss.shape))
    ours_loss.backward(minicnn.tensor(upstream, device=device))
    theirs_loss.backward(torch.tensor(upstream))
    assert rel_error(host(ours_loss), theirs_loss.detach().numpy()) < 1e-10
    assert rel_error(host(ours_x.grad), theirs_x.grad.numpy()) < 1e-10


def test_cross_entropy_class_weights_are_a_buffer(device):
    torch = import_torch()
    weight = np.array([1.0, 2.0, 0.5])
    logits = np.random.default_rng(2).standard_normal((4, 3))
    target = np.array([0, 1, 2, 1])
    loss = nn.CrossEntropyLoss(weight=minicnn.tensor(weight)).to(device)
    assert list(loss.state_dict()) == ["weight"]
    ours = loss(minicnn.tensor(logits, device=device), minicnn.tensor(target, device=device))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(weight))(torch.tensor(logits), torch.tensor(target))
    assert rel_error(host(ours), theirs.numpy()) < 1e-10


REPRS = [
    lambda lib: lib.nn.Conv2d(3, 16, 5),
    lambda lib: lib.nn.Conv2d(3, 16, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=1, bias=False),
    lambda lib: lib.nn.Conv2d(8, 8, 3, padding="same", groups=8),
    lambda lib: lib.nn.Linear(800, 120),
    lambda lib: lib.nn.Linear(3, 2, bias=False),
    lambda lib: lib.nn.BatchNorm1d(10),
    lambda lib: lib.nn.BatchNorm2d(16, eps=1e-3, momentum=None, affine=False, track_running_stats=False),
    lambda lib: lib.nn.BatchNorm2d(16, bias=False),
    lambda lib: lib.nn.MaxPool2d(2),
    lambda lib: lib.nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=2, ceil_mode=True),
    lambda lib: lib.nn.AvgPool2d(3, stride=2, padding=1),
    lambda lib: lib.nn.AdaptiveAvgPool2d((1, 1)),
    lambda lib: lib.nn.AdaptiveMaxPool2d(7),
    lambda lib: lib.nn.ReLU(),
    lambda lib: lib.nn.ReLU(inplace=True),
    lambda lib: lib.nn.ReLU6(inplace=True),
    lambda lib: lib.nn.LeakyReLU(),
    lambda lib: lib.nn.LeakyReLU(0.2, inplace=True),
    lambda lib: lib.nn.Sigmoid(),
    lambda lib: lib.nn.Tanh(),
    lambda lib: lib.nn.Dropout(),
    lambda lib: lib.nn.Dropout(0.1, inplace=True),
    lambda lib: lib.nn.Flatten(),
    lambda lib: lib.nn.Flatten(0, 2),
    lambda lib: lib.nn.Identity(),
    lambda lib: lib.nn.Softmax(dim=1),
    lambda lib: lib.nn.LogSoftmax(dim=-1),
    lambda lib: lib.nn.CrossEntropyLoss(),
    lambda lib: lib.nn.NLLLoss(),
    lambda lib: lib.nn.MSELoss(),
]


@pytest.mark.parametrize("make", REPRS, ids=range(len(REPRS)))
def test_repr_matches_torch(make):
    torch = import_torch()
    assert repr(make(minicnn)) == repr(make(torch))


@pytest.mark.parametrize("layer,shape,message", [
    (nn.Conv2d(3, 16, 5), (8, 1, 28, 28),
     "Conv2d(3, 16, kernel_size=(5, 5), stride=(1, 1)): expected input with 3 channels, got shape (8, 1, 28, 28)"),
    (nn.Conv2d(3, 16, 5), (28, 28), "Conv2d(3, 16, kernel_size=(5, 5), stride=(1, 1)): expected 3D or 4D input"),
    (nn.Linear(800, 120), (8, 400), "Linear(in_features=800, out_features=120, bias=True): expected input with 800"),
    (nn.BatchNorm2d(16), (8, 16), "BatchNorm2d(16, .*): expected 4D input, got 2D input of shape (8, 16)"),
    (nn.BatchNorm2d(16), (8, 3, 4, 4), "BatchNorm2d(16, .*): expected input with 16 channels, got shape (8, 3, 4, 4)"),
    (nn.BatchNorm1d(4), (8, 3), "BatchNorm1d(4, .*): expected input with 4 channels"),
    (nn.MaxPool2d(2), (4, 4), "MaxPool2d(kernel_size=2, .*): expected 3D or 4D input"),
    (nn.AdaptiveAvgPool2d(1), (2, 3, 4, 4, 4), "AdaptiveAvgPool2d(output_size=1): expected 3D or 4D input"),
])
def test_layers_name_themselves_in_shape_errors(device, layer, shape, message):
    import re

    layer.to(device)
    with pytest.raises(ValueError, match=re.escape(message).replace(r"\.\*", ".*")):
        layer(minicnn.zeros(shape, device=device))


def test_dropout_masks_and_scales_while_training(device):
    layer = nn.Dropout(0.25)
    x = minicnn.ones(200, 100, device=device)
    out = host(layer(x))
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.25) < 0.02
    np.testing.assert_allclose(out[out != 0], 1 / 0.75, rtol=1e-6)
    layer.eval()
    np.testing.assert_array_equal(host(layer(x)), host(x))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_is_reproducible_with_manual_seed(device):
    x = minicnn.ones(50, 40, device=device)
    minicnn.manual_seed(5)
    first = host(nn.Dropout(0.5)(x))
    minicnn.manual_seed(5)
    second = host(nn.Dropout(0.5)(x))
    np.testing.assert_array_equal(first, second)


def test_batchnorm_counts_batches_only_while_training(device):
    bn = nn.BatchNorm2d(2).to(device)
    x = minicnn.randn(3, 2, 4, 4, device=device)
    bn(x)
    bn(x)
    bn.eval()
    bn(x)
    assert int(bn.state_dict()["num_batches_tracked"]) == 2
