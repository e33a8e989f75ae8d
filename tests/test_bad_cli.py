"""The command line given bad arguments, damaged files and unusable output paths: exit code 2 and one
line on stderr naming the thing at fault, no traceback, and nothing lost (a checkpoint already there
still loads, a file named by mistake is left as it was). A diverging run: exit code 3, one line.

Most cases call ``minicnn.cli.main`` in the test process; a few run ``python -m minicnn`` to show what
a user sees.
"""
import gzip
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import minicnn
from minicnn.cli import EXIT_DIVERGED, EXIT_USAGE, main
from minicnn.training import load_checkpoint

from conftest import TEST_DEVICE

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(argv, capsys):
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """best.npz of a one-epoch run on 64 digits."""
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--epochs", "1", "--train-limit", "64", "--out", str(out), "--no-progress"]) == 0
    return out / "best.npz"


def _idx(array) -> bytes:
    array = np.asarray(array)
    return bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">i4").tobytes() + array.astype(np.uint8).tobytes()


def _damaged_gzip(payload: bytes) -> bytes:
    data = bytearray(gzip.compress(payload))
    data[20:40] = b"\xff" * 20
    return bytes(data)


def _mnist_dir(tmp, damaged: str):
    """t10k files, and training files of which ``damaged`` has corrupt deflate data."""
    folder = tmp / "mnist"
    folder.mkdir()
    for prefix in ("train", "t10k"):
        for name, data in ((f"{prefix}-images-idx3-ubyte", _idx(np.zeros((4, 28, 28)))),
                           (f"{prefix}-labels-idx1-ubyte", _idx(np.arange(4)))):
            if name == damaged:
                (folder / (name + ".gz")).write_bytes(_damaged_gzip(data))
            else:
                (folder / name).write_bytes(data)
    return folder


def _cifar_dir(tmp):
    folder = tmp / "cifar"
    folder.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)]:
        (folder / name).write_bytes(bytes(3073))
    (folder / "test_batch.bin").write_bytes(bytes(3000))
    return folder


