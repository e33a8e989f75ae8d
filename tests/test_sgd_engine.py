"""SGD's CPU engine (``optim/sgd_engines.py``): the array code's bits for every option, over several steps,
small parameters and parameters split across the cores; what it does not take goes to the array code."""
import numpy as np
import pytest

import minicnn
from minicnn.cpu.kernels import optimizer_kernels
from minicnn.optim.sgd_engines import SGD_ENGINES
from helpers import assert_same_optimizer_trajectory

DTYPES = [np.float64, np.float32]
# (momentum, dampening, nesterov, weight_decay, maximize): every branch of the update
OPTIONS = [(0.0, 0.0, False, 0.0, False), (0.0, 0.0, False, 5e-4, True), (0.0, 0.0, False, 0.0, True),
           (0.9, 0.0, False, 5e-4, False), (0.9, 0.1, False, 1e-2, True), (0.9, 0.0, True, 5e-4, False),
           (0.8, 0.0, True, 0.0, True)]


@pytest.fixture
def host(device):
    if device != "cpu":
        pytest.skip("the SGD engine serves host arrays")
    if optimizer_kernels.numba is None:
        pytest.skip("needs numba")


def trajectory(shapes, dtype, options, engines_on, steps=4, grad_order="C"):
    """The parameters and momentum buffers after ``steps`` updates with fixed gradients per step."""
    momentum, dampening, nesterov, weight_decay, maximize = options
    rng = np.random.default_rng(0)
    params = [minicnn.nn.Parameter(minicnn.tensor(rng.standard_normal(shape).astype(dtype))) for shape in shapes]
    optimizer = minicnn.optim.SGD(params, lr=0.05, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                  weight_decay=weight_decay, maximize=maximize)
    with minicnn.engines.engines_enabled(engines_on):
        for step in range(steps):
            for param in params:
                grad = np.asarray(rng.standard_normal(param.shape).astype(dtype), order=grad_order)
                param.grad = minicnn.tensor(grad)
            optimizer.step()
    buffers = [optimizer.state[p].get("momentum_buffer") for p in params]
    return [p.array.copy() for p in params], buffers


# (300, 1000) holds more than parallel.MINIMUM_SPLIT_ELEMENTS, so its update is split across the threads
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "m{}-d{}-n{}-wd{}-max{}".format(*o))
def test_engine_gives_the_array_codes_bits(host, dtype, options):
    assert_same_optimizer_trajectory(trajectory, [(7,), (4, 3, 5, 5), (300, 1000)], dtype, options)


def test_engine_takes_host_float_parameters_with_matching_gradients(host):
    param = np.zeros((3, 4), np.float32)
    with minicnn.engines.engines_enabled(True):  # also under MINICNN_ENGINES=reference
        assert SGD_ENGINES.choose((np.ones((3, 4), np.float32), None), param).name == "numba-sgd"
        assert SGD_ENGINES.choose((np.ones((3, 4), np.float64), None), param) is None  # another dtype
        assert SGD_ENGINES.choose((np.ones((4, 3), np.float32).T, None), param) is None  # Fortran order
        assert SGD_ENGINES.choose((np.ones((3, 4), np.float32), np.ones((3, 4), np.float64)), param) is None
        assert SGD_ENGINES.choose((np.ones(3, np.int64), None), np.zeros(3, np.int64)) is None


def test_a_gradient_the_engine_does_not_take_gives_the_same_update(host):
    options = (0.9, 0.0, False, 5e-4, False)
    fortran, _ = trajectory([(30, 20)], np.float64, options, True, grad_order="F")
    plain, _ = trajectory([(30, 20)], np.float64, options, False)
    assert np.array_equal(fortran[0], plain[0])
