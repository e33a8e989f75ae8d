"""``minicnn explain``: each method writes a PNG from a trained checkpoint; mistakes end with exit code 2."""
import numpy as np
import pytest

import minicnn
from minicnn.cli import main
from minicnn.data import Digits

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def checkpoint_and_image(tmp_path_factory):
    from PIL import Image

    out = tmp_path_factory.mktemp("explain")
    minicnn.manual_seed(0)
    assert main(["train", "--epochs", "1", "--train-limit", "100", "--out", str(out), "--no-progress"]) == 0
    image = out / "digit.png"
    Image.fromarray(Digits(train=False, size=32).data[0][:, :, 0]).save(image)
    return out / "best.npz", image


@pytest.mark.parametrize("method, extra", [("grad-cam", []), ("saliency", ["--target", "3"]),
                                           ("feature-maps", []), ("filters", [])])
def test_each_method_writes_a_png(checkpoint_and_image, tmp_path, capsys, method, extra):
    checkpoint, image = checkpoint_and_image
    out = tmp_path / f"{method}.png"
    images = [] if method == "filters" else [str(image)]
    assert main(["explain", "--checkpoint", str(checkpoint), *images, "--method", method, "--out", str(out), *extra]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG" and str(out) in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [(["--layer", "nope"], "no layer"), (["--target", "99"], "--target"),
                                            (["--out", "x.jpg"], ".png")])
def test_mistakes_end_with_exit_code_2(checkpoint_and_image, capsys, extra, message):
    checkpoint, image = checkpoint_and_image
    assert main(["explain", "--checkpoint", str(checkpoint), str(image), *extra]) == 2
    assert message in capsys.readouterr().err
