"""minicnn: a small, readable CNN engine on NumPy (CPU) and CuPy (GPU) with hand-written backward passes."""
from . import backend, engines
from .autograd import (
    Function,
    Tensor,
    bool_,
    enable_grad,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    is_grad_enabled,
    no_grad,
    set_default_dtype,
    set_grad_enabled,
    uint8,
)
from .device import device
from .size import Size
from . import functional, return_types
from .functional import cat, flatten, stack, where
from .gradcheck import GradcheckError, gradcheck
from .random import initial_seed, manual_seed
from .cpu import get_num_threads, set_num_threads  # torch's names for the process's CPU thread count
from .creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones, ones_like, rand,
    rand_like, randint, randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from .namespace import FUNCTIONS as _FUNCTIONS

globals().update(_FUNCTIONS)  # max, sum, eq, argmax, softmax, squeeze, add(out=), ...: see namespace.py
from .functional import relu, sigmoid, tanh  # noqa: E402

# torch's dtype names (they shadow the builtins inside this namespace only, as torch's do)
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
bool = bool_  # noqa: A001
uint8 = uint8

__version__ = "0.1.0"
from . import backends, cuda, data, models, nn, optim, utils
from . import ops  # the layers of torchvision.ops
from .serialization import load, save
from .summary import summary
from . import profiler
from . import viz
