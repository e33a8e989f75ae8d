"""``minicnn.utils.data``: torch.utils.data's names, served by the one implementation in ``minicnn.data``.

    from minicnn.utils.data import DataLoader, Dataset, TensorDataset, random_split
"""
from ...data.dataloader import DataLoader, default_collate, default_convert
from ...data.dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from ...data.samplers import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                              WeightedRandomSampler)
from ...data.worker import WorkerInfo, get_worker_info

__all__ = [
    "DataLoader", "default_collate", "default_convert", "Dataset", "IterableDataset", "TensorDataset", "Subset",
    "ConcatDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler", "get_worker_info", "WorkerInfo",
]
