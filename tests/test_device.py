"""Moving tensors and modules between devices, gradients across a move, and the errors that say why a
device cannot be used or why two tensors cannot meet.

The device under test comes from the ``device`` fixture; its partner is the host ("cpu"), or the
simulated GPU when the device under test is the host, so every run moves data across a real boundary.
"""
import types

import numpy as np
import pytest

import minicnn
from minicnn import backend, nn

from helpers import host


@pytest.fixture
def other(device):
    """A device different from the one under test."""
    return "sim" if device == "cpu" else "cpu"


def _array_type(device):
    return type(backend.array_module_for(device).zeros(1))


# -- moving tensors --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_to_moves_values_and_keeps_dtype(device, other, dtype):
    values = (np.arange(12).reshape(3, 4) % 5).astype(dtype)
    start = minicnn.tensor(values, device=other)
    moved = start.to(device)
    assert moved.device == device and type(moved.array) is _array_type(device)
    assert moved.dtype == dtype and moved.shape == (3, 4)
    np.testing.assert_array_equal(host(moved), values)
    assert moved.to(device) is moved  # already there: no copy
    back = moved.to(other)
    assert back.device == other
    np.testing.assert_array_equal(host(back), values)
    assert moved.cpu().device == "cpu"


def test_to_device_and_dtype_at_once(device, other):
    start = minicnn.tensor([[1.5, -2.0]], device=other)
    moved = start.to(device, minicnn.float64)
    assert moved.device == device and moved.dtype == np.float64
    assert start.to(minicnn.float64).device == other


def test_a_move_is_a_copy(device, other):
    start = minicnn.tensor([1.0, 2.0, 3.0], device=other)
    moved = start.to(device)
    moved.array[0] = 10.0
    assert host(start)[0] == 1.0


def test_backward_crosses_a_device_boundary(device, other):
    x = minicnn.tensor([[1.0, -2.0, 3.0]], requires_grad=True, device=other)
    w = minicnn.tensor([[0.5, 4.0, -1.0]], requires_grad=True, device=device)
    loss = (x.to(device) * w).sum() + (x * x).sum().to(device)
    loss.backward()
    assert x.grad.device == other and w.grad.device == device
    np.testing.assert_allclose(host(x.grad), [[0.5 + 2.0, 4.0 - 4.0, -1.0 + 6.0]])
    np.testing.assert_allclose(host(w.grad), [[1.0, -2.0, 3.0]])
    # and back again: a loss computed on the partner device reaches a leaf on the device under test
    w.grad = None
    (w.to(other) ** 2).sum().backward()
    assert w.grad.device == device
    np.testing.assert_allclose(host(w.grad), [[1.0, 8.0, -2.0]])


@pytest.mark.parametrize(
    "make",
    [
        lambda d: minicnn.zeros(2, 3, device=d),
        lambda d: minicnn.ones((2, 3), device=d),
        lambda d: minicnn.full((2, 3), 1.5, device=d),
        lambda d: minicnn.empty(2, 3, device=d),
        lambda d: minicnn.arange(6, device=d),
        lambda d: minicnn.randn(2, 3, device=d),
        lambda d: minicnn.rand(2, 3, device=d),
        lambda d: minicnn.randint(0, 5, size=(2, 3), device=d),
        lambda d: minicnn.tensor([[1.0, 2.0]], device=d),
        lambda d: minicnn.zeros_like(minicnn.ones(2, device=d)),
        lambda d: minicnn.ones_like(minicnn.ones(2, device=d)),
    ],
    ids=["zeros", "ones", "full", "empty", "arange", "randn", "rand", "randint", "tensor", "zeros_like", "ones_like"],
)
def test_creation_functions_make_tensors_on_the_requested_device(device, make):
    made = make(device)
    assert made.device == device and type(made.array) is _array_type(device)


def test_random_tensors_are_the_same_on_every_device(device, other):
    minicnn.manual_seed(5)
    here = minicnn.randn(4, 3, device=device)
    minicnn.manual_seed(5)
    there = minicnn.randn(4, 3, device=other)
    np.testing.assert_array_equal(host(here), host(there))


