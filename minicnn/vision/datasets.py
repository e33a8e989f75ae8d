"""``minicnn.vision.datasets``: the datasets of ``minicnn.data`` under torchvision's names."""
from ..data import CIFAR10, MNIST, FashionMNIST, ImageFolder

__all__ = ["CIFAR10", "MNIST", "FashionMNIST", "ImageFolder"]
