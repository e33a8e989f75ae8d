"""nn.init and the layers' default initialization: same distributions as PyTorch, reproducible by seed."""
import math

import numpy as np
import pytest

import minicnn
from minicnn import nn
from helpers import host, import_torch


def ks_statistic(a, b) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    a, b = np.sort(np.ravel(a)), np.sort(np.ravel(b))
    points = np.concatenate([a, b])
    gap = np.searchsorted(a, points, side="right") / a.size - np.searchsorted(b, points, side="right") / b.size
    return float(np.max(np.abs(gap)))


def ks_critical(n: int, m: int, alpha: float = 1e-4) -> float:
    """The statistic above which two samples of one distribution fall with probability alpha."""
    return math.sqrt(-0.5 * math.log(alpha / 2)) * math.sqrt((n + m) / (n * m))


def assert_same_distribution(ours, theirs):
    ours, theirs = np.ravel(ours), np.ravel(theirs)
    assert ks_statistic(ours, theirs) < ks_critical(ours.size, theirs.size)
    # float() throughout: pytest >= 9 refuses NumPy scalars as tolerances.
    assert float(ours.mean()) == pytest.approx(float(theirs.mean()), abs=4 * float(theirs.std()) / math.sqrt(theirs.size) + 1e-12)
    # The sample variance's relative spread is about sqrt(2 / n) (less for uniform samples).
    assert float(ours.var()) == pytest.approx(float(theirs.var()), rel=0.02 + 5 * math.sqrt(2 / theirs.size))


def test_ks_check_can_fail():
    generator = np.random.default_rng(0)
    uniform = generator.uniform(-1, 1, 20000)
    assert ks_statistic(uniform, generator.uniform(-1, 1, 20000)) < ks_critical(20000, 20000)
    assert ks_statistic(uniform, generator.uniform(-1.1, 1.1, 20000)) > ks_critical(20000, 20000)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Conv2d(64, 96, 3),
    lambda lib: lib.nn.Conv2d(16, 256, 5, groups=4),
    lambda lib: lib.nn.Linear(512, 200),
], ids=["conv", "grouped-conv", "linear"])
def test_default_weight_and_bias_distributions_match_torch(make):
    torch = import_torch()
    torch.manual_seed(0)
    ours, theirs = make(minicnn), make(torch)
    fan_in = theirs.weight[0].numel()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for name in ("weight", "bias"):
        mine = host(getattr(ours, name))
        reference = getattr(theirs, name).detach().numpy()
        assert mine.shape == reference.shape and mine.dtype == np.float32
        assert np.abs(mine).max() <= bound and np.abs(mine).max() > 0.9 * bound
        assert_same_distribution(mine, reference)


def test_batchnorm_starts_as_identity_like_torch():
    torch = import_torch()
    ours, theirs = nn.BatchNorm2d(7), torch.nn.BatchNorm2d(7)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key], value.numpy())


def test_manual_seed_reproduces_initialization():
    minicnn.manual_seed(3)
    first = nn.Conv2d(3, 8, 3).state_dict()
    minicnn.manual_seed(3)
    second = nn.Conv2d(3, 8, 3).state_dict()
    third = nn.Conv2d(3, 8, 3).state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
        assert not np.array_equal(first[key], third[key])


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None),
])
def test_calculate_gain_matches_torch(nonlinearity, param):
    torch = import_torch()
    assert nn.init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_rejects_unknown_names():
    with pytest.raises(ValueError, match="swish"):
        nn.init.calculate_gain("swish")


def _torch_init(torch, name, shape, kwargs):
    torch.manual_seed(0)
    tensor = torch.empty(shape, dtype=torch.float64)
    getattr(torch.nn.init, name)(tensor, **kwargs)
    return tensor.numpy()


@pytest.mark.parametrize("name,kwargs", [
    ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": 0.1, "mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("xavier_uniform_", {"gain": 2.0}),
    ("xavier_normal_", {}),
    ("uniform_", {"a": -0.3, "b": 0.7}),
    ("normal_", {"mean": 1.0, "std": 0.5}),
    ("trunc_normal_", {"std": 1.0, "a": -1.5, "b": 1.0}),
])
def test_initializers_draw_torch_distributions_in_place(device, name, kwargs):
    torch = import_torch()
    shape = (64, 32, 3, 3)
    tensor = minicnn.zeros(shape, dtype=minicnn.float64, device=device)
    data_before = tensor.array
    assert getattr(nn.init, name)(tensor, **kwargs) is tensor
    assert tensor.array is data_before and tensor.device == device
    assert_same_distribution(host(tensor), _torch_init(torch, name, shape, kwargs))


def test_constant_initializers(device):
    tensor = minicnn.empty(3, 4, device=device)
    np.testing.assert_array_equal(host(nn.init.ones_(tensor)), np.ones((3, 4)))
    np.testing.assert_array_equal(host(nn.init.zeros_(tensor)), np.zeros((3, 4)))
    np.testing.assert_array_equal(host(nn.init.constant_(tensor, 2.5)), np.full((3, 4), 2.5))


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.kaiming_uniform_(minicnn.zeros(5))
    with pytest.raises(ValueError, match="fan_sideways"):
        nn.init.kaiming_normal_(minicnn.zeros(5, 5), mode="fan_sideways")


def test_layers_built_on_a_device_and_dtype():
    layer = nn.Linear(3, 4, dtype=minicnn.float64)
    assert layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64
