"""The switch between the reference algorithms and the engines: a context manager and MINICNN_ENGINES."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minicnn
from helpers import rel_error
from minicnn.functional.conv.engines import CONV_ENGINES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fresh(script, value):
    env = dict(os.environ, PYTHONPATH=ROOT, MINICNN_ENGINES=value)
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)


def test_environment_variable_picks_the_reference_for_the_process():
    script = "import minicnn; print(minicnn.engines.enabled())"
    assert _fresh(script, "reference").stdout.strip() == "False"
    assert _fresh(script, "default").stdout.strip() == "True"
    refused = _fresh(script, "fast")
    assert refused.returncode != 0 and "MINICNN_ENGINES must be one of" in refused.stderr


@pytest.fixture
def engines_on():
    with minicnn.engines.engines_enabled(True):  # the default, even under MINICNN_ENGINES=reference
        yield


def test_reference_only_is_restored_on_exit_even_after_an_error(engines_on):
    assert minicnn.engines.enabled()
    with pytest.raises(RuntimeError):
        with minicnn.engines.reference_only():
            assert not minicnn.engines.enabled()
            with minicnn.engines.reference_only():  # nested
                pass
            assert not minicnn.engines.enabled()
            raise RuntimeError("inside")
    assert minicnn.engines.enabled()


def test_a_resnet_block_trains_alike_on_both_paths():
    """The whole chain (conv engines, batch norm and pooling kernels, threaded ReLU and additions)
    against the reference algorithms, forward and every gradient."""
    rng = np.random.default_rng(2)
    x_host = rng.standard_normal((4, 16, 12, 12))
    results = []
    for use_engines in (True, False):
        minicnn.manual_seed(0)
        block = minicnn.nn.Sequential(
            # no bias before the BatchNorm: its gradient would be rounding noise around zero
            minicnn.nn.Conv2d(16, 16, 3, padding=1, bias=False), minicnn.nn.BatchNorm2d(16), minicnn.nn.ReLU(),
            minicnn.nn.MaxPool2d(3, 2, 1), minicnn.nn.Conv2d(16, 32, 1), minicnn.nn.Conv2d(32, 32, 3, groups=32))
        block = block.double()
        x = minicnn.tensor(x_host, requires_grad=True)
        with minicnn.engines.engines_enabled(use_engines):
            out = block(x)
            (out * out + out).sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in block.parameters()])
    for with_engines, reference in zip(*results):
        assert rel_error(with_engines, reference) < 1e-10


def test_tables_name_their_engines_in_order_with_a_reason():
    names = [engine.name for engine in CONV_ENGINES]
    assert names == ["depthwise", "direct", "winograd", "chunks-of-images", "few-channels"]
    assert all(engine.why for engine in CONV_ENGINES)
    assert CONV_ENGINES.describe().splitlines()[0].startswith("1. depthwise: ")
    with pytest.raises(KeyError, match="conv2d has no engine 'fft'"):
        CONV_ENGINES["fft"]


def test_conv_choice_follows_the_switch(engines_on):
    x = np.zeros((2, 1, 12, 12), dtype=np.float32)
    from minicnn.functional.conv.geometry import ConvGeometry

    geometry = ConvGeometry(x.shape, (6, 1, 5, 5), (1, 1), (2, 2, 2, 2), (1, 1), 1)
    assert CONV_ENGINES.choose(geometry, x) is not None
    with minicnn.engines.reference_only():
        assert CONV_ENGINES.choose(geometry, x) is None
