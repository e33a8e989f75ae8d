"""``minicnn explain``: show what a trained model looks at, as a PNG.

Methods: ``grad-cam`` (which regions drive the class score, at --layer: by default the last layer whose
output still has a spatial map), ``saliency`` (|d score / d pixel|), ``feature-maps`` (the activations of
--layer, by default the first convolution's block) and ``filters`` (the first convolution's kernels).
The class explained is --target, by default the predicted one. Images are prepared as for predict.
"""
from __future__ import annotations

import numpy as np

from .checkpoint_model import load_trained_model
from .errors import UsageError

METHODS = ("grad-cam", "saliency", "feature-maps", "filters")


def add_parser(commands) -> None:
    parser = commands.add_parser("explain", help="Grad-CAM, saliency, feature maps or filters of a trained model",
                                 description=__doc__.split("``: ")[-1])
    parser.add_argument("--checkpoint", required=True, metavar="PATH", help="a best.npz or last.npz from minicnn train")
    parser.add_argument("image", nargs="?", default=None, metavar="IMAGE", help="image file (not needed for filters)")
    parser.add_argument("--method", choices=METHODS, default="grad-cam", help="(default grad-cam)")
    parser.add_argument("--layer", default=None, metavar="NAME", help="module path, e.g. layer4 or features.3")
    parser.add_argument("--target", type=int, default=None, metavar="CLASS", help="class index (default: predicted)")
    parser.add_argument("--invert", action="store_true", help="invert grey levels first (dark ink on light paper)")
    parser.add_argument("--out", default=None, metavar="FILE.png", help="output picture (default METHOD.png)")
    parser.set_defaults(run=run)


def spatial_layers(model, image: np.ndarray) -> list[str]:
    """Names of the modules whose output is (N, C, h, w) with h * w > 1, in the order they finish."""
    from ..autograd import Tensor, no_grad

    finished, handles = [], []
    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_hook(
                lambda m, args, out, name=name: finished.append(name)
                if getattr(out, "ndim", 0) == 4 and out.shape[2] * out.shape[3] > 1 else None))
    try:
        with no_grad():
            model(Tensor(image[None]))
    finally:
        for handle in handles:
            handle.remove()
    return finished


def run(args) -> int:
    from .. import nn, viz
    from .predict_command import load_image

    model, checkpoint = load_trained_model(args.checkpoint)
    out = args.out or f"{args.method}.png"
    if not out.lower().endswith(".png"):
        raise UsageError(f"--out must be a .png file, got {out!r}")
    if args.method == "filters":
        convolutions = [module for module in model.modules() if isinstance(module, nn.Conv2d)]
        if not convolutions:
            raise UsageError(f"model {checkpoint.config['model']!r} has no convolution")
        layer = model.get_submodule(args.layer) if args.layer else convolutions[0]
        viz.filters(layer, save=out)
        print(f"{layer.weight.shape[0]} filters written to {out}")
        return 0
    if args.image is None:
        raise UsageError(f"--method {args.method} needs an image file")
    image = load_image(args.image, checkpoint.config, args.invert)
    layers = spatial_layers(model, image)
    layer = args.layer
    if layer is not None and layer not in dict(model.named_modules()):
        raise UsageError(f"model has no layer {layer!r}; layers with a spatial output: {', '.join(layers)}")
    classes = checkpoint.config["model_kwargs"]["num_classes"]
    if args.target is not None and not 0 <= args.target < classes:
        raise UsageError(f"--target must be a class index from 0 to {classes - 1}, got {args.target}")
    batch = image[None]
    if args.method == "grad-cam":
        layer = layer or layers[-1]
        viz.grad_cam(model, batch, args.target, layer, save=out)
    elif args.method == "saliency":
        viz.saliency(model, batch, args.target, save=out)
    else:
        layer = layer or layers[0]
        viz.feature_maps(model, batch, layer, save=out)
    print(f"{args.method}{' of ' + layer if layer and args.method != 'saliency' else ''} written to {out}")
    return 0
