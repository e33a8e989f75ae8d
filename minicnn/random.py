"""One seed for everything random: initialization, dropout masks and data shuffling.

``manual_seed(seed)`` resets a host generator (used for parameter initialization and shuffling) and
forgets the per-device generators, which are then re-derived from the same seed on first use. So two
runs that call ``manual_seed`` with the same seed draw the same numbers in the same order.
"""
from __future__ import annotations

import copy

import numpy as np

from . import backend

_seed: int | None = None
_host_generator = np.random.default_rng()
_device_generators: dict = {}


def manual_seed(seed: int) -> None:
    """Seed every random number generator minicnn uses."""
    global _seed, _host_generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__}")
    _seed = int(seed)
    _host_generator = np.random.default_rng(_seed)
    _device_generators.clear()


def initial_seed() -> int | None:
    return _seed


def get_rng_state() -> dict:
    """A copy of the host generator's state (plain python values), for checkpoints that resume exactly."""
    return {"seed": _seed, "host": copy.deepcopy(_host_generator.bit_generator.state)}


def set_rng_state(state: dict) -> None:
    """Restore a state from ``get_rng_state``: the host generator continues where it was saved."""
    global _seed
    generator_state = state["host"]
    if generator_state.get("bit_generator") != type(_host_generator.bit_generator).__name__:
        raise ValueError(
            f"set_rng_state: the state is for a {generator_state.get('bit_generator')!r} generator, "
            f"this one is {type(_host_generator.bit_generator).__name__!r}"
        )
    _host_generator.bit_generator.state = copy.deepcopy(generator_state)
    _seed = state.get("seed")


def host_generator() -> np.random.Generator:
    """The numpy Generator behind initialization and shuffling."""
    return _host_generator


def generator_for(device):
    """A generator that draws arrays directly on ``device`` (numpy's on cpu, cupy's on cuda)."""
    device = backend.normalize_device(device)
    if device == "cpu":
        return _host_generator
    if device not in _device_generators:
        # A seed drawn from the host generator keeps device streams reproducible after manual_seed.
        seed = int(_host_generator.integers(0, 2**63 - 1))
        xp = backend.array_module_for(device)
        with backend.device_scope(device):  # a CuPy generator keeps its state on the GPU current at creation
            _device_generators[device] = xp.random.default_rng(seed)
    return _device_generators[device]
