"""Damaged and unusable files: checkpoints, IDX (MNIST) files, CIFAR batches, images, archives.

Each is one clear error of a documented type naming the file, and nothing is lost: the damaged file
is left as it was and a good checkpoint beside it still loads.
"""
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile

import numpy as np
import pytest

import minicnn
from minicnn.data import CIFAR10, MNIST, ImageFolder, extract_archive
from minicnn.data.cifar import read_cifar_binary
from minicnn.data.mnist import read_idx
from minicnn.serialization import CheckpointError
from minicnn.training import load_checkpoint


def _good_checkpoint_bytes(tmp_path) -> bytes:
    path = tmp_path / "source.npz"
    minicnn.save({"weight": minicnn.ones(3), "epoch": 4}, path)
    return path.read_bytes()


def _npz_bytes(members: dict, compressed: bool = False) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **members)
    return buffer.getvalue()


def _structure(document) -> np.ndarray:
    return np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)


def _corrupt_deflate(tmp_path) -> bytes:
    """A compressed npz whose deflate stream is damaged in the middle (the zip directory is intact)."""
    data = bytearray(_npz_bytes({"a0": np.arange(20000.0), "__structure__": _structure(
        {"format": "minicnn-checkpoint", "version": 1, "root": {"array": 0}})}, compressed=True))
    start = data.index(b"a0.npy") + 60
    data[start:start + 200] = bytes(200)
    return bytes(data)


def _flipped_member(tmp_path) -> bytes:
    data = bytearray(_good_checkpoint_bytes(tmp_path))
    position = data.index(b"\x93NUMPY") + 140  # inside the first array's values: the zip CRC no longer matches
    data[position] ^= 0xFF
    return bytes(data)