def _image_dir(tmp):
    from PIL import Image

    folder = tmp / "images"
    for label in ("a", "b"):
        (folder / label).mkdir(parents=True)
        for index in range(3):
            Image.fromarray(np.full((8, 8, 3), 40 * index, np.uint8)).save(folder / label / f"{index}.png")
    (folder / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    return folder


def _a_file(tmp):
    path = tmp / "notes.txt"
    path.write_text("keep me")
    return path


TRAIN_CASES = {
    "out_is_a_file": (lambda tmp: ["--out", _a_file(tmp)], "is an existing file, not a folder"),
    "out_below_a_file": (lambda tmp: ["--out", _a_file(tmp) / "run"], "is a file, so the folder cannot be created"),
    "out_cannot_be_made": (lambda tmp: ["--out", "/proc/minicnn-run"], "--out /proc/minicnn-run"),
    "epochs_0": (lambda tmp: ["--epochs", "0"], "--epochs must be at least 1, got 0"),
    "batch_size_0": (lambda tmp: ["--batch-size", "0"], "--batch-size must be at least 1"),
    "lr_negative": (lambda tmp: ["--lr", "-0.1"], "--lr must be positive, got -0.1"),
    "train_limit_0": (lambda tmp: ["--train-limit", "0"], "--train-limit must be at least 1"),
    "image_size_0": (lambda tmp: ["--image-size", "0"], "--image-size must be positive"),
    "unknown_model": (lambda tmp: ["--model", "lenet99"], "unknown model 'lenet99'"),
    "unknown_dataset": (lambda tmp: ["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    "unknown_device": (lambda tmp: ["--device", "tpu"], "tpu"),
    "mnist_without_dir": (lambda tmp: ["--dataset", "mnist"], "--dataset mnist needs --data-dir"),
    "mnist_missing_dir": (lambda tmp: ["--dataset", "mnist", "--data-dir", tmp / "nowhere"], "does not exist"),
    "mnist_damaged_train_images": (lambda tmp: ["--dataset", "mnist", "--data-dir", _mnist_dir(tmp, "train-images-idx3-ubyte")],
                                   "train-images-idx3-ubyte.gz is a damaged gzip file"),
    "mnist_damaged_train_labels": (lambda tmp: ["--dataset", "mnist", "--data-dir", _mnist_dir(tmp, "train-labels-idx1-ubyte")],
                                   "train-labels-idx1-ubyte.gz is a damaged gzip file"),
    "mnist_damaged_t10k": (lambda tmp: ["--dataset", "fashion-mnist", "--data-dir", _mnist_dir(tmp, "t10k-images-idx3-ubyte")],
                           "t10k-images-idx3-ubyte.gz is a damaged gzip file"),
    "cifar_damaged_batch": (lambda tmp: ["--dataset", "cifar10", "--data-dir", _cifar_dir(tmp)],
                            "test_batch.bin holds 3000 bytes"),
    "folder_damaged_image": (lambda tmp: ["--dataset", "folder", "--data-dir", _image_dir(tmp)], "broken.png"),
    "resume_without_checkpoint": (lambda tmp: ["--resume", "--out", tmp / "fresh"], "no checkpoint"),
}


@pytest.mark.parametrize("case", sorted(TRAIN_CASES))
def test_train_refuses_bad_input_in_one_line(case, tmp_path, capsys):
    make, reason = TRAIN_CASES[case]
    arguments = [str(a) for a in make(tmp_path)]
    if "--out" not in arguments:
        arguments += ["--out", str(tmp_path / "run")]
    code, _, err = run_cli(["train", "--epochs", "1", "--no-progress", *arguments] if "--epochs" not in arguments
                           else ["train", "--no-progress", *arguments], capsys)
    assert code == EXIT_USAGE
    assert err.count("\n") == 1 and err.startswith("minicnn train: error: ") and reason in err, err
    assert "Traceback" not in err
    if (tmp_path / "notes.txt").exists():
        assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert not (tmp_path / "run" / "last.npz").exists()


def test_resume_from_a_damaged_checkpoint_leaves_it_as_it_was(tmp_path, capsys):
    (tmp_path / "last.npz").write_bytes(b"PK\x03\x04 cut short")
    code, _, err = run_cli(["train", "--resume", "--out", tmp_path, "--no-progress"], capsys)
    assert code == EXIT_USAGE and err.count("\n") == 1
    assert "--resume: cannot read" in err and "last.npz" in err
    assert (tmp_path / "last.npz").read_bytes() == b"PK\x03\x04 cut short"


def _config_changed(source, tmp_path, **changes):
    state = minicnn.load(source)
    config = json.loads(state["config"])
    config.update(changes)
    state["config"] = json.dumps(config)
    path = tmp_path / "changed.npz"
    minicnn.save(state, path)
    return path


EVALUATE_CASES = {
    "missing": (lambda tmp, good: tmp / "none.npz", "no checkpoint file"),
    "directory": (lambda tmp, good: tmp, "is a folder, not a checkpoint file"),
    # Fixed bytes: random ones can begin with a pickle's or a zip's magic, which get messages of their own.
    "random_bytes": (lambda tmp, good: _write(tmp / "x.npz", b"noise" + bytes(range(256)) * 2), "not a minicnn checkpoint"),
    "truncated": (lambda tmp, good: _write(tmp / "x.npz", good.read_bytes()[:2000]), "corrupt or truncated"),
    "plain_save": (lambda tmp, good: _saved(tmp / "x.npz", {"weight": np.zeros(3)}), "not a training checkpoint"),
    "no_model_in_config": (lambda tmp, good: _config_emptied(good, tmp / "x.npz"), "does not say which model"),
    "weights_do_not_fit": (lambda tmp, good: _config_changed(good, tmp, model_kwargs={"num_classes": 7, "in_channels": 1}),
                           "does not fit model 'lenet5'"),
    "unknown_model": (lambda tmp, good: _config_changed(good, tmp, model="lenet99"), "unknown model 'lenet99'"),
}


def _write(path, content: bytes):
    path.write_bytes(content)
    return path


def _saved(path, state):
    minicnn.save(state, path)
    return path


def _config_emptied(source, path):
    """A training checkpoint that no longer says which model it holds."""
    state = minicnn.load(source)
    state["config"] = "{}"
    return _saved(path, state)


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("case", sorted(EVALUATE_CASES))
def test_a_checkpoint_that_cannot_be_used_is_one_line(case, command, checkpoint, tmp_path, capsys):
    make, reason = EVALUATE_CASES[case]
    path = make(tmp_path, checkpoint)
    before = path.read_bytes() if path.is_file() else None
    image = tmp_path / "image.png"
    _write(image, b"")
    extra = [image] if command == "predict" else []
    code, _, err = run_cli([command, "--checkpoint", path, *extra], capsys)
    assert code == EXIT_USAGE
    assert err.count("\n") == 1 and err.startswith(f"minicnn {command}: error: ") and reason in err, err
    if before is not None:
        assert path.read_bytes() == before
    assert load_checkpoint(checkpoint).epoch == 1


@pytest.mark.parametrize("make, reason", [
    (lambda tmp: _write(tmp / "noise.png", b"\x89PNG\r\n\x1a\n" + os.urandom(200)), "cannot read image"),
    (lambda tmp: _write(tmp / "empty.jpg", b""), "cannot read image"),
    (lambda tmp: tmp / "absent.png", "no image file"),
    (lambda tmp: tmp, "no image file"),
], ids=["noise", "empty", "missing", "directory"])
def test_predict_names_an_image_it_cannot_read(make, reason, checkpoint, tmp_path, capsys):
    image = make(tmp_path)
    code, _, err = run_cli(["predict", "--checkpoint", checkpoint, image], capsys)
    assert code == EXIT_USAGE and err.count("\n") == 1 and reason in err and str(image) in err, err


@pytest.mark.parametrize("argv, reason", [
    (["predict", "--top-k", "0", "x.png"], "--top-k must be at least 1"),
    (["summary", "--model", "lenet99"], "lenet99"),
], ids=["top_k_0", "summary_unknown_model"])
def test_other_commands_refuse_bad_options_in_one_line(argv, reason, checkpoint, capsys):
    if argv[0] == "predict":
        argv = [*argv, "--checkpoint", checkpoint]
    code, _, err = run_cli(argv, capsys)
    assert code == EXIT_USAGE and err.count("\n") == 1 and reason in err, err


# ----------------------------------------------------------------------------------------------
# A diverging run
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("anomaly", [False, True], ids=["plain", "detect_anomaly"])
def test_a_diverging_run_stops_with_one_line_and_exit_3(anomaly, tmp_path, capsys):
    argv = ["train", "--epochs", "2", "--train-limit", "64", "--optimizer", "sgd", "--lr", "1e6",
            "--out", tmp_path, "--no-progress", "--device", TEST_DEVICE]
    code, _, err = run_cli(argv + (["--detect-anomaly"] if anomaly else []), capsys)
    assert code == EXIT_DIVERGED and err.count("\n") == 1, err
    where = re.match(r"minicnn train: error: training diverged at epoch (\d+), step (\d+): ", err)
    assert where, err
    assert ("in layer '" in err) if anomaly else ("the loss is nan" in err or "a gradient is" in err)
    epoch = int(where.group(1))
    if epoch == 1:
        assert not (tmp_path / "best.npz").exists() and not (tmp_path / "last.npz").exists()
    else:  # the epochs before are kept, finite; the diverged one was never written
        for name in ("best.npz", "last.npz"):
            kept = load_checkpoint(tmp_path / name)
            assert kept.epoch <= epoch - 1
            assert all(np.isfinite(np.asarray(v)).all() for v in kept.model_state.values())


# ----------------------------------------------------------------------------------------------
# What a user sees: a separate process, no traceback
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["mnist_damaged_train_images", "out_is_a_file", "damaged_checkpoint"])
def test_the_command_line_prints_no_traceback(case, tmp_path):
    if case == "damaged_checkpoint":
        path = _write(tmp_path / "best.npz", b"PK\x03\x04" + bytes(300))
        argv = ["evaluate", "--checkpoint", str(path)]
    else:
        argv = ["train", "--epochs", "1", "--no-progress", *[str(a) for a in TRAIN_CASES[case][0](tmp_path)]]
        if "--out" not in argv:
            argv += ["--out", str(tmp_path / "run")]
    environment = {**os.environ, "PYTHONPATH": REPOSITORY}
    result = subprocess.run([sys.executable, "-m", "minicnn", *argv], capture_output=True, text=True,
                            env=environment, timeout=120, cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"minicnn {argv[0]}: error: ")
