"""The simulated GPU enforces CuPy's rules on NumPy: its own array type, no implicit host conversion,
no mixing of host and device arrays, explicit transfers, views that share memory, device random numbers.

These tests exercise the simulated device module itself, so they run the same under every
MINICNN_TEST_DEVICE (they make no Tensors).
"""
import copy
import pickle

import numpy as np
import pytest

import minicnn
import minicnn.simdevice as sim
from minicnn import backend


@pytest.fixture
def a():
    return sim.arange(12, dtype=np.float32).reshape(3, 4)


# -- a distinct type -----------------------------------------------------------------------------

def test_device_arrays_are_their_own_type_recognised_by_the_backend(a):
    assert not isinstance(a, np.ndarray)
    assert isinstance(a, sim.ndarray)
    assert type(a).__module__.startswith("minicnn.simdevice")
    assert backend.device_of(a) == "sim"
    assert backend.get_array_module(a) is sim
    assert sim.get_array_module(a, np.ones(1)) is sim
    assert sim.get_array_module(np.ones(1), 3.0) is np


def test_array_surface_matches_numpy(a):
    host = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert (a.shape, a.dtype, a.ndim, a.size, a.strides, a.itemsize, a.nbytes) == (
        host.shape, host.dtype, host.ndim, host.size, host.strides, host.itemsize, host.nbytes)
    assert a.flags.c_contiguous and not a.flags.f_contiguous
    assert a.T.flags.f_contiguous and not a.T.flags.c_contiguous
    assert len(a) == 3
    rows = list(a)
    assert all(type(row) is sim.ndarray for row in rows)
    np.testing.assert_array_equal(rows[1].get(), host[1])
    np.testing.assert_array_equal(a.sum(axis=0).get(), host.sum(axis=0))
    np.testing.assert_allclose(a.var(axis=1).get(), host.var(axis=1))
    np.testing.assert_array_equal(a.argmax(axis=1).get(), host.argmax(axis=1))
    np.testing.assert_array_equal(a.transpose(1, 0).get(), host.T)
    np.testing.assert_array_equal(a.swapaxes(0, 1).get(), host.T)
    np.testing.assert_array_equal(a.dot(a.T).get(), host @ host.T)
    np.testing.assert_array_equal((a @ a.T).get(), host @ host.T)
    np.testing.assert_array_equal(a.clip(2, 5).get(), host.clip(2, 5))
    np.testing.assert_array_equal(a.cumsum(axis=1).get(), host.cumsum(axis=1))
    assert repr(a) == repr(host)


@pytest.mark.parametrize("operator", ["+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", ">", ">="])
def test_operators_agree_with_numpy_including_reflected_and_in_place(a, operator):
    host = np.arange(12, dtype=np.float32).reshape(3, 4) + 1
    device = a + 1
    other_host = np.full((3, 4), 2.0, dtype=np.float32)
    other = sim.asarray(other_host)
    for left, right, expected in [
        (device, other, eval(f"host {operator} other_host")),
        (device, 3, eval(f"host {operator} 3")),
        (2.5, device, eval(f"2.5 {operator} host")),
    ]:
        result = eval(f"left {operator} right")
        assert type(result) is sim.ndarray
        np.testing.assert_array_equal(result.get(), expected)
    if operator not in ("<", "<=", "==", "!=", ">", ">="):
        expected = host.copy()
        exec(f"expected {operator}= other_host")
        target = device.copy()
        same = target
        exec(f"target {operator}= other")
        assert target is same
        np.testing.assert_array_equal(target.get(), expected)


# -- implicit conversion and mixing raise ----------------------------------------------------------

HOST = np.ones((3, 4), dtype=np.float32)


@pytest.mark.parametrize(
    "make_mistake",
    [
        lambda a: np.asarray(a),
        lambda a: np.array(a),
        lambda a: np.array([a, a]),
        lambda a: np.sum(a),
        lambda a: np.exp(a),
        lambda a: np.concatenate([a, a]),
        lambda a: np.add(HOST, a),
        lambda a: HOST + a,
        lambda a: a + HOST,
        lambda a: a * np.float32(2) - np.ones((), dtype=np.float32),  # a 0-d host array is an array too
        lambda a: a + [1.0, 2.0, 3.0, 4.0],
        lambda a: a.__iadd__(HOST),
        lambda a: HOST.__iadd__(a),
        lambda a: sim.exp(HOST),
        lambda a: sim.maximum(a, HOST),
        lambda a: sim.concatenate([a, HOST]),
        lambda a: sim.where(a > 1, a, HOST),
        lambda a: a.__setitem__(0, HOST[0]),
        lambda a: sim.scatter_add(a, (0,), HOST[0]),
    ],
    ids=lambda f: "",
)
def test_implicit_host_conversion_and_mixing_raise_type_error(a, make_mistake):
    with pytest.raises(TypeError):
        make_mistake(a)


