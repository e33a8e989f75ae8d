"""``minicnn predict``: classify image files with a checkpoint, printing the top-k classes.

Each image is prepared as the checkpoint's training data was: converted to grey or colour, resized to
the model's input size, scaled to [0, 1] and normalized with the training mean and std. Digits and
MNIST are white strokes on black: pass ``--invert`` for dark ink on light paper.
"""
from __future__ import annotations

import zlib

import numpy as np

from .. import functional as F
from ..autograd import Tensor, no_grad
from ..backend import to_host
from ..data import transforms
from .checkpoint_model import load_trained_model
from .errors import UsageError
from .train_command import _check_device


def add_parser(commands) -> None:
    parser = commands.add_parser("predict", help="classify image files with a checkpoint",
                                 description=__doc__.split("\n\n")[0].split("``: ")[-1])
    parser.add_argument("--checkpoint", required=True, metavar="PATH", help="a best.npz or last.npz from minicnn train")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ... anything Pillow reads)")
    parser.add_argument("--top-k", type=int, default=3, help="how many classes to show per image (default 3)")
    parser.add_argument("--invert", action="store_true", help="invert grey levels first (dark ink on light paper)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or sim (default cpu)")
    parser.set_defaults(run=run)


def load_image(path: str, config: dict, invert: bool = False) -> Tensor:
    """One image file as the (C, H, W) float32 host Tensor the checkpoint's model expects."""
    from PIL import Image, UnidentifiedImageError

    channels, height, width = config["input_shape"]
    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if image.size != (width, height):  # Pillow's bilinear, as ImageFolder resizes training images
                image = image.resize((width, height), Image.BILINEAR)
            pixels = np.asarray(image, dtype=np.uint8)
    except (FileNotFoundError, IsADirectoryError):
        raise UsageError(f"no image file {path}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, zlib.error,
            Image.DecompressionBombError) as error:  # what Pillow raises for damaged files, by format
        raise UsageError(f"cannot read image {path}: {error}") from None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if invert:
        pixels = 255 - pixels
    image = transforms.ToTensor()(pixels)
    if config.get("mean") is not None:
        image = transforms.Normalize(config["mean"], config["std"])(image)
    return image.float()


def run(args) -> int:
    if args.top_k < 1:
        raise UsageError(f"--top-k must be at least 1, got {args.top_k}")
    device = _check_device(args.device)
    model, checkpoint = load_trained_model(args.checkpoint)
    config = checkpoint.config
    class_names = config.get("class_names") or [str(i) for i in range(config["model_kwargs"]["num_classes"])]
    batch = F.stack([load_image(path, config, args.invert) for path in args.images])
    model.to(device)
    with no_grad():
        probabilities = to_host(F.softmax(model(batch.to(device)), dim=1).array)
    top_k = min(args.top_k, probabilities.shape[1])
    for path, row in zip(args.images, probabilities):
        best = np.argsort(-row, kind="stable")[:top_k]
        ranked = ", ".join(f"{class_names[i]} {100 * row[i]:.1f}%" for i in best)
        print(f"{path}: {ranked}")
    return 0