# -- mixing devices --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a**b,
        lambda a, b: a @ b,
        lambda a, b: a < b,
        lambda a, b: a == b,
        lambda a, b: minicnn.cat([a, b]),
        lambda a, b: minicnn.where(a > 0, a, b),
    ],
    ids=["add", "sub", "mul", "div", "pow", "matmul", "less", "equal", "cat", "where"],
)
@pytest.mark.parametrize("order", ["cpu-first", "sim-first"])
def test_mixing_devices_in_one_op_raises_naming_both(combine, order):
    cpu = minicnn.tensor([1.0, 2.0, 3.0])
    gpu = minicnn.tensor([4.0, 5.0, 6.0], device="sim")
    first, second = (cpu, gpu) if order == "cpu-first" else (gpu, cpu)
    with pytest.raises(RuntimeError, match=r"(cpu and sim|sim and cpu)"):
        combine(first, second)


@pytest.mark.parametrize(
    "combine",
    [lambda t: t + 1, lambda t: 2 * t, lambda t: t - 0.5, lambda t: 1 - t, lambda t: t / 4, lambda t: 3 / t,
     lambda t: t**2, lambda t: 2.0**t, lambda t: t > 1.5, lambda t: minicnn.where(t > 1.5, t, 0.0)],
)
def test_python_scalars_mix_with_tensors_on_any_device(device, combine):
    values = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    result = combine(minicnn.tensor(values, device=device))
    assert result.device == device
    expected = combine(minicnn.tensor(values))
    np.testing.assert_allclose(host(result), host(expected))
    if result.dtype.kind == "f":
        assert result.dtype == np.float32  # python scalars do not promote float32 tensors


# -- modules ---------------------------------------------------------------------------------------

def _small_net():
    # no conv bias before BatchNorm: its gradient is zero up to rounding, and Adam's first step turns
    # rounding noise into a full +-lr step whose sign differs between devices
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(12, 4),
    )


def test_module_to_moves_parameters_buffers_and_grads_in_place(device, other):
    minicnn.manual_seed(0)
    model = _small_net().to(other)
    params = list(model.parameters())
    x = minicnn.randn(2, 2, 4, 4, device=other)
    model(x).sum().backward()
    assert model.to(device) is model
    assert list(model.parameters()) == params  # same Parameter objects: optimizers built earlier still work
    for name, tensor in model.state_dict(keep_vars=True).items():
        assert tensor.device == device, name
    assert all(p.grad.device == device for p in params)
    model.zero_grad()
    out = model(x.to(device))
    out.sum().backward()
    assert out.device == device and all(p.grad.device == device for p in params)
    assert all(isinstance(v, minicnn.Tensor) and v.device == device for v in model.state_dict().values())


def test_training_on_any_device_matches_the_host(device):
    """Same initial weights, same data, a few SGD-with-momentum and Adam steps: same weights after."""
    results = []
    for where in ("cpu", device):
        minicnn.manual_seed(1)
        model = _small_net().to(where)
        minicnn.manual_seed(2)
        x = minicnn.randn(4, 2, 4, 4, device=where)
        target = minicnn.tensor([0, 1, 2, 3], device=where)
        sgd = minicnn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        adam = minicnn.optim.Adam(model.parameters(), lr=0.01)
        for optimizer in (sgd, sgd, adam, adam):
            optimizer.zero_grad()
            minicnn.functional.cross_entropy(model(x), target).backward()
            optimizer.step()
        results.append({k: v for k, v in model.state_dict().items()})
    # the simulated GPU computes with NumPy (array code instead of the CPU's kernels); a real GPU's
    # float32 reductions sum in another order, so its weights agree less closely
    rtol, atol = (1e-5, 1e-6) if device in ("cpu", "sim") else (1e-4, 1e-5)
    for name in results[0]:
        np.testing.assert_allclose(results[1][name], results[0][name], rtol=rtol, atol=atol, err_msg=name)


def test_checkpoint_saved_on_one_device_loads_on_the_other(device, other, tmp_path):
    minicnn.manual_seed(0)
    source = _small_net().to(device)
    source(minicnn.randn(2, 2, 4, 4, device=device))  # updates BatchNorm's running statistics
    path = tmp_path / "model.npz"
    minicnn.save(source.state_dict(), path)
    for target_device in (other, device):
        minicnn.manual_seed(9)
        target = _small_net().to(target_device)
        target.load_state_dict(minicnn.load(path))
        for name, tensor in target.state_dict(keep_vars=True).items():
            assert tensor.device == target_device, name
            np.testing.assert_array_equal(host(tensor), source.state_dict()[name], err_msg=name)
    loaded = minicnn.load(path, map_location=device)
    weight = next(iter(loaded.values()))
    assert backend.device_of(weight.array if hasattr(weight, "requires_grad") else weight) == device


