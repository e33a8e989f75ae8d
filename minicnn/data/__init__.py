"""Datasets, the DataLoader, image transforms and downloads (all host-side numpy).

Conventions: datasets keep raw images as uint8 (N, H, W, C) in ``data`` and int64 labels in
``targets``; ``ds[i]`` is ``(transform(image), label)`` with the default transform ``ToTensor()``
giving float32 (C, H, W) in [0, 1]. ``DataLoader`` yields ``(images, labels)`` Tensors,
float32 (N, C, H, W) and int64 (N,), on the host unless ``device=`` is given.

    from minicnn.data import DataLoader, Digits, transforms as T
    train = Digits(train=True, size=32)
    loader = DataLoader(train, batch_size=64, shuffle=True, transform=T.RandomCrop(32, padding=2))
    for images, labels in loader: ...
"""
from . import transforms
from .cifar import CIFAR10
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import (ArrayImageDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset,
                      random_split)
from .samplers import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                       WeightedRandomSampler)
from .worker import WorkerInfo, get_worker_info
from .digits import Digits
from .distributed_sampler import DistributedSampler
from .download import ChecksumError, DownloadError, default_data_dir, download_url, extract_archive
from .image_folder import ImageFolder
from .mnist import MNIST, FashionMNIST
from .synthetic import SyntheticImages

__all__ = [
    "transforms", "Dataset", "IterableDataset", "TensorDataset", "ArrayImageDataset", "Subset", "ConcatDataset", "random_split",
    "DataLoader", "DistributedSampler", "default_collate", "default_convert", "Sampler", "SequentialSampler", "RandomSampler",
    "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "get_worker_info", "WorkerInfo", "MNIST", "FashionMNIST", "CIFAR10", "ImageFolder", "Digits",
    "SyntheticImages", "download_url", "extract_archive", "default_data_dir", "DownloadError", "ChecksumError",
]