def test_mixing_error_names_both_types(a):
    with pytest.raises(TypeError, match=r"SimArray \(device 'sim'\).*numpy.ndarray \(host 'cpu'\)"):
        a + HOST
    with pytest.raises(TypeError, match=r"numpy.ndarray \(host 'cpu'\).*SimArray \(device 'sim'\)"):
        HOST + a
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(a)


@pytest.mark.parametrize("scalar", [2, 2.5, True, np.float32(2.5), np.int64(2)])
def test_python_and_numpy_scalars_mix_freely(a, scalar):
    result = a * scalar + scalar
    expected = np.arange(12, dtype=np.float32).reshape(3, 4) * scalar + scalar
    assert result.dtype == expected.dtype  # float32 stays float32 with python scalars (NEP 50)
    np.testing.assert_array_equal(result.get(), expected)


def test_functions_cupy_lacks_are_missing_too():
    with pytest.raises(AttributeError, match="CuPy"):
        sim.errstate
    with pytest.raises(AttributeError):
        sim.add.at  # ufunc.at: use backend.scatter_add
    with pytest.raises(AttributeError):
        sim.random.default_rng(0).normal
    with pytest.raises(AttributeError):
        sim.random.default_rng(0).permutation


def test_every_listed_function_resolves():
    from minicnn.simdevice._functions import FUNCTION_NAMES, PASSTHROUGH_NAMES

    for name in sorted(FUNCTION_NAMES | PASSTHROUGH_NAMES):
        getattr(sim, name)  # raises AttributeError when a listed name is missing
    assert sim.float32 is np.float32 and sim.newaxis is None


# -- explicit transfers ----------------------------------------------------------------------------

def test_explicit_transfers_copy_both_ways():
    host = np.arange(6.0).reshape(2, 3)
    device = sim.asarray(host)
    host[0, 0] = 100.0  # the device copy does not see later host writes
    assert device[0, 0].item() == 0.0
    back = device.get()
    assert type(back) is np.ndarray
    back[0, 1] = -1.0  # nor does the device see writes to the host copy
    assert float(device[0, 1]) == 1.0
    np.testing.assert_array_equal(sim.asnumpy(device), np.arange(6.0).reshape(2, 3))
    assert sim.asarray(device) is device
    assert sim.asarray(device, dtype=np.float32).dtype == np.float32
    copied = sim.array(device)
    copied[0, 0] = 5.0
    assert device[0, 0].item() == 0.0
    np.testing.assert_array_equal(backend.to_host(device), sim.asnumpy(device))
    assert backend.to_device(device, "sim") is device
    assert sim.array([sim.asarray(1.0), 2.0]).shape == (2,)


def test_scalar_results_are_zero_dim_device_arrays_and_convert_explicitly(a):
    total = a.sum()
    assert type(total) is sim.ndarray and total.shape == ()
    element = a[1, 2]
    assert type(element) is sim.ndarray and element.shape == ()
    assert element.item() == 6.0 and float(element) == 6.0 and int(element) == 6
    assert bool(a[0, 0] == 0) is True
    assert a[1, 1].tolist() == 5.0
    assert f"{total:.1f}" == "66.0"
    with pytest.raises(ValueError):
        bool(a > 1)  # ambiguous truth value, as numpy and cupy


# -- views share memory ----------------------------------------------------------------------------

def test_slices_reshapes_and_transposes_are_views(a):
    row = a[1]
    row[...] = -1.0
    np.testing.assert_array_equal(a.get()[1], -np.ones(4))
    flat = a.reshape(-1)
    flat[0] = 42.0  # how gradcheck perturbs one element of an input
    assert a[0, 0].item() == 42.0
    a.T[3, 2] = 7.0
    assert a[2, 3].item() == 7.0
    column = a[:, 1:2]
    column += 100.0
    assert a[0, 1].item() == 101.0
    running_mean = sim.zeros(4, dtype=np.float32)
    running_mean *= 0.9
    running_mean += 0.1 * a[0]
    np.testing.assert_allclose(running_mean.get(), 0.1 * a[0].get())
    a[sim.asarray([0, 0, 2]), 0] += 1.0  # fancy in-place: buffered, like numpy (no accumulation)
    assert a[0, 0].item() == 43.0