# -- device names and the errors of an unusable GPU -----------------------------------------------

@pytest.mark.parametrize("name, canonical", [("cpu", "cpu"), ("sim", "sim"), ("cuda", "cuda"), ("cuda:0", "cuda"),
                                             ("cuda:1", "cuda:1"), (None, "cpu")])
def test_device_names_are_normalized(name, canonical):
    assert backend.normalize_device(name) == canonical


@pytest.mark.parametrize("name", ["gpu", "cuda:", "cuda:x", "tpu", "CPU"])
def test_unknown_device_names_are_refused(name):
    with pytest.raises(ValueError, match="expected 'cpu', 'cuda', 'cuda:N' or 'sim'"):
        backend.normalize_device(name)
    with pytest.raises(ValueError):
        minicnn.zeros(2, device=name)


def _fake_cupy(device_count):
    def get_device_count():
        if isinstance(device_count, Exception):
            raise device_count
        return device_count

    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count)))


CUPY_MISSING = ("missing", None, ModuleNotFoundError("No module named 'cupy'"))
NO_GPU = ("no-gpu", _fake_cupy(0), None)
DRIVER_ERROR = ("driver-error", _fake_cupy(RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")), None)


@pytest.fixture(params=[CUPY_MISSING, NO_GPU, DRIVER_ERROR], ids=lambda p: p[0])
def unusable_cuda(request, monkeypatch):
    """Make this machine look like one where cuda cannot be used, in each of the ways it can fail."""
    case, cupy, error = request.param
    monkeypatch.setattr(backend, "_cupy", cupy)
    monkeypatch.setattr(backend, "_cupy_import_error", error)
    return case


def test_unavailable_cuda_explains_what_is_missing(unusable_cuda):
    reason = backend.cuda_unavailable_reason()
    assert not minicnn.cuda.is_available()
    assert minicnn.cuda.unavailable_reason() == reason
    assert minicnn.cuda.device_count() == 0
    minicnn.cuda.synchronize()  # nothing to wait for: a no-op, not an error
    if unusable_cuda == "missing":
        assert "CuPy" in reason and "not installed" in reason
        assert "pip install cupy-cuda12x" in reason and "pip install cupy-cuda13x" in reason
        assert "No module named 'cupy'" in reason
    else:
        assert "needs an NVIDIA GPU" in reason and "found none" in reason
    if unusable_cuda == "driver-error":
        assert "cudaErrorNoDevice" in reason


@pytest.mark.parametrize(
    "use_cuda",
    [
        lambda: minicnn.tensor([1.0]).to("cuda"),
        lambda: minicnn.tensor([1.0]).cuda(),
        lambda: minicnn.tensor([1.0]).cuda(1),
        lambda: minicnn.tensor([1.0], device="cuda"),
        lambda: minicnn.zeros(2, device="cuda"),
        lambda: minicnn.randn(2, device="cuda:0"),
        lambda: nn.Linear(2, 2).to("cuda"),
        lambda: nn.Linear(2, 2).cuda(),
        lambda: minicnn.random.generator_for("cuda"),
    ],
    ids=["to", "cuda", "cuda-1", "tensor", "zeros", "randn", "module-to", "module-cuda", "generator"],
)
def test_using_an_unusable_gpu_raises_the_reason(unusable_cuda, use_cuda):
    with pytest.raises(RuntimeError) as raised:
        use_cuda()
    assert str(raised.value) == backend.cuda_unavailable_reason()


def test_with_a_gpu_host_arrays_are_copied_onto_the_selected_gpu(monkeypatch):
    """A stand-in for CuPy with two GPUs records which GPU was current when each copy was made."""
    current, calls = [0], []

    class Device:
        def __init__(self, index=None):
            self.index = current[0] if index is None else index

        def __enter__(self):
            self.previous, current[0] = current[0], self.index
            return self

        def __exit__(self, *exc_info):
            current[0] = self.previous

        def synchronize(self):
            calls.append(("synchronize", self.index))

    def asarray(array):
        calls.append(("asarray", current[0], array.shape))
        return array

    runtime = types.SimpleNamespace(getDeviceCount=lambda: 2)
    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime, Device=Device), asarray=asarray)
    monkeypatch.setattr(backend, "_cupy", fake)
    monkeypatch.setattr(backend, "_cupy_import_error", None)
    assert minicnn.cuda.is_available() and backend.cuda_unavailable_reason() is None
    assert minicnn.cuda.device_count() == 2
    backend.to_device(np.ones((2, 3)), "cuda:1")
    backend.to_device(np.ones(4), "cuda")
    assert calls == [("asarray", 1, (2, 3)), ("asarray", 0, (4,))] and current[0] == 0
    minicnn.cuda.synchronize()
    assert calls[-1] == ("synchronize", 0)


