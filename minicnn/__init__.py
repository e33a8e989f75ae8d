"""minicnn: a small, readable CNN engine on NumPy (CPU) and CuPy (GPU) with hand-written backward passes."""
from . import backend, engines
from .autograd import (
    Function,
    Tensor,
    bool_,
    enable_grad,
    float32,
    float64,
    int32,
    int64,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    uint8,
)
from . import functional
from .functional import cat, flatten, stack, where
from .gradcheck import GradcheckError, gradcheck
from .random import manual_seed
from .creation import arange, empty, from_numpy, full, ones, ones_like, rand, randint, randn, tensor, zeros, zeros_like

__version__ = "0.1.0"
from . import cuda, data, models, nn, optim
from .serialization import load, save
from .summary import summary
