"""Adam's and AdamW's CPU engine (``optim/adam_engines.py``): the array code's bits for every option, over
several steps, small parameters and parameters split across the cores."""
import numpy as np
import pytest

import minicnn
from minicnn.cpu.kernels import optimizer_kernels
from minicnn.optim.adam_engines import ADAM_ENGINES
from helpers import assert_same_optimizer_trajectory

DTYPES = [np.float64, np.float32]
# (optimizer, weight_decay, amsgrad, maximize)
OPTIONS = [(name, decay, amsgrad, maximize) for name in ("Adam", "AdamW") for decay in (0.0, 1e-2)
           for amsgrad in (False, True) for maximize in (False, True)]


@pytest.fixture
def host(device):
    if device != "cpu":
        pytest.skip("the Adam engine serves host arrays")
    if optimizer_kernels.numba is None:
        pytest.skip("needs numba")


def trajectory(shapes, dtype, options, engines_on, steps=5):
    """The parameters and moment buffers after ``steps`` updates with fixed random gradients."""
    name, weight_decay, amsgrad, maximize = options
    rng = np.random.default_rng(0)
    params = [minicnn.nn.Parameter(minicnn.tensor(rng.standard_normal(shape).astype(dtype))) for shape in shapes]
    optimizer = getattr(minicnn.optim, name)(params, lr=0.01, betas=(0.8, 0.95), eps=1e-6,
                                             weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
    with minicnn.engines.engines_enabled(engines_on):
        for _ in range(steps):
            for param in params:
                # gradients of both signs and scales, so amsgrad's maximum changes hands
                param.grad = minicnn.tensor((rng.standard_normal(param.shape) * rng.uniform(0.1, 3)).astype(dtype))
            optimizer.step()
    buffers = [optimizer.state[p].get(key) for p in params for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")]
    return [p.array.copy() for p in params], buffers


# (600, 1000) holds more than parallel.MINIMUM_SPLIT_ELEMENTS, so its update is split across the threads
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "{}-wd{}-ams{}-max{}".format(*o))
def test_engine_gives_the_array_codes_bits(host, dtype, options):
    assert_same_optimizer_trajectory(trajectory, [(5,), (3, 4, 3, 3), (600, 1000)], dtype, options)


def test_engine_takes_host_float_parameters_with_matching_buffers(host):
    param = np.zeros((3, 4), np.float32)
    same = np.ones((3, 4), np.float32)
    with minicnn.engines.engines_enabled(True):  # also under MINICNN_ENGINES=reference
        assert ADAM_ENGINES.choose((same, same, same, None), param).name == "numba-adam"
        assert ADAM_ENGINES.choose((same.astype(np.float64), same, same, None), param) is None
        assert ADAM_ENGINES.choose((np.ones((4, 3), np.float32).T, same, same, None), param) is None
        assert ADAM_ENGINES.choose((same, same, same, np.ones((3, 4), np.float64)), param) is None
