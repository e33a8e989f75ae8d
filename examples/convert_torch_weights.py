"""Convert a PyTorch / torchvision checkpoint (.pth) into a minicnn checkpoint.

    python examples/convert_torch_weights.py resnet18 resnet18-f37072fd.pth resnet18.minicnn
    python examples/convert_torch_weights.py googlenet googlenet.pth googlenet.minicnn --no-aux-logits

Reading the .pth needs torch (only here); the result loads without it:

    model = minicnn.models.resnet18()
    model.load_state_dict(minicnn.load("resnet18.minicnn"))

Steps: torch.load -> numpy arrays (convert_torch_state_dict) -> build the same minicnn architecture ->
load_torch_state_dict (checks every key and shape, with a clear error naming what does not fit) ->
a quick forward pass as a sanity check -> minicnn.save(model.state_dict(), output).
torchvision's released GoogLeNet weights carry no auxiliary heads: pass --no-aux-logits for them.
"""
from __future__ import annotations

import argparse

import numpy as np

import minicnn
from minicnn.models import get_model, list_models
from minicnn.models.torch_weights import convert_torch_state_dict, load_torch_state_dict


def read_torch_checkpoint(path: str) -> dict:
    """The checkpoint's state dict as numpy arrays (needs torch)."""
    try:
        import torch
    except ImportError as error:
        raise SystemExit("reading a .pth file needs PyTorch: pip install torch") from error
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    return convert_torch_state_dict(checkpoint)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=list_models(), help="architecture the weights belong to")
    parser.add_argument("checkpoint", help="PyTorch .pth file holding a state dict")
    parser.add_argument("output", help="where to write the minicnn checkpoint")
    parser.add_argument("--num-classes", type=int, default=1000)
    parser.add_argument("--no-aux-logits", action="store_true", help="GoogLeNet without its auxiliary heads")
    parser.add_argument("--input-size", type=int, default=224, help="image size of the sanity-check forward pass")
    args = parser.parse_args(argv)

    arrays = read_torch_checkpoint(args.checkpoint)
    kwargs = {"num_classes": args.num_classes}
    if args.model == "googlenet":
        kwargs["aux_logits"] = not args.no_aux_logits
        kwargs["init_weights"] = False
    model = get_model(args.model, **kwargs)
    try:
        load_torch_state_dict(model, arrays)
    except ValueError as error:  # missing / unexpected keys or shape mismatches, all listed
        raise SystemExit(f"{args.checkpoint} does not hold {args.model} weights:\n{error}") from None
    print(f"loaded {len(arrays)} tensors into {args.model} "
          f"({sum(p.numel() for p in model.parameters()):,} parameters)")

    model.eval()
    channels = 1 if args.model == "lenet5" else 3
    size = 32 if args.model.startswith("lenet") else args.input_size
    sample = minicnn.tensor(np.random.default_rng(0).standard_normal((1, channels, size, size)).astype(np.float32))
    with minicnn.no_grad():
        logits = model(sample)
    print(f"forward pass on a random {tuple(sample.shape)} input: logits {tuple(logits.shape)}")

    minicnn.save(model.state_dict(), args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
