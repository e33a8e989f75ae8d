"""minicnn.vision: torchvision's namespace; transforms on PIL images, raw uint8 arrays and tensor images."""
import numpy as np
import pytest
from PIL import Image

import minicnn
import minicnn.vision as torchvision
from minicnn.data.transforms_color import hsv_to_rgb, rgb_to_hsv
from minicnn.data.transforms_geometry import inverse_affine_matrix, perspective_coefficients, warp
from minicnn.vision import datasets, models, transforms as T, utils

from helpers import host, import_torch, rel_error


def rgb_image(height=20, width=24, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_the_namespace_has_torchvisions_modules():
    assert torchvision.datasets is datasets and torchvision.transforms.ToTensor is minicnn.data.transforms.ToTensor
    assert datasets.CIFAR10 is minicnn.data.CIFAR10 and callable(utils.make_grid) and callable(models.resnet18)


def test_a_pil_pipeline_before_to_tensor_gives_a_tensor():
    pipeline = T.Compose([T.Resize(16), T.CenterCrop(14), T.RandomRotation(10), T.ColorJitter(0.2, 0.2, 0.2, 0.1),
                          T.RandomGrayscale(0.5), T.RandomResizedCrop(12), T.RandomHorizontalFlip(),
                          T.RandomAffine(10, (0.1, 0.1), (0.9, 1.1), 5), T.RandomPerspective(), T.GaussianBlur(3),
                          T.ToTensor(), T.RandomErasing(p=1), T.Normalize((0.5,) * 3, (0.2,) * 3)])
    out = pipeline(rgb_image())
    assert isinstance(out, minicnn.Tensor) and out.shape == (3, 12, 12) and out.dtype == np.float32


@pytest.mark.parametrize("transform", [T.Resize((9, 7)), T.CenterCrop(10), T.Grayscale(3), T.Pad((1, 2), fill=7)],
                         ids=repr)
def test_a_raw_uint8_array_is_treated_as_the_pil_image_it_makes(transform):
    image = rgb_image()
    assert np.array_equal(transform(np.asarray(image)), np.asarray(transform(image)))


def test_pil_results_are_pillows_operations():
    image = rgb_image()
    assert np.array_equal(np.asarray(T.Resize((9, 7))(image)), np.asarray(image.resize((7, 9), Image.BILINEAR)))
    assert np.array_equal(np.asarray(T.Grayscale()(image)), np.asarray(image.convert("L")))
    assert np.array_equal(np.asarray(T.RandomRotation((30, 30))(image)), np.asarray(image.rotate(30)))


@pytest.mark.parametrize("size", [(7, 5), (13, 30), (3, 3)])
def test_tensor_resize_antialias_matches_torch_interpolate(size):
    torch = import_torch()
    images = np.random.default_rng(1).random((2, 3, 16, 12))
    expected = torch.nn.functional.interpolate(torch.tensor(images), size=size, mode="bilinear", antialias=True,
                                               align_corners=False)
    assert rel_error(T.Resize(size)(images), expected.numpy()) < 1e-12


def test_crops_choose_the_same_window_for_pil_images_and_tensor_images():
    image = rgb_image()
    for transform in (T.RandomCrop(9, padding=2), T.RandomResizedCrop(8, interpolation="nearest")):
        minicnn.manual_seed(3)
        from_pil = np.asarray(T.ToTensor()(transform(image)).array) if isinstance(transform, T.RandomCrop) else None
        minicnn.manual_seed(3)
        from_tensor = transform(T.ToTensor()(np.asarray(image)))
        if from_pil is not None:
            assert np.array_equal(from_pil, from_tensor)
        assert from_tensor.shape[1:] == transform.size


def test_random_resized_crop_windows_respect_scale_and_ratio():
    crop = T.RandomResizedCrop(8, scale=(0.2, 0.6), ratio=(0.5, 2.0))
    for top, left, h, w in crop._windows(200, 40, 50):
        assert 0 <= top <= 40 - h and 0 <= left <= 50 - w
        assert 0.2 * 2000 * 0.8 <= h * w <= 0.6 * 2000 * 1.25 and 0.4 <= w / h <= 2.5


def test_hsv_round_trip_and_hue_rotation_by_a_third_turns_red_into_green():
    images = np.random.default_rng(2).random((3, 3, 5, 5))
    assert np.allclose(hsv_to_rgb(rgb_to_hsv(images)), images, atol=1e-12)
    red = np.zeros((1, 3, 2, 2))
    red[:, 0] = 1.0
    green = T.ColorJitter(hue=(1 / 3, 1 / 3))(red)
    assert np.allclose(green[:, 1], 1) and np.allclose(green[:, [0, 2]], 0, atol=1e-12)
    pil_green = np.asarray(T.ColorJitter(hue=(1 / 3, 1 / 3))(Image.new("RGB", (2, 2), (255, 0, 0))))
    assert (pil_green[..., 1] > 240).all() and (pil_green[..., [0, 2]] < 15).all()


def test_color_jitter_applies_its_adjustments_in_a_random_order_per_image():
    jitter = T.ColorJitter(brightness=(2, 2), contrast=(0, 0))
    images = np.full((64, 1, 2, 2), 0.25) + np.arange(4).reshape(1, 1, 2, 2) * 0.1
    out = jitter(images)
    # brightness first then contrast: the mean of the brightened image; contrast first: 2 * mean.
    values = set(np.round(out[:, 0, 0, 0], 6))
    assert values == {round(min(1.0, 2 * images[0].mean()), 6), round(np.clip(2 * images[0], 0, 1).mean(), 6)}


def test_gaussian_blur_matches_a_torch_convolution_with_reflect_padding():
    torch = import_torch()
    images = np.random.default_rng(3).random((2, 3, 9, 8))
    out = T.GaussianBlur((5, 3), sigma=(1.3, 1.3))(images)
    x = np.linspace(-2, 2, 5)
    kx = np.exp(-0.5 * (x / 1.3) ** 2)
    y = np.linspace(-1, 1, 3)
    ky = np.exp(-0.5 * (y / 1.3) ** 2)
    kernel = torch.tensor(np.outer(ky / ky.sum(), kx / kx.sum())).expand(3, 1, 3, 5)
    padded = torch.nn.functional.pad(torch.tensor(images), (2, 2, 1, 1), mode="reflect")
    expected = torch.nn.functional.conv2d(padded, kernel, groups=3)
    assert rel_error(out, expected.numpy()) < 1e-12


def _theta(matrix, height, width):
    """Our pixel-coordinate inverse map as affine_grid's normalized theta."""
    m = np.array(matrix[:6]).reshape(2, 3)
    scale, centre = np.diag([width / 2, height / 2]), np.array([width / 2, height / 2])
    linear = np.linalg.inv(scale) @ m[:, :2] @ scale
    offset = np.linalg.inv(scale) @ (m[:, :2] @ centre + m[:, 2] - centre)
    return np.concatenate([linear, offset[:, None]], axis=1)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_warp_samples_like_grid_sample_with_torchvisions_fill_mask(interpolation):
    torch = import_torch()
    images = np.random.default_rng(4).random((1, 2, 7, 9))
    matrix = inverse_affine_matrix((4.5, 3.5), 23.0, (1, -2), 1.2, (8.0, -4.0)) + [0.0, 0.0]
    out = warp(images, np.array([matrix]), interpolation, fill=0.0)
    theta = torch.tensor(_theta(matrix, 7, 9))[None]
    grid = torch.nn.functional.affine_grid(theta, (1, 2, 7, 9), align_corners=False)
    sample = lambda x: torch.nn.functional.grid_sample(x, grid, mode=interpolation, align_corners=False)  # noqa: E731
    expected = sample(torch.tensor(images))
    if interpolation == "bilinear":  # torchvision multiplies by the warped mask of ones
        expected = expected * sample(torch.ones(1, 1, 7, 9, dtype=torch.float64))
    assert rel_error(out, expected.numpy()) < 1e-12


def test_identity_affine_and_perspective_leave_images_alone():
    images = np.random.default_rng(5).random((2, 3, 6, 5))
    assert np.allclose(T.RandomAffine(0)(images), images)
    assert np.array_equal(T.RandomPerspective(p=0)(images), images)
    image = rgb_image()
    assert np.array_equal(np.asarray(T.RandomAffine(0)(image)), np.asarray(image))


def test_perspective_coefficients_map_the_moved_corners_back():
    start = [[0, 0], [9, 0], [9, 7], [0, 7]]
    end = [[1, 2], [8, 0], [9, 6], [2, 7]]
    a, b, c, d, e, f, g, h = perspective_coefficients(start, end)
    for (x, y), (u, v) in zip(end, start):
        assert np.allclose([(a * x + b * y + c) / (g * x + h * y + 1), (d * x + e * y + f) / (g * x + h * y + 1)],
                           [u, v])


def test_random_erasing_overwrites_one_rectangle_and_refuses_pil_images():
    images = np.ones((8, 3, 20, 20))
    out = T.RandomErasing(p=1.0, value=0)(images)
    for image in out:
        rows, cols = np.nonzero(image[0] == 0)
        area = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert area == len(rows) and 0.02 * 400 * 0.5 <= area <= 0.33 * 400 * 1.5
    with pytest.raises(TypeError, match="RandomErasing"):
        T.RandomErasing()(rgb_image())


def test_to_pil_image_and_convert_image_dtype_follow_torchvisions_rounding():
    tensor = minicnn.tensor(np.array([[[0.0, 0.5], [0.999, 1.0]]], np.float32))
    assert np.asarray(T.ToPILImage()(tensor)).tolist() == [[0, 127], [254, 255]]
    assert host(T.ConvertImageDtype(np.uint8)(tensor)).tolist() == [[[0, 127], [255, 255]]]
    back = T.ConvertImageDtype(np.float32)(minicnn.tensor(np.array([0, 51, 255], np.uint8)))
    assert np.allclose(host(back), [0, 0.2, 1])


def test_uint8_tensor_images_come_back_as_uint8_tensors():
    pixels = minicnn.tensor(np.random.default_rng(6).integers(0, 256, (3, 8, 8)).astype(np.uint8))
    out = T.Resize((4, 4))(pixels)
    assert isinstance(out, minicnn.Tensor) and out.dtype == np.uint8 and out.shape == (3, 4, 4)


def test_random_apply_choice_and_order():
    add_one, double = T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 2)
    assert T.RandomApply([add_one], p=0.0)(1) == 1 and T.RandomApply([add_one, double], p=1.0)(1) == 4
    assert T.RandomChoice([add_one, double], p=[0, 1])(3) == 6
    assert {T.RandomOrder([add_one, double])(1) for _ in range(40)} == {3, 4}


