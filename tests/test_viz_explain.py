"""minicnn.viz explanations: feature maps, filters, saliency and Grad-CAM (against torch), gradient flow."""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
import minicnn.nn as nn
from minicnn import viz
from minicnn.viz.explain import _bilinear

from helpers import import_torch, rel_error


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        return self.fc(minicnn.flatten(self.pool(self.features(x)), 1))


def _torch_copy(torch, model):
    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                                                torch.nn.Conv2d(4, 5, 3), torch.nn.ReLU())
            self.pool = torch.nn.AdaptiveAvgPool2d(1)
            self.fc = torch.nn.Linear(5, 3)

        def forward(self, x):
            return self.fc(torch.flatten(self.pool(self.features(x)), 1))

    theirs = TorchNet().double()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    return theirs


@pytest.fixture
def model_and_input():
    model = SmallNet().double()
    return model, np.random.default_rng(0).standard_normal((2, 3, 8, 8))


def test_feature_maps_are_the_layers_output(model_and_input, tmp_path):
    model, x = model_and_input
    maps = viz.feature_maps(model, x, "features.1", save=tmp_path / "maps.png")
    expected = model.features[1](model.features[0](minicnn.tensor(x))).detach().numpy()
    np.testing.assert_allclose(maps, expected)
    assert (tmp_path / "maps.png").read_bytes()[:4] == b"\x89PNG"


def test_filters_are_a_grid_of_each_kernel_scaled_to_unit_range(model_and_input, tmp_path):
    model, _ = model_and_input
    grid = viz.filters(model.features[0], save=tmp_path / "f.png")
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1, 3)  # 4 kernels of 3x3, 3 colours, 2x2 with 1 pixel between
    kernel = model.features[0].weight.detach().numpy()[0].transpose(1, 2, 0)
    np.testing.assert_allclose(grid[:3, :3], (kernel - kernel.min()) / (kernel.max() - kernel.min()))
    assert (tmp_path / "f.png").exists()


def test_saliency_is_the_input_gradient_of_the_target_score_as_torch_computes_it(model_and_input, tmp_path):
    torch = import_torch()
    model, x = model_and_input
    maps = viz.saliency(model, x, target=[2, 0], save=tmp_path / "s.png")
    theirs = _torch_copy(torch, model).eval()
    inputs = torch.tensor(x, requires_grad=True)
    scores = theirs(inputs)
    (scores[0, 2] + scores[1, 0]).backward()
    assert rel_error(maps, inputs.grad.abs().amax(dim=1).numpy()) < 1e-10
    assert all(parameter.grad is None for parameter in model.parameters())  # parameters left alone


def test_grad_cam_matches_torch_hooks_on_the_same_weights(model_and_input, tmp_path):
    torch = import_torch()
    model, x = model_and_input
    cams = viz.grad_cam(model, x, target=2, layer="features", save=tmp_path / "cam.png")
    theirs = _torch_copy(torch, model).eval()
    kept = {}

    def keep(module, args, out):
        kept["a"] = out
        out.register_hook(lambda grad: kept.__setitem__("g", grad))

    theirs.features.register_forward_hook(keep)
    theirs(torch.tensor(x))[:, 2].sum().backward()
    cam = torch.relu((kept["g"].mean(dim=(2, 3), keepdim=True) * kept["a"]).sum(dim=1, keepdim=True))
    cam = torch.nn.functional.interpolate(cam, size=(8, 8), mode="bilinear", align_corners=False)[:, 0]
    low = cam.amin(dim=(1, 2), keepdim=True)
    cam = ((cam - low) / (cam.amax(dim=(1, 2), keepdim=True) - low)).detach().numpy()
    assert cams.shape == (2, 8, 8) and cams.min() >= 0
    np.testing.assert_array_equal(cams.max(axis=(1, 2)), [1, 1])  # not all zero: a map worth comparing
    assert rel_error(cams, cam) < 1e-10
    assert (tmp_path / "cam.png").read_bytes()[:4] == b"\x89PNG"


def test_bilinear_upsampling_matches_torch_interpolate():
    torch = import_torch()
    maps = np.random.default_rng(1).standard_normal((2, 3, 5))
    expected = torch.nn.functional.interpolate(torch.from_numpy(maps)[:, None], size=(7, 11), mode="bilinear",
                                               align_corners=False)[:, 0].numpy()
    assert rel_error(_bilinear(maps, 7, 11), expected) < 1e-12


def test_gradient_flow_reports_mean_and_max_abs_grad_per_weight(model_and_input, tmp_path):
    model, x = model_and_input
    F.cross_entropy(model(minicnn.tensor(x)), minicnn.tensor([0, 1])).backward()
    names, means, maxes = viz.gradient_flow(model, save=tmp_path / "flow.png")
    assert names == ["features.0.weight", "features.2.weight", "fc.weight"]
    grad = np.abs(model.fc.weight.grad.numpy())
    assert means[2] == pytest.approx(grad.mean()) and maxes[2] == pytest.approx(grad.max())
    assert (tmp_path / "flow.png").exists()


def test_explanations_report_bad_arguments(model_and_input):
    model, x = model_and_input
    with pytest.raises(ValueError, match="backward"):
        viz.gradient_flow(SmallNet())
    with pytest.raises(ValueError, match="outside"):
        viz.saliency(model, x, target=7)
    with pytest.raises(ValueError, match=r"\(N, C, h, w\)"):
        viz.grad_cam(model, x, target=0, layer="fc")
