"""The later classic nets against torchvision's: equal state_dict keys, shapes and parameter counts; with
torchvision's (random) weights copied over, equal float32 logits in eval and train mode (and running
statistics), equal float64 gradients for every parameter and equal logits after one SGD step. Big models'
numeric checks are slow tests."""
import numpy as np
import pytest

import minicnn
from minicnn.models import get_model, load_torch_state_dict
from helpers import (big_model, big_model_test, host, import_torch, import_torchvision, parity_tolerance,
                     rel_error)
from zoo_parity import (FAST_FULL_SIZE, SMALL_VARIANTS, TORCHVISION_MODELS, float32_logit_errors, float64_gradient_errors,
                        torchvision_model)

# float64 gradients: 1e-9 relative (rounding compounds over 100+ layers; most land near 1e-12)
GRADIENT_TOLERANCE = 1e-9
# Logits after one SGD step: late BatchNorms normalise three values per channel on 1x1 maps, which
# amplifies the 1e-12 differences the step leaves in the weights by up to ~1e6.
STEP_TOLERANCE = 1e-4


def numeric_cases():
    """The small variants in the default suite, the full-size torchvision nets (but the smallest) slow."""
    return list(SMALL_VARIANTS) + [name if name in FAST_FULL_SIZE else pytest.param(name, marks=big_model)
                                   for name in TORCHVISION_MODELS]


# the widest variants of a family are built only with the big-model tests (their init alone takes seconds)
WIDE_VARIANTS = ("densenet161", "densenet169", "densenet201", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0")


@pytest.mark.parametrize("name", [pytest.param(name, marks=big_model) if name in WIDE_VARIANTS else name
                                  for name in TORCHVISION_MODELS])
def test_state_dict_keys_shapes_and_parameter_count_equal_torchvisions(name):
    torchvision = import_torchvision()
    _, kwargs = TORCHVISION_MODELS[name]
    reference = torchvision_model(torchvision, name)  # 1000 classes, aux head included for inception_v3
    model = get_model(name)
    expected = {key: tuple(value.shape) for key, value in reference.state_dict().items()}
    actual = {key: tuple(value.shape) for key, value in model.state_dict(keep_vars=True).items()}
    assert list(actual) == list(expected)
    assert actual == expected
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in reference.parameters())


@pytest.mark.parametrize("name", numeric_cases())
def test_float32_logits_and_running_statistics_match_torchvision_in_eval_and_train_mode(name, device):
    torchvision = import_torchvision()
    errors = float32_logit_errors(torchvision, name, device)
    tolerance = parity_tolerance(np.float32)
    assert all(error < tolerance for error in errors.values()), errors


@pytest.mark.parametrize("name", numeric_cases())
def test_float64_gradients_of_every_parameter_and_the_next_step_match_torchvision(name, device):
    torchvision = import_torchvision()
    errors, step_error = float64_gradient_errors(torchvision, name, device)
    worst = max(errors, key=errors.get)
    assert errors[worst] < GRADIENT_TOLERANCE, f"{worst}: relative error {errors[worst]:.2e}"
    assert step_error < STEP_TOLERANCE


@big_model_test
def test_inception_v3_with_its_aux_head_and_transform_input_matches_torchvision_at_299():
    # float64: the aux head's classifier starts at std 0.001, so its logits are small sums with much
    # cancellation, and float32 rounding alone is ~1e-4 of them
    torch = import_torch()
    torchvision = import_torchvision()
    reference = torchvision_model(torchvision, "inception_v3", num_classes=10, transform_input=True).double()
    model = get_model("inception_v3", num_classes=10, transform_input=True)
    load_torch_state_dict(model, reference.state_dict())
    model.double()
    reference.dropout.p = model.dropout.p = 0.0
    images = np.random.default_rng(3).standard_normal((2, 3, 299, 299))
    reference.train()
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        expected = reference(torch.tensor(images))
    finally:
        torch.set_num_threads(threads)
    outputs = model(minicnn.tensor(images))
    assert type(outputs).__name__ == "InceptionOutputs" and outputs._fields == expected._fields
    for ours, theirs in zip(outputs, expected):
        assert rel_error(host(ours), theirs.detach().numpy()) < 1e-9
