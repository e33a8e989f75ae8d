"""Building a model by name for a given input, and checking that it can take that input before training."""
from __future__ import annotations

import inspect
import typing

import numpy as np

from .. import models
from ..autograd import Tensor, no_grad
from .errors import UsageError


def known_models() -> list[str]:
    return sorted(models.list_models())


def model_kwargs(name: str, num_classes: int, in_channels: int, image_size: int) -> dict:
    """The keyword arguments ``models.get_model(name, ...)`` takes for this input.

    Only the arguments the model's factory accepts are passed (``lenet`` has no ``in_channels``, for
    instance); a ResNet gets its CIFAR stem (3x3 convolution, no max-pool) for images of 64 pixels or less.
    """
    if name not in known_models():
        raise UsageError(f"unknown model {name!r}; known models: {', '.join(known_models())}")
    wanted = {"num_classes": num_classes, "in_channels": in_channels, "input_size": image_size,
              "cifar": image_size <= 64}
    accepted = _accepted_arguments(getattr(models, name))
    return {key: value for key, value in wanted.items() if key in accepted or key == "num_classes"}


def _accepted_arguments(factory) -> set:
    """The keyword arguments a model builder takes: its own, plus its model class's when it passes
    ``**kwargs`` on (``resnet18(num_classes, **kwargs) -> ResNet``)."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return set()
    accepted = {name for name, p in parameters.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    if len(accepted) < len(parameters):
        try:
            model_class = typing.get_type_hints(factory).get("return")
            accepted |= set(inspect.signature(model_class.__init__).parameters) - {"self", "kwargs"}
        except Exception:  # no usable return annotation: pass only what the builder names
            pass
    return accepted


def build_model(name: str, kwargs: dict):
    if name not in known_models():
        raise UsageError(f"unknown model {name!r}; known models: {', '.join(known_models())}")
    try:
        return models.get_model(name, **kwargs)
    except (TypeError, ValueError) as error:
        raise UsageError(f"cannot build model {name!r} with {kwargs}: {error}") from None


def check_input_shape(model, name: str, input_shape) -> None:
    """Run one dummy image through ``model`` so a size or channel mismatch is reported before training."""
    dummy = Tensor(np.zeros((1, *input_shape), dtype=np.float32))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(dummy)
    except (ValueError, TypeError, IndexError) as error:
        shape = "x".join(str(size) for size in input_shape)
        raise UsageError(f"model {name!r} cannot take {shape} (channels x height x width) images: {error}") from None
    finally:
        model.train(was_training)