def test_as_strided_returns_a_view_sharing_memory(a):
    windows = backend.as_strided(a, shape=(3, 3, 2), strides=(a.strides[0], a.strides[1], a.strides[1]))
    assert type(windows) is sim.ndarray
    host = np.arange(12, dtype=np.float32).reshape(3, 4)
    expected = np.lib.stride_tricks.as_strided(host, (3, 3, 2), (host.strides[0], host.strides[1], host.strides[1]))
    np.testing.assert_array_equal(windows.get(), expected)
    a[0, 1] = -9.0
    assert windows[0, 0, 1].item() == -9.0 and windows[0, 1, 0].item() == -9.0
    with pytest.raises(TypeError):
        sim.lib.stride_tricks.as_strided(host, shape=(2,), strides=(4,))


@pytest.mark.parametrize(
    "index",
    [
        (slice(None), None, 1),
        (Ellipsis, 0),
        [2, 0, 0],
        np.array([1, 1, 0]),  # host index arrays are accepted: CuPy copies them to the device
        np.array([True, False, True]),
        (np.array([0, 2]), np.array([3, 1])),
    ],
    ids=["slice-none-int", "ellipsis", "list", "host-int-array", "host-bool-mask", "host-pair"],
)
def test_indexing_matches_numpy(a, index):
    host = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(a[index].get(), host[index])
    if isinstance(index, np.ndarray):
        np.testing.assert_array_equal(a[sim.asarray(index)].get(), host[index])


def test_out_argument_writes_into_the_given_device_array(a):
    out = sim.empty((3, 4), dtype=np.float32)
    result = sim.multiply(a, 2, out=out)
    assert result is out
    np.testing.assert_array_equal(out.get(), 2 * np.arange(12, dtype=np.float32).reshape(3, 4))
    sim.maximum(a, 5, out=a)
    assert a[0, 0].item() == 5.0


# -- scatter-add -----------------------------------------------------------------------------------

def test_scatter_add_accumulates_repeated_indices_like_numpy_add_at():
    rng = np.random.default_rng(0)
    index = rng.integers(0, 5, size=20)
    values = rng.standard_normal((20, 3))
    expected = np.zeros((5, 3))
    np.add.at(expected, index, values)
    target = sim.zeros((5, 3))
    backend.scatter_add(target, sim.asarray(index), sim.asarray(values))
    np.testing.assert_allclose(target.get(), expected)
    pair = sim.zeros((2, 2))
    pair.scatter_add((sim.asarray([0, 0, 1]), sim.asarray([1, 1, 0])), 1.0)
    np.testing.assert_array_equal(pair.get(), [[0.0, 2.0], [1.0, 0.0]])


def test_scatter_add_refuses_dtypes_cuda_cannot_add_atomically():
    with pytest.raises(TypeError, match="int64"):
        sim.scatter_add(sim.zeros(3, dtype=np.int64), sim.asarray([0, 0]), 1)


# -- random numbers --------------------------------------------------------------------------------

def test_device_generator_is_reproducible_and_draws_device_arrays():
    first = sim.random.default_rng(7)
    second = sim.random.default_rng(7)
    for draw in (
        lambda g: g.random((3, 2), dtype=np.float32),
        lambda g: g.standard_normal((4,), dtype=np.float32),
        lambda g: g.uniform(-1.0, 1.0, size=(5,)),
        lambda g: g.integers(0, 10, size=(6,)),
    ):
        x, y = draw(first), draw(second)
        assert type(x) is sim.ndarray
        np.testing.assert_array_equal(x.get(), y.get())
    assert first.random((2,), dtype=np.float32).dtype == np.float32
    assert first.standard_normal().shape == ()
    with pytest.raises(TypeError):
        first.standard_normal(3, dtype=np.int32)


def test_minicnn_seed_makes_the_sim_generator_reproducible():
    minicnn.manual_seed(3)
    first = minicnn.random.generator_for("sim").random((4,)).get()
    minicnn.manual_seed(3)
    second = minicnn.random.generator_for("sim").random((4,)).get()
    np.testing.assert_array_equal(first, second)


def test_device_arrays_pickle_and_copy():
    original = sim.arange(4.0)
    for clone in (pickle.loads(pickle.dumps(original)), copy.deepcopy(original), copy.copy(original)):
        assert type(clone) is sim.ndarray
        clone[0] = 10.0
        assert original[0].item() == 0.0


def test_transfers_between_host_and_device_are_counted():
    sim.transfers.reset()
    device = sim.asarray(np.arange(4.0))
    assert (sim.transfers.host_to_device, sim.transfers.device_to_host) == (1, 0)
    (device * 2 + sim.exp(device)).sum(axis=0)  # device work alone transfers nothing
    sim.asarray(device)
    assert (sim.transfers.host_to_device, sim.transfers.device_to_host) == (1, 0)
    device.get()
    device[0].item()
    float(device[1])
    bool(device[2] > 0)
    sim.asnumpy(device)
    assert sim.transfers.device_to_host == 5
    sim.transfers.reset()
    assert (sim.transfers.host_to_device, sim.transfers.device_to_host) == (0, 0)
