"""``minicnn.vision``: torchvision's layout over minicnn's datasets, transforms and models.

    import minicnn.vision as torchvision
    from minicnn.vision import datasets, models, transforms, utils

``transforms`` is ``minicnn.data.transforms`` (PIL images, raw uint8 arrays and tensor images, before
or after ``ToTensor``); ``datasets`` holds MNIST, FashionMNIST, CIFAR10 and ImageFolder; ``models``
builds the zoo with torchvision's ``weights=`` / ``*_Weights`` interface; ``utils`` has
``make_grid`` and ``save_image``.
"""
from . import datasets, models, transforms, utils

__version__ = "0.28.0"
__all__ = ["datasets", "models", "transforms", "utils"]
