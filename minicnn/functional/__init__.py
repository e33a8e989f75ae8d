"""Differentiable functions, with the names, argument order and defaults of ``torch.nn.functional``.

Each module (or package: ``conv/``, ``pool/``) holds one family of operations: the functions users call
and their Function subclasses, whose forward and backward on raw arrays are the reference algorithm,
with the math beside the code. Faster ways to the same numbers are engines, each family's in its
``engines`` package or ``*_engines.py`` module; ``minicnn.engines.reference_only()`` switches them off.
"""
from .cast import cast
from .elementwise import abs, add, clamp, clip, div, exp, log, matmul, mul, neg, pow, sqrt, sub, where
from .reduce import amax, amin, argmax, argmin, mean, sum
from .shape import cat, flatten, getitem, pad, permute, reshape, squeeze, stack, transpose, unsqueeze, view
from .activation import *  # noqa: F401,F403 - each module lists its public names in __all__
from .activation_gated import *  # noqa: F401,F403
from .channel_shuffle import *  # noqa: F401,F403
from .local_response_norm import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .activation_extra import *  # noqa: F401,F403
from .conv_transpose import *  # noqa: F401,F403
from .interpolate import *  # noqa: F401,F403
from .layers_extra import *  # noqa: F401,F403
from .loss_extra import *  # noqa: F401,F403
from .norm_extra import *  # noqa: F401,F403
from .padding import pad  # noqa: F811 - every mode of torch's F.pad (shape.pad is its constant mode)
from . import tensor_methods as _tensor_methods

_tensor_methods.install()