@pytest.mark.skipif(not backend.cuda_is_available(), reason="needs CuPy and an NVIDIA GPU")
def test_real_gpu_round_trip():
    x = minicnn.tensor([[1.0, 2.0]], requires_grad=True)
    y = x.cuda()
    assert y.device == "cuda" and type(y.array).__module__.startswith("cupy")
    (y * y).sum().backward()
    np.testing.assert_allclose(host(x.grad), [[2.0, 4.0]])
    model = _small_net().cuda()
    assert model(minicnn.randn(1, 2, 4, 4).cuda()).device == "cuda"
    minicnn.cuda.synchronize()


def _load_benchmark():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "cpu_vs_gpu.py"
    spec = importlib.util.spec_from_file_location("cpu_vs_gpu", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_benchmark_says_why_there_is_no_gpu_and_dry_runs_on_the_simulated_one(monkeypatch, capsys):
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_import_error", CUPY_MISSING[2])
    benchmark = _load_benchmark()
    assert benchmark.main([]) == 0
    assert capsys.readouterr().out.strip() == f"no GPU here: {backend.cuda_unavailable_reason()}"
    assert benchmark.main(["--gpu", "sim", "--cases", "lenet5_b64", "--steps", "1", "--warmup", "0"]) == 0
    report = capsys.readouterr().out
    assert "| lenet5_b64 | 64 | train |" in report and "| lenet5_b64 | 64 | infer |" in report
    assert "GPU: simulated" in report and "PyTorch column left out: the GPU is simulated" in report


def test_a_training_step_on_the_gpu_never_reads_back_to_the_host():
    """Every device -> host read stalls a real GPU; the simulated device counts them. A step with an MSE
    loss reads nothing back (the value of ``loss`` stays on the device until someone asks for it)."""
    import minicnn.simdevice as sim

    minicnn.manual_seed(0)
    model = _small_net().to("sim")
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x, target = minicnn.randn(4, 2, 4, 4, device="sim"), minicnn.randn(4, 4, device="sim")
    for _ in range(2):  # the second step runs with optimizer state already on the device
        sim.transfers.reset()
        optimizer.zero_grad()
        loss = minicnn.functional.mse_loss(model(x), target)
        loss.backward()
        optimizer.step()
        assert sim.transfers.device_to_host == 0, sim.transfers
    model.eval()
    with minicnn.no_grad():
        model(x)
    assert sim.transfers.device_to_host == 0, sim.transfers
    loss.item()
    assert sim.transfers.device_to_host == 1


@pytest.mark.parametrize("model_name, input_shape", [("lenet5", (8, 1, 32, 32)), ("resnet18", (2, 3, 32, 32))])
def test_model_training_steps_copy_nothing_between_host_and_device(model_name, input_shape):
    """After the first step (which may build per-geometry constants), a training step of a real model
    with cross entropy moves nothing in either direction: a GPU never waits on the host."""
    import minicnn.simdevice as sim

    minicnn.manual_seed(0)
    kwargs = {"num_classes": 10} if model_name == "lenet5" else {"num_classes": 10, "widths": (4, 4, 8, 8)}
    model = minicnn.models.get_model(model_name, **kwargs).to("sim")
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = minicnn.randn(*input_shape, device="sim")
    labels = minicnn.tensor(np.arange(input_shape[0]) % 10, device="sim")
    for step in range(2):
        sim.transfers.reset()
        optimizer.zero_grad()
        loss = minicnn.functional.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
    assert (sim.transfers.device_to_host, sim.transfers.host_to_device) == (0, 0), sim.transfers
