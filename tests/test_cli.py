"""The command line: train / evaluate / predict / summary / gradcheck, and one clear line for every mistake."""
import re
import subprocess
import sys

import numpy as np
import pytest

import minicnn
from minicnn.cli import main
from minicnn.data import Digits

from conftest import TEST_DEVICE


def run_cli(argv, capsys):
    """(exit code, stdout, stderr) of ``minicnn argv``, argparse's own exits included."""
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny LeNet-5 run on the digits (1 epoch, 200 images), shared by the tests that need a checkpoint."""
    if TEST_DEVICE.startswith("cuda") and minicnn.backend.cuda_unavailable_reason() is not None:
        pytest.skip(minicnn.backend.cuda_unavailable_reason())
    out = tmp_path_factory.mktemp("run")
    minicnn.manual_seed(0)
    code = main(["train", "--epochs", "1", "--train-limit", "200", "--out", str(out), "--no-progress",
                 "--device", TEST_DEVICE])
    assert code == 0
    return out


def test_train_reports_its_result_and_how_to_evaluate_it(device, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = run_cli(["train", "--epochs", "1", "--train-limit", "100", "--batch-size", "50",
                               "--optimizer", "sgd", "--scheduler", "step", "--augment", "--out", out,
                               "--no-progress", "--device", device], capsys)
    assert code == 0
    assert "training on the first 100 images" in stdout
    assert re.search(r"best held-out accuracy \d+\.\d\d%", stdout)
    assert f"evaluate --checkpoint {out / 'best.npz'}" in stdout
    for name in ("best.npz", "last.npz", "history.json", "history.csv"):
        assert (out / name).is_file()


def test_resume_continues_up_to_the_requested_epochs(device, tmp_path, capsys):
    common = ["train", "--train-limit", "64", "--out", tmp_path, "--no-progress", "--device", device]
    assert run_cli([*common, "--epochs", "1"], capsys)[0] == 0
    code, stdout, _ = run_cli([*common, "--epochs", "2", "--resume"], capsys)
    assert code == 0
    assert "epoch 2/2" in stdout and "epoch 1/2" not in stdout


def test_evaluate_prints_accuracy_per_class_and_confusion_matrix(device, trained_run, capsys):
    code, stdout, _ = run_cli(["evaluate", "--checkpoint", trained_run / "best.npz", "--device", device], capsys)
    assert code == 0
    held_out = len(Digits(train=False))
    assert f"digits held-out data: {held_out} images" in stdout
    accuracy = float(re.search(r"accuracy (\d+\.\d+)%", stdout).group(1))
    table = stdout.split("confusion matrix")[1].splitlines()[3:13]
    confusion = np.array([[int(v) for v in line.split()[1:]] for line in table])
    assert confusion.shape == (10, 10) and confusion.sum() == held_out
    assert accuracy == pytest.approx(100 * np.trace(confusion) / held_out, abs=0.006)


def test_predict_prepares_images_as_the_training_data_was(device, trained_run, tmp_path, capsys):
    from PIL import Image

    from minicnn.cli.checkpoint_model import load_trained_model
    from minicnn.cli.predict_command import load_image

    model, checkpoint = load_trained_model(str(trained_run / "best.npz"))
    config = checkpoint.config
    digits = Digits(train=False, size=32, transform=minicnn.data.transforms.Compose(
        [minicnn.data.transforms.ToTensor(), minicnn.data.transforms.Normalize(config["mean"], config["std"])]))
    paths = []
    for index in range(3):
        paths.append(tmp_path / f"digit{index}.png")
        Image.fromarray(digits.data[index][:, :, 0]).save(paths[-1])
        np.testing.assert_array_equal(load_image(str(paths[-1]), config), digits[index][0])
    paths.append(tmp_path / "colour-photo.jpg")  # any size and mode becomes 1x32x32 grey
    Image.fromarray(np.full((40, 50, 3), 128, dtype=np.uint8)).save(paths[-1])
    assert isinstance(load_image(str(paths[-1]), config), minicnn.Tensor)
    assert load_image(str(paths[-1]), config).shape == (1, 32, 32)

    code, stdout, _ = run_cli(["predict", "--checkpoint", trained_run / "best.npz", *paths, "--top-k", "2",
                               "--device", device], capsys)
    assert code == 0
    lines = stdout.strip().splitlines()
    assert len(lines) == 4
    for path, line in zip(paths, lines):
        assert re.fullmatch(rf"{re.escape(str(path))}: \d \d+\.\d%, \d \d+\.\d%", line)


def test_summary_prints_the_total_parameter_count(capsys):
    code, stdout, _ = run_cli(["summary", "--model", "lenet5", "--input", "1,32,32", "--num-classes", "10"], capsys)
    assert code == 0
    count = sum(p.numel() for p in minicnn.models.lenet5(num_classes=10).parameters())
    assert f"{count:,}" in stdout


def test_gradcheck_command_passes_for_every_op(device, capsys):
    from minicnn.cli.gradcheck_command import CASES

    code, stdout, _ = run_cli(["gradcheck", "--device", device], capsys)
    assert code == 0
    assert f"{len(CASES)} passed, 0 failed" in stdout
    assert len([line for line in stdout.splitlines() if line.endswith("  pass")]) == len(CASES)


def test_gradcheck_command_fails_with_exit_code_1_on_a_wrong_gradient(capsys, monkeypatch):
    from minicnn.cli import gradcheck_command

    wrong = ("relu times 2 with the gradient of relu", {"x": (3, 4)}, lambda x: wrong_relu(x))

    class WrongRelu(minicnn.Function):
        def forward(self, x):
            self.positive = x > 0
            return 2 * x * self.positive

        def backward(self, grad):
            return grad * self.positive  # the factor 2 is missing

    def wrong_relu(x):
        return WrongRelu.apply(x)

    monkeypatch.setattr(gradcheck_command, "CASES", [wrong])
    code, stdout, _ = run_cli(["gradcheck"], capsys)
    assert code == 1
    assert "FAIL" in stdout and "0 passed, 1 failed" in stdout


@pytest.mark.parametrize("argv, message", [
    (["train", "--model", "nosuchnet"], "unknown model 'nosuchnet'; known models: "),
    (["train", "--dataset", "nosuchdata"], "unknown dataset 'nosuchdata'"),
    (["train", "--dataset", "mnist"], "needs --data-dir"),
    (["train", "--dataset", "mnist", "--data-dir", "/no/such/dir"], "does not exist"),
    (["train", "--image-size", "8"], "too small"),
    (["train", "--model", "lenet"], "cannot take 1x32x32"),
    (["train", "--epochs", "0"], "--epochs must be at least 1"),
    (["train", "--device", "tpu"], "unknown device"),
    (["train", "--optimizer", "lbfgs"], "invalid choice"),
    (["evaluate", "--checkpoint", "{tmp}/missing.npz"], "no checkpoint file"),
    (["evaluate", "--checkpoint", "{tmp}/garbage.npz"], "not a readable minicnn checkpoint"),
    (["predict", "--checkpoint", "{tmp}/garbage.npz", "x.png"], "not a readable minicnn checkpoint"),
    (["predict", "--checkpoint", "{run}/best.npz", "{tmp}/not-an-image.png"], "cannot read image"),
    (["predict", "--checkpoint", "{run}/best.npz", "{tmp}/missing.png"], "no image file"),
    (["summary", "--input", "3,224"], "three positive integers"),
    (["gradcheck", "--filter", "nosuchop"], "no op matches"),
    (["nosuchcommand"], "unknown command 'nosuchcommand'"),
])
def test_each_mistake_ends_with_one_line_and_exit_code_2(argv, message, tmp_path, capsys, request):
    (tmp_path / "garbage.npz").write_bytes(b"\x00 this is not a checkpoint \xff" * 10)
    (tmp_path / "not-an-image.png").write_text("plain text")
    run = request.getfixturevalue("trained_run") if any("{run}" in arg for arg in argv) else None
    argv = [arg.format(tmp=tmp_path, run=run) for arg in argv]
    code, stdout, stderr = run_cli(argv, capsys)
    assert code == 2
    assert "Traceback" not in stderr
    error_lines = [line for line in stderr.splitlines() if "error" in line]
    assert len(error_lines) == 1 and message in error_lines[0], stderr
    if not stderr.startswith("usage:"):  # argparse prints its usage line first; ours print just the error
        assert len(stderr.strip().splitlines()) == 1


def test_the_installed_entry_point_reports_a_mistake_without_a_traceback():
    result = subprocess.run([sys.executable, "-m", "minicnn", "train", "--model", "nosuchnet"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "unknown model" in result.stderr
    assert "Traceback" not in result.stderr