def test_make_grid_places_images_with_padding():
    images = np.arange(3 * 1 * 2 * 2, dtype=np.float32).reshape(3, 1, 2, 2)
    grid = host(utils.make_grid(minicnn.tensor(images), nrow=2, padding=1, pad_value=-1))
    assert grid.shape == (3, 7, 7)
    assert np.array_equal(grid[0, 1:3, 1:3], images[0, 0]) and np.array_equal(grid[2, 1:3, 4:6], images[1, 0])
    assert np.array_equal(grid[0, 4:6, 1:3], images[2, 0]) and (grid[:, 4:6, 4:6] == -1).all()
    normalized = host(utils.make_grid([minicnn.tensor(images[0]), minicnn.tensor(images[1])], normalize=True))
    assert normalized.min() == 0 and normalized.max() == 1
    assert utils.make_grid(minicnn.tensor(images[:1])).shape == (3, 2, 2)


def test_save_image_writes_the_grid_scaled_to_bytes(tmp_path):
    images = np.random.default_rng(7).random((4, 3, 5, 5)).astype(np.float32)
    utils.save_image(minicnn.tensor(images), tmp_path / "grid.png", nrow=2)
    saved = np.asarray(Image.open(tmp_path / "grid.png"))
    grid = host(utils.make_grid(minicnn.tensor(images), nrow=2))
    assert np.array_equal(saved, np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0))


