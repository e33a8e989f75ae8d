"""MNIST and Fashion-MNIST from their IDX files (gzipped or not).

The files keep their published names (``train-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte`` ...)
and are looked for in ``root`` itself and in ``root/<DatasetName>/raw`` (torchvision's layout), so a
directory holding only the t10k files serves ``train=False``. IDX format: two zero bytes, a type byte
(0x08 = uint8), the number of dimensions, then each dimension as a big-endian int32, then the values.
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from .dataset import ArrayImageDataset
from .download import default_data_dir, download_from_mirrors

__all__ = ["read_idx", "MNIST", "FashionMNIST"]

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzip detected by its magic bytes) into a numpy array, checking its header."""
    path = Path(path)
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:  # a bad header, a cut-off end, corrupt deflate data
            raise ValueError(f"read_idx: {path} is a damaged gzip file ({type(error).__name__}: {error})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"read_idx: {path} has a truncated header ({len(raw)} bytes for {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"read_idx: {path} should hold {expected} bytes for shape {shape}, "
                         f"but holds {len(raw)} (truncated or corrupt)")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


class MNIST(ArrayImageDataset):
    """The MNIST digits: 60,000 training and 10,000 test images, (28, 28, 1) uint8, labels 0..9.

    ``ds[i]`` is ``(transform(image), label)``; the default transform gives float32 (1, 28, 28) in [0, 1].
    ``root`` defaults to ``default_data_dir()/<ClassName>``. ``download=True`` fetches the missing files
    of the requested split from the mirrors below and checks their md5.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = [f"{digit} - {name}" for digit, name in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])]

    def __init__(self, root=None, train: bool = True, transform=None, download: bool = False):
        self.root = Path(root) if root is not None else default_data_dir() / type(self).__name__
        self.train = train
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        if download:
            for name in names:
                if self._find(name) is None:
                    gz = name + ".gz"
                    download_from_mirrors([m + gz for m in self.mirrors], self.root, gz, md5=self.resources[gz])
        paths = [self._find(name) for name in names]
        missing = [name for name, path in zip(names, paths) if path is None]
        if missing:
            raise FileNotFoundError(
                f"{type(self).__name__}: {', '.join(missing)} (or .gz) not found in {self.root} or "
                f"{self.root / type(self).__name__ / 'raw'}; pass download=True to fetch it")
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{type(self).__name__}: {paths[0]} should hold uint8 images (N, H, W), "
                             f"got {images.dtype} of shape {images.shape}")
        if labels.shape != (len(images),):
            raise ValueError(f"{type(self).__name__}: {paths[0]} holds {len(images)} images but {paths[1]} "
                             f"holds labels of shape {labels.shape}")
        if len(labels) and labels.max() >= len(self.classes):
            raise ValueError(f"{type(self).__name__}: {paths[1]} holds label {labels.max()}, "
                             f"expected 0..{len(self.classes) - 1}")
        super().__init__(images[..., None], labels.astype(np.int64), transform)

    def _find(self, name: str):
        for folder in (self.root, self.root / type(self).__name__ / "raw"):
            for candidate in (folder / name, folder / (name + ".gz")):
                if candidate.is_file():
                    return candidate
        return None


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: the same format and sizes as MNIST, ten kinds of clothing."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
