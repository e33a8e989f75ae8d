"""``minicnn.simdevice.random``: random numbers drawn straight into device arrays, as ``cupy.random``.

``default_rng(seed)`` returns a ``Generator`` with the methods of CuPy's ``Generator`` only. CuPy's
has no ``normal``, ``permutation``, ``shuffle`` or ``choice``, so neither has this one: write
``mean + std * g.standard_normal(...)``, and shuffle indices with a host generator. The legacy
functions (``seed``, ``rand``, ``randn``, ``normal``, ``permutation``, ...) use one global state, as in CuPy.
"""
from __future__ import annotations

import numpy as np

from ._array import SimArray, unwrap, wrap

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _float_dtype(dtype, method):
    dtype = np.dtype(dtype)
    if dtype not in _FLOATS:
        raise TypeError(f"Generator.{method}: unsupported dtype {dtype.name} (float32 or float64)")
    return dtype


def _device(result):
    """NumPy returns python scalars when ``size`` is None; CuPy returns 0-d arrays."""
    return wrap(np.asarray(result))


def _write(result, out):
    if out is None:
        return _device(result)
    if type(out) is not SimArray:
        raise TypeError(f"out must be a minicnn.simdevice array, got {type(out).__name__}")
    out[...] = _device(result)
    return out


class Generator:
    """Device random numbers (``cupy.random.Generator``); a NumPy ``Generator`` underneath."""

    def __init__(self, bit_generator=None):
        self._rng = np.random.default_rng(bit_generator)

    def random(self, size=None, dtype=np.float64, out=None):
        """Uniform floats in [0, 1)."""
        return _write(self._rng.random(size, dtype=_float_dtype(dtype, "random")), out)

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        """Samples of N(0, 1)."""
        return _write(self._rng.standard_normal(size, dtype=_float_dtype(dtype, "standard_normal")), out)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        """Uniform floats in [low, high)."""
        low, high = unwrap(low, "Generator.uniform"), unwrap(high, "Generator.uniform")
        return _device(self._rng.uniform(low, high, size).astype(_float_dtype(dtype, "uniform"), copy=False))

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        """Integers in [low, high) (or [low, high] with ``endpoint``); [0, low) when ``high`` is None."""
        return _device(self._rng.integers(low, high, size=size, dtype=dtype, endpoint=endpoint))

    def standard_exponential(self, size=None, dtype=np.float64, method="inv", out=None):
        return _write(self._rng.standard_exponential(size, dtype=_float_dtype(dtype, "standard_exponential")), out)

    def exponential(self, scale=1.0, size=None):
        return _device(self._rng.exponential(unwrap(scale, "Generator.exponential"), size))

    def standard_gamma(self, shape, size=None, dtype=np.float64, out=None):
        shape = unwrap(shape, "Generator.standard_gamma")
        return _write(self._rng.standard_gamma(shape, size, dtype=_float_dtype(dtype, "standard_gamma")), out)

    def gamma(self, shape, scale=1.0, size=None):
        return _device(self._rng.gamma(unwrap(shape, "Generator.gamma"), unwrap(scale, "Generator.gamma"), size))

    def beta(self, a, b, size=None, dtype=np.float64):
        result = self._rng.beta(unwrap(a, "Generator.beta"), unwrap(b, "Generator.beta"), size)
        return _device(np.asarray(result).astype(_float_dtype(dtype, "beta"), copy=False))

    def binomial(self, n, p, size=None):
        return _device(self._rng.binomial(unwrap(n, "Generator.binomial"), unwrap(p, "Generator.binomial"), size))

    def poisson(self, lam=1.0, size=None):
        return _device(self._rng.poisson(unwrap(lam, "Generator.poisson"), size))

    def geometric(self, p, size=None):
        return _device(self._rng.geometric(unwrap(p, "Generator.geometric"), size))

    def __repr__(self):
        return "Generator(minicnn.simdevice)"


def default_rng(seed=None) -> Generator:
    """A new device Generator; the same seed gives the same numbers."""
    return Generator(seed)


class RandomState:
    """The legacy interface (``cupy.random.RandomState``) on a NumPy ``RandomState``."""

    _METHODS = frozenset(
        "rand randn random random_sample randint normal uniform standard_normal permutation choice "
        "beta binomial gamma poisson exponential standard_exponential".split()
    )

    def __init__(self, seed=None):
        self._state = np.random.RandomState(seed)

    def seed(self, seed=None):
        self._state.seed(seed)

    def shuffle(self, a):
        if type(a) is not SimArray:
            raise TypeError(f"shuffle: expected a minicnn.simdevice array, got {type(a).__name__}")
        self._state.shuffle(a._a)

    def __getattr__(self, name):
        if name not in RandomState._METHODS:
            raise AttributeError(f"RandomState has no method {name!r} in CuPy")
        method = getattr(self._state, name)

        def call(*args, **kwargs):
            dtype = kwargs.pop("dtype", None) if name not in ("randint",) else None
            result = method(*unwrap(args, name), **{k: unwrap(v, name) for k, v in kwargs.items()})
            result = np.asarray(result)
            return _device(result.astype(dtype, copy=False) if dtype is not None else result)

        return call


_global_state = RandomState()


def get_random_state() -> RandomState:
    return _global_state


def seed(seed=None) -> None:
    _global_state.seed(seed)


def shuffle(a) -> None:
    _global_state.shuffle(a)


def __getattr__(name):
    if name in RandomState._METHODS:
        return getattr(_global_state, name)
    raise AttributeError(f"module 'minicnn.simdevice.random' has no attribute {name!r} (CuPy does not provide it)")
