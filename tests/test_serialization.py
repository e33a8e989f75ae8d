"""minicnn.save / minicnn.load: round trips, atomic writes, refusing pickles and damaged files, resuming training."""
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.serialization import CheckpointError
from helpers import host


def test_round_trip_of_nested_structures(device, tmp_path):
    obj = {
        "weights": OrderedDict([("b", np.arange(6, dtype=np.float32).reshape(2, 3)), ("a", np.int64(4))]),
        "on_device": minicnn.backend.to_device(np.ones(3), device),
        "tensor": minicnn.tensor([1.0, 2.0], requires_grad=True, device=device),
        "numbers": [1, 2.5, -0.0, float("inf"), True, None, "text"],
        "pair": (1, (2, "three")),
        3: {"nested": [{}], (1, "x"): [], None: 0},
        "empty": np.zeros((0, 4), dtype=np.float64),
        "flags": np.array([True, False]),
    }
    minicnn.save(obj, tmp_path / "everything.ckpt")
    loaded = minicnn.load(tmp_path / "everything.ckpt")
    assert list(loaded) == list(obj)
    assert isinstance(loaded["weights"], OrderedDict) and list(loaded["weights"]) == ["b", "a"]
    assert isinstance(loaded["weights"]["b"], minicnn.Tensor)  # arrays come back as Tensors, as torch.load's
    np.testing.assert_array_equal(loaded["weights"]["b"].numpy(), obj["weights"]["b"])
    assert loaded["weights"]["a"] == 4 and isinstance(loaded["weights"]["a"], np.int64)
    assert isinstance(loaded["on_device"], minicnn.Tensor) and loaded["on_device"].device == "cpu"  # host by default
    assert isinstance(loaded["tensor"], minicnn.Tensor) and loaded["tensor"].requires_grad
    assert loaded["numbers"] == obj["numbers"] and type(loaded["numbers"][1]) is float
    assert loaded["pair"] == (1, (2, "three"))
    assert loaded[3] == {"nested": [{}], (1, "x"): [], None: 0}
    assert loaded["empty"].shape == (0, 4) and loaded["flags"].dtype == np.bool_


def test_map_location_places_arrays_on_a_device(device, tmp_path):
    minicnn.save({"a": np.ones(2), "t": minicnn.ones(2)}, tmp_path / "m.ckpt")
    loaded = minicnn.load(tmp_path / "m.ckpt", map_location=device)
    assert isinstance(loaded["a"], minicnn.Tensor) and loaded["a"].device == device and loaded["t"].device == device


def test_model_and_optimizer_state_round_trip(device, tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3)).to(device)
    optimizer = minicnn.optim.Adam(model.parameters(), lr=0.01)
    model(minicnn.randn(2, 1, 4, 4, device=device)).sum().backward()
    optimizer.step()
    minicnn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}, tmp_path / "c.pt")
    loaded = minicnn.load(tmp_path / "c.pt")
    assert loaded["epoch"] == 3 and list(loaded["model"]) == list(model.state_dict())
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3)).to(device)
    fresh.load_state_dict(loaded["model"])
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value)
    fresh_optimizer = minicnn.optim.Adam(fresh.parameters(), lr=0.5)
    fresh_optimizer.load_state_dict(loaded["optimizer"])
    assert fresh_optimizer.param_groups[0]["lr"] == 0.01
    first = next(iter(fresh.parameters()))
    assert fresh_optimizer.state[first]["step"] == 1
    assert minicnn.backend.device_of(fresh_optimizer.state[first]["exp_avg"]) == device


def test_saving_unsupported_objects_is_refused(tmp_path):
    with pytest.raises(TypeError, match="object array"):
        minicnn.save({"bad": np.array([{}, 1], dtype=object)}, tmp_path / "x.ckpt")
    with pytest.raises(TypeError, match=r"obj\['f'\]"):
        minicnn.save({"f": lambda: 0}, tmp_path / "x.ckpt")
    assert not os.path.exists(tmp_path / "x.ckpt") and os.listdir(tmp_path) == []