CHECKPOINT_CASES = {
    "empty": (lambda tmp: b"", "the file is empty"),
    "text": (lambda tmp: b"hello, not a checkpoint\n", "does not start with the npz"),
    "pickle": (lambda tmp: b"\x80\x04\x95\x10\x00\x00\x00", "pickle file"),
    "truncated_half": (lambda tmp: _good_checkpoint_bytes(tmp)[: len(_good_checkpoint_bytes(tmp)) // 2], "corrupt or truncated"),
    "truncated_header": (lambda tmp: _good_checkpoint_bytes(tmp)[:30], "corrupt or truncated"),
    "flipped_byte": (_flipped_member, "corrupt or truncated"),
    "corrupt_deflate": (_corrupt_deflate, "corrupt or truncated"),
    "plain_npz": (lambda tmp: _npz_bytes({"x": np.zeros(3)}), "no '__structure__' member"),
    "structure_not_json": (lambda tmp: _npz_bytes({"__structure__": np.frombuffer(b"{oops", np.uint8)}),
                           "structure document is corrupt"),
    "structure_wrong_dtype": (lambda tmp: _npz_bytes({"__structure__": np.zeros(3)}), "should be a 1-D uint8 array"),
    "future_version": (lambda tmp: _npz_bytes({"__structure__": _structure(
        {"format": "minicnn-checkpoint", "version": 99, "root": None})}), "version 99"),
    "missing_member": (lambda tmp: _npz_bytes({"__structure__": _structure(
        {"format": "minicnn-checkpoint", "version": 1, "root": {"array": 7}})}), "refers to array 'a7'"),
    "unknown_entry": (lambda tmp: _npz_bytes({"__structure__": _structure(
        {"format": "minicnn-checkpoint", "version": 1, "root": {"set": []}})}), "unknown structure entry kind 'set'"),
    "pickled_member": (lambda tmp: _npz_bytes({"a0": np.array([{"x": 1}], dtype=object), "__structure__": _structure(
        {"format": "minicnn-checkpoint", "version": 1, "root": {"array": 0}})}), "pickled Python objects"),
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CASES))
def test_a_damaged_checkpoint_is_one_checkpoint_error_naming_the_file(case, tmp_path):
    make, reason = CHECKPOINT_CASES[case]
    good = tmp_path / "good.npz"
    minicnn.save({"weight": minicnn.arange(5), "epoch": 3}, good)
    bad = tmp_path / f"{case}.npz"
    content = make(tmp_path)
    bad.write_bytes(content)
    with pytest.raises(CheckpointError, match=reason) as error:
        minicnn.load(bad)
    assert str(bad) in str(error.value)
    assert "\n" not in str(error.value)
    assert bad.read_bytes() == content  # reading never changes the file
    assert minicnn.load(good)["epoch"] == 3  # nor anything beside it


@pytest.mark.parametrize("case", ["missing", "directory"])
def test_a_path_that_is_no_file_is_an_os_error_naming_it(case, tmp_path):
    path = tmp_path / "nothing.npz"
    if case == "directory":
        path.mkdir()
    with pytest.raises(FileNotFoundError if case == "missing" else IsADirectoryError) as error:
        minicnn.load(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("state, reason", [
    ({"weight": np.zeros(2)}, "not a training checkpoint"),
    ({"format": "minicnn-training-checkpoint", "version": 1, "model": {}}, r"lacks \['epoch'"),
    ({"format": "minicnn-training-checkpoint", "version": 1, "model": {}, "epoch": 1, "best_val_acc": 0.5,
      "history": "{not json", "rng": "[]", "config": "{}"}, "is damaged"),
], ids=["plain_save", "missing_keys", "damaged_history"])
def test_a_file_that_is_no_training_checkpoint_says_what_is_wrong(state, reason, tmp_path):
    path = tmp_path / "last.npz"
    minicnn.save(state, path)
    with pytest.raises(CheckpointError, match=reason):
        load_checkpoint(path)


# ----------------------------------------------------------------------------------------------
# Saving: a failed save keeps the previous file; killed saves' temporary files are removed
# ----------------------------------------------------------------------------------------------

def _temporaries(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


@pytest.mark.parametrize("obj, error, match", [
    ({"bad": {1, 2}}, TypeError, r"cannot save obj\['bad'\] of type set"),
    ({"bad": object()}, TypeError, r"cannot save obj\['bad'\] of type object"),
    ({"bad": np.array([None])}, TypeError, "object array"),
    ({(1, object()): 1}, TypeError, "cannot save a dict key of type tuple"),
], ids=["set", "object", "object_array", "tuple_key"])
def test_a_failed_save_keeps_the_previous_checkpoint(obj, error, match, tmp_path):
    path = tmp_path / "model.npz"
    minicnn.save({"epoch": 1}, path)
    with pytest.raises(error, match=match):
        minicnn.save(obj, path)
    assert minicnn.load(path) == {"epoch": 1}
    assert _temporaries(tmp_path) == []


@pytest.mark.parametrize("target, error", [("missing_folder/model.npz", FileNotFoundError),
                                           ("a_folder", IsADirectoryError)], ids=["no_folder", "onto_a_folder"])
def test_saving_to_an_unusable_path_is_an_os_error_and_leaves_no_temporary(target, error, tmp_path):
    (tmp_path / "a_folder").mkdir()
    with pytest.raises(error):
        minicnn.save({"epoch": 1}, tmp_path / target)
    assert _temporaries(tmp_path) == [] and (tmp_path / "a_folder").is_dir()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_save_removes_the_temporaries_killed_saves_left_and_keeps_running_ones(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = [f".model.npz.{dead}-k1ll3d.tmp", ".model.npz.abc123xy.tmp"]  # a dead saver's, an older naming's
    kept = [f".model.npz.{alive}-running.tmp", f".other.npz.{dead}-k1ll3d.tmp", "model.npz.notes.tmp"]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"partial")
    minicnn.save({"epoch": 2}, tmp_path / "model.npz")
    assert _temporaries(tmp_path) == sorted(kept)
    assert minicnn.load(tmp_path / "model.npz") == {"epoch": 2}


# ----------------------------------------------------------------------------------------------
# Datasets: IDX (MNIST), CIFAR-10 batches, image folders, archives
# ----------------------------------------------------------------------------------------------

def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def _gzip_with_corrupt_deflate(payload: bytes) -> bytes:
    data = bytearray(gzip.compress(payload))
    data[20:40] = b"\xff" * 20
    return bytes(data)


IDX_CASES = {
    "empty": (b"", "not an IDX file"),
    "bad_magic": (b"\x01\x02\x08\x01" + bytes(8), "bad magic number 01020801"),
    "truncated_header": (bytes([0, 0, 8, 3, 0, 0]), "truncated header"),
    "too_short": (_idx(np.zeros((4, 5, 5)))[:-7], r"should hold 116 bytes for shape \(4, 5, 5\), but holds 109"),
    "too_long": (_idx(np.zeros((4,))) + b"\x00", r"should hold 12 bytes for shape \(4,\), but holds 13"),
    "gzip_corrupt_deflate": (_gzip_with_corrupt_deflate(_idx(np.arange(3000).reshape(30, 100) % 7)),
                             "damaged gzip file"),
    "gzip_truncated": (gzip.compress(_idx(np.zeros((100, 28, 28))))[:-20], "damaged gzip file"),
    "gzip_bad_header": (b"\x1f\x8b\x00garbage", "damaged gzip file"),
}


@pytest.mark.parametrize("case", sorted(IDX_CASES))
def test_a_damaged_idx_file_is_a_value_error_naming_it(case, tmp_path):
    content, reason = IDX_CASES[case]
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=reason) as error:
        read_idx(path)
    assert str(path) in str(error.value) and error.value.__cause__ is None


def _mnist_folder(tmp_path, images=None, labels=None, damaged=None):
    images = np.zeros((6, 28, 28)) if images is None else images
    labels = np.arange(6) % 10 if labels is None else labels
    files = {"t10k-images-idx3-ubyte": _idx(images), "t10k-labels-idx1-ubyte": _idx(labels)}
    if damaged:
        files[damaged] = _gzip_with_corrupt_deflate(files[damaged])
    for name, content in files.items():
        (tmp_path / (name + (".gz" if name == damaged else ""))).write_bytes(content)
    return tmp_path


@pytest.mark.parametrize("folder, match", [
    (lambda tmp: _mnist_folder(tmp, damaged="t10k-images-idx3-ubyte"), r"t10k-images-idx3-ubyte.gz is a damaged gzip"),
    (lambda tmp: _mnist_folder(tmp, labels=np.arange(5)), r"holds 6 images but .* labels of shape \(5,\)"),
    (lambda tmp: _mnist_folder(tmp, labels=np.array([0, 1, 2, 3, 4, 12])), "holds label 12, expected 0..9"),
    (lambda tmp: _mnist_folder(tmp, images=np.zeros((6, 28))), "should hold uint8 images"),
], ids=["corrupt_gzip", "label_count", "label_range", "image_rank"])
def test_a_damaged_mnist_folder_is_a_value_error_naming_the_file(folder, match, tmp_path):
    root = folder(tmp_path)
    with pytest.raises(ValueError, match=match) as error:
        MNIST(root, train=False)
    assert "MNIST" in str(error.value) or "read_idx" in str(error.value)


@pytest.mark.parametrize("content, match", [
    (bytes(3073 * 2 - 1), "6145 bytes, not a whole number of 3073-byte records"),
    (b"", "0 bytes"),
    (bytes([11]) + bytes(3072), "holds label 11, expected 0..9"),
], ids=["truncated", "empty", "label_range"])
def test_a_damaged_cifar_batch_is_a_value_error_naming_it(content, match, tmp_path):
    path = tmp_path / "test_batch.bin"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as error:
        read_cifar_binary(path)
    assert str(path) in str(error.value)
    with pytest.raises(ValueError, match=match):
        CIFAR10(tmp_path, train=False)
    assert path.read_bytes() == content


def _png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)  # incompressible
    Image.fromarray(noise).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("name, content", [
    ("noise.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
    ("truncated.png", None),
    ("empty.jpg", b""),
    ("text.png", b"this is not an image"),
], ids=["noise", "truncated", "empty", "text"])
def test_a_damaged_image_is_a_value_error_naming_it(name, content, tmp_path):
    pytest.importorskip("PIL")
    content = _png_bytes()[:4000] if content is None else content
    (tmp_path / "cats").mkdir()
    path = tmp_path / "cats" / name
    path.write_bytes(content)
    folder = ImageFolder(tmp_path, image_size=(8, 8))
    with pytest.raises(ValueError, match="ImageFolder: cannot read image") as error:
        folder.load_image(str(path))
    assert name in str(error.value) and path.read_bytes() == content


@pytest.mark.parametrize("name, content", [
    ("data.tar.gz", None),
    ("data.gz", None),
    ("data.tar", b"not a tar archive at all" * 40),
], ids=["tar_gz_corrupt_deflate", "gz_corrupt_deflate", "tar_garbage"])
def test_a_damaged_archive_is_a_value_error_and_leaves_no_partial_file(name, content, tmp_path):
    if content is None and name.endswith(".tar.gz"):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo("a.bin")
            payload = np.arange(30000, dtype=np.uint16).tobytes()
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
        content = _gzip_with_corrupt_deflate(buffer.getvalue())
    elif content is None:
        content = _gzip_with_corrupt_deflate(np.arange(30000, dtype=np.uint16).tobytes())
    path = tmp_path / name
    path.write_bytes(content)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="extract_archive: .* is a damaged") as error:
        extract_archive(path, out)
    assert name in str(error.value)
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]

