"""Shared fixtures. ``MINICNN_TEST_DEVICE`` (cpu, sim or cuda) picks the device every test runs on."""
import os

import numpy as np
import pytest

import minicnn

TEST_DEVICE = os.environ.get("MINICNN_TEST_DEVICE", "cpu")


@pytest.fixture
def device():
    """The device under test; cuda runs skip when no GPU (or no cupy) is present."""
    if TEST_DEVICE.startswith("cuda"):
        reason = minicnn.backend.cuda_unavailable_reason()
        if reason is not None:
            pytest.skip(reason)
    return TEST_DEVICE


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _seed_everything():
    minicnn.manual_seed(0)
    yield


@pytest.fixture(params=["engines", "reference"])
def engine_path(request):
    """Runs a test twice on the CPU: with the engines (the default) and on the reference algorithms only
    (``minicnn.engines.reference_only``). On other devices the reference run is skipped: there the engines
    that apply (depthwise, few-channels) are checked against the reference in ``test_conv_engines.py``."""
    if request.param == "reference" and TEST_DEVICE != "cpu":
        pytest.skip("the CPU engines do not run on this device")
    with minicnn.engines.engines_enabled(request.param == "engines"):
        yield request.param