def test_a_failed_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.ckpt"
    minicnn.save({"version": 1, "w": np.ones(1000)}, path)
    original_bytes = path.read_bytes()
    real_savez = np.savez

    def crash_midway(file, **arrays):
        real_savez(file, **{k: v for k, v in list(arrays.items())[:1]})  # some bytes reach the temp file
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        minicnn.save({"version": 2, "w": np.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == original_bytes
    assert minicnn.load(path)["version"] == 1
    assert os.listdir(tmp_path) == ["model.ckpt"]  # no temporary file left behind


def test_a_save_is_flushed_and_fsynced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    minicnn.save({"a": 1}, tmp_path / "f.ckpt")
    assert events[:2] == ["fsync", "replace"]


class _Exploit:
    """Unpickling this would create a marker file: loading must never get that far."""

    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickles_are_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    _Exploit.marker = marker
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps({"model": _Exploit()}))
    with pytest.raises(CheckpointError, match="pickle") as caught:
        minicnn.load(raw)
    assert str(raw) in str(caught.value)
    # An npz (a zip of .npy files) whose member is an object array: numpy would unpickle it.
    sneaky = tmp_path / "sneaky.ckpt"
    minicnn.save({"a": np.ones(2)}, sneaky)
    with np.load(sneaky) as archive:
        structure = archive["__structure__"]
    with open(sneaky, "wb") as file:  # same structure, but its array is now a pickled object array
        np.savez(file, __structure__=structure, a0=np.array([_Exploit()], dtype=object))
    with pytest.raises(CheckpointError, match="pickled"):
        minicnn.load(sneaky)
    # A structure member replaced by a pickled object array.
    pickled_structure = tmp_path / "structure.ckpt"
    with open(pickled_structure, "wb") as file:
        np.savez(file, __structure__=np.array([_Exploit()], dtype=object))
    with pytest.raises(CheckpointError, match="pickled"):
        minicnn.load(pickled_structure)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "flip-bytes", "plain-npz", "bad-json"])
def test_damaged_files_give_a_clear_error(tmp_path, damage):
    path = tmp_path / "damaged.ckpt"
    minicnn.save({"w": np.arange(4000, dtype=np.float32), "epoch": 2}, path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"this is not a checkpoint at all")
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "flip-bytes":
        path.write_bytes(data[:30] + bytes(200) + data[230:])
    elif damage == "plain-npz":
        with open(path, "wb") as file:
            np.savez(file, weights=np.ones(3))
    elif damage == "bad-json":
        with open(path, "wb") as file:
            np.savez(file, __structure__=np.frombuffer(b"{not json", dtype=np.uint8))
    with pytest.raises(CheckpointError) as caught:
        minicnn.load(path)
    assert str(path) in str(caught.value) and isinstance(caught.value, ValueError)


def test_missing_file_is_a_plain_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        minicnn.load(tmp_path / "nope.ckpt")


def _small_model():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 3 * 3, 3))


def _train(model, optimizer, scheduler, batches, device):
    loss_fn = nn.CrossEntropyLoss()
    for images, labels in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(minicnn.tensor(images, device=device)), minicnn.tensor(labels, device=device))
        loss.backward()
        optimizer.step()
        scheduler.step()


def test_resumed_training_is_bit_identical_to_uninterrupted(device, tmp_path):
    generator = np.random.default_rng(7)
    batches = [(generator.standard_normal((4, 1, 8, 8)).astype(np.float32), generator.integers(0, 3, 4))
               for _ in range(7)]

    def build(seed):
        minicnn.manual_seed(seed)
        model = _small_model().to(device)
        optimizer = minicnn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
        scheduler = minicnn.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        return model, optimizer, scheduler

    model, optimizer, scheduler = build(0)
    _train(model, optimizer, scheduler, batches, device)

    first, first_optimizer, first_scheduler = build(0)
    _train(first, first_optimizer, first_scheduler, batches[:3], device)
    minicnn.save({"model": first.state_dict(), "optimizer": first_optimizer.state_dict(),
                  "scheduler": first_scheduler.state_dict()}, tmp_path / "resume.ckpt")
    checkpoint = minicnn.load(tmp_path / "resume.ckpt")
    resumed, resumed_optimizer, resumed_scheduler = build(1)  # different initial weights: all must come from the file
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed_scheduler.load_state_dict(checkpoint["scheduler"])
    _train(resumed, resumed_optimizer, resumed_scheduler, batches[3:], device)

    expected, actual = model.state_dict(), resumed.state_dict()
    assert list(actual) == list(expected)
    for key in expected:
        np.testing.assert_array_equal(actual[key], expected[key], err_msg=key)
    assert resumed_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    assert int(actual["1.num_batches_tracked"]) == 7
    for p, q in zip(resumed.parameters(), model.parameters()):
        np.testing.assert_array_equal(host(p), host(q))


def test_torch_save_files_are_refused_without_unpickling(tmp_path):
    from helpers import import_torch

    torch = import_torch()
    marker = tmp_path / "pwned-by-torch-file"
    _Exploit.marker = marker
    path = tmp_path / "torch.pt"
    torch.save({"model": _Exploit()}, path)  # a zip holding data.pkl
    with pytest.raises(CheckpointError, match="not a minicnn checkpoint"):
        minicnn.load(path)
    torch.save({"model": _Exploit()}, path, _use_new_zipfile_serialization=False)  # a raw pickle stream
    with pytest.raises(CheckpointError):
        minicnn.load(path)
    assert not marker.exists()
