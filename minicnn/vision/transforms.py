"""``minicnn.vision.transforms``: torchvision.transforms' names, from the one implementation in
``minicnn.data.transforms``."""
from ..data.transforms import *  # noqa: F401,F403 - the module lists its public names in __all__
from ..data.transforms import __all__  # noqa: F401
