"""Every conv2d engine against the reference im2col + GEMM, forward and every gradient, on shapes it accepts."""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from helpers import host, rel_error
from minicnn.cpu import parallel
from minicnn.functional.conv.engines import CONV_ENGINES, split
from minicnn.functional.conv.geometry import ConvGeometry

# name: (N, C, H, W, O, kernel, stride, padding, dilation, groups, bias)
CASES = {
    "lenet_first_layer": (3, 1, 12, 12, 6, (5, 5), (1, 1), 2, (1, 1), 1, True),
    "stem_stride2": (2, 3, 11, 11, 8, (3, 3), (2, 2), 1, (1, 1), 1, True),
    "winograd_odd_sides": (2, 16, 7, 6, 8, (3, 3), (1, 1), 1, (1, 1), 1, False),
    "grouped_dilated": (2, 8, 9, 8, 6, (3, 2), (1, 2), 2, (2, 1), 2, True),
    "depthwise_multiplier2": (2, 6, 9, 9, 12, (3, 3), (2, 2), 1, (1, 1), 6, True),
    "pointwise": (2, 32, 5, 5, 16, (1, 1), (1, 1), 0, (1, 1), 1, True),
    "wide_5x5": (2, 16, 8, 8, 32, (5, 5), (1, 1), 2, (1, 1), 1, False),
}
ENGINE_NAMES = [engine.name for engine in CONV_ENGINES]


@pytest.fixture
def small_shapes_split(monkeypatch):
    """The chunked engines take these small shapes too, on 2 threads: their thresholds are for speed."""
    monkeypatch.setattr(split, "MINIMUM_FLOPS", 0)
    monkeypatch.setattr(parallel, "workers", lambda: 2)


def case_arrays(case, dtype, device):
    n, c, h, w, o, kernel, stride, padding, dilation, groups, bias = case
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c // groups) + kernel)]
    if bias:
        arrays.append(rng.standard_normal(o))
    tensors = [minicnn.tensor(a.astype(dtype), device=device) for a in arrays]
    geometry = ConvGeometry((n, c, h, w), (o, c // groups) + kernel, stride, (padding,) * 4, dilation, groups)
    return tensors, geometry


def reference_results(tensors, geometry, upstream):
    """Forward and (dX, dW, db) of the reference path, through the public conv2d."""
    leaves = [t.detach().requires_grad_() for t in tensors]
    with minicnn.engines.reference_only():
        out = F.conv2d(*leaves, stride=geometry.stride, padding=geometry.padding[::2], dilation=geometry.dilation,
                       groups=geometry.groups)
        out.backward(upstream)
    return [host(out)] + [host(leaf.grad) for leaf in leaves]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_engine_matches_reference(device, small_shapes_split, name, case, dtype):
    engine = CONV_ENGINES[name]
    tensors, geometry = case_arrays(case, dtype, device)
    x, weight = tensors[0].array, tensors[1].array
    bias = tensors[2].array if len(tensors) == 3 else None
    if not engine.applies(geometry, x):
        pytest.skip(f"{name} does not take this case on {device}")
    out, saved = engine.forward(x, weight, bias, geometry)
    upstream = minicnn.tensor(np.cos(np.arange(out.size)).reshape(out.shape).astype(dtype), device=device)
    grads = engine.backward(saved, upstream.array, (True, True, bias is not None))
    expected = reference_results(tensors, geometry, upstream)
    got = [host(out)] + [host(g) for g in grads[:len(tensors)]]
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    for what, ours, theirs in zip(["Y", "dX", "dW", "db"], got, expected):
        assert ours.shape == theirs.shape and ours.dtype == dtype, what
        assert rel_error(ours, theirs) < tolerance, what


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_every_engine_takes_some_case(small_shapes_split, name):
    """The test above must not skip an engine everywhere (it would then prove nothing about it)."""
    engine = CONV_ENGINES[name]
    if name != "depthwise" and name != "few-channels" and minicnn.cpu.kernels.conv_kernels.numba is None:
        pytest.skip("the CPU engines need numba")
    taken = [label for label, case in CASES.items() if engine.applies(case_arrays(case, np.float32, "cpu")[1],
                                                                      case_arrays(case, np.float32, "cpu")[0][0].array)]
    assert taken, f"{name} applies to none of {list(CASES)}"


@pytest.mark.parametrize("wanted", [(True, False, False), (False, True, False), (False, False, True)],
                         ids=["input", "weight", "bias"])
@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_engine_computes_only_the_wanted_gradients(small_shapes_split, name, wanted):
    engine = CONV_ENGINES[name]
    for case in CASES.values():
        tensors, geometry = case_arrays(case, np.float64, "cpu")
        if len(tensors) == 3 and engine.applies(geometry, tensors[0].array):
            break
    else:
        pytest.skip(f"{name} takes no case with a bias here")
    x, weight, bias = (t.array for t in tensors)
    out, saved = engine.forward(x, weight, bias, geometry)
    grads = engine.backward(saved, np.ones_like(out), wanted)
    assert [g is not None for g in grads] == list(wanted)


def test_reference_only_runs_no_engine(monkeypatch):
    chosen = []
    choose = CONV_ENGINES.choose
    monkeypatch.setattr(CONV_ENGINES, "choose", lambda *args: chosen.append(choose(*args)) or chosen[-1])
    x = minicnn.randn(2, 1, 12, 12, requires_grad=True)
    weight = minicnn.randn(6, 1, 5, 5, requires_grad=True)
    with minicnn.engines.engines_enabled(True):
        F.conv2d(x, weight, padding=2).sum().backward()
    with minicnn.engines.reference_only():
        F.conv2d(x, weight, padding=2).sum().backward()
    assert chosen[-1] is None
    if minicnn.cpu.kernels.direct_conv_kernels.numba is not None:
        assert chosen[0] is CONV_ENGINES["direct"]