def test_models_take_weights_none_and_num_classes():
    model = models.resnet18(weights=None, num_classes=7)
    assert model.fc.out_features == 7
    assert models.get_model("alexnet", weights=None, num_classes=3).classifier[-1].out_features == 3


@pytest.mark.parametrize("builder, enum", [("resnet18", "ResNet18_Weights"), ("alexnet", "AlexNet_Weights"),
                                           ("mobilenet_v2", "MobileNet_V2_Weights")])
def test_weights_enums_carry_torchvisions_metadata(builder, enum):
    weights = getattr(models, enum).DEFAULT
    model = getattr(models, builder)(weights=None)
    assert weights.meta["num_params"] == sum(p.numel() for p in model.parameters())
    assert len(weights.meta["categories"]) == 1000 and weights.meta["categories"][0] == "tench"
    assert models.get_model_weights(builder) is getattr(models, enum)
    assert models.get_weight(f"{enum}.DEFAULT") is weights


def test_pretrained_weights_fail_with_the_offline_conversion_recipe():
    with pytest.raises(RuntimeError, match="convert_torch_weights.py resnet18 resnet18-f37072fd.pth"):
        models.resnet18(weights=models.ResNet18_Weights.IMAGENET1K_V1)
    with pytest.raises(RuntimeError, match="convert_torch_weights.py"), pytest.warns(UserWarning, match="pretrained"):
        models.resnet50(pretrained=True)
    with pytest.raises(RuntimeError, match="convert_torch_weights.py"):
        models.resnet18(weights="DEFAULT")
    with pytest.raises(ValueError, match="IMAGENET9"):
        models.resnet18(weights="IMAGENET9")


def test_weights_transforms_preprocess_a_pil_image():
    out = models.ResNet18_Weights.DEFAULT.transforms()(rgb_image(300, 260))
    assert isinstance(out, minicnn.Tensor) and out.shape == (3, 224, 224)


def test_cudnn_flags_exist_and_are_settable():
    cudnn = minicnn.backends.cudnn
    assert cudnn.enabled is True and cudnn.benchmark is False and cudnn.deterministic is False
    cudnn.benchmark = True
    try:
        assert minicnn.backends.cudnn.benchmark is True
    finally:
        cudnn.benchmark = False
    assert isinstance(cudnn.is_available(), bool)
