"""Image transforms: values against hand-computed results, torch parity for Resize, batch == per image."""
import numpy as np
import pytest

import minicnn
from minicnn.data import image_ops
from minicnn.data import transforms as T
from helpers import host, import_torch, rel_error


def float_images(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


# -- ToTensor / ToFloat / Normalize -------------------------------------------------------------------

def test_to_tensor_scales_uint8_and_moves_channels_first():
    hwc = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    chw = T.ToTensor()(hwc)
    assert isinstance(chw, minicnn.Tensor) and chw.device == "cpu"
    assert chw.dtype == np.float32 and chw.shape == (3, 2, 3)
    assert chw[1, 0, 2] == pytest.approx(hwc[0, 2, 1] / 255.0)
    assert np.allclose(chw, hwc.transpose(2, 0, 1) / 255.0)


def test_to_tensor_accepts_grayscale_and_batches():
    gray = np.full((4, 5), 255, dtype=np.uint8)
    assert T.ToTensor()(gray).shape == (1, 4, 5) and T.ToTensor()(gray).max() == 1.0
    batch = np.random.default_rng(0).integers(0, 256, (6, 4, 5, 3), dtype=np.uint8)
    out = T.ToTensor()(batch)
    assert out.shape == (6, 3, 4, 5)
    assert np.array_equal(out[2], T.ToTensor()(batch[2]))


def test_to_tensor_leaves_float_values_unscaled():
    hwc = float_images((4, 4, 3))
    assert np.array_equal(T.ToTensor()(hwc), hwc.transpose(2, 0, 1))


def test_to_float_scales_uint8_keeps_layout():
    chw = np.array([[[0, 51], [255, 102]]], dtype=np.uint8)
    out = T.ToFloat()(chw)
    assert out.dtype == np.float32 and np.allclose(out, [[[0.0, 0.2], [1.0, 0.4]]])
    assert T.ToFloat(np.float64)(chw.astype(np.float32)).dtype == np.float64


def test_normalize_matches_hand_computation():
    images = float_images((2, 3, 4, 4))
    mean, std = (0.5, 0.25, 0.1), (0.2, 0.5, 1.0)
    out = T.Normalize(mean, std)(images)
    for c in range(3):
        assert np.allclose(out[:, c], (images[:, c] - mean[c]) / std[c], atol=1e-6)
    assert out.dtype == np.float32


@pytest.mark.parametrize("bad, message", [
    (lambda: T.Normalize((0.5, 0.5), (0.2, 0.2))(float_images((3, 4, 4))), "channels"),
    (lambda: T.Normalize((0.5,), (0.0,)), "zeros"),
    (lambda: T.Normalize((0.5,), (0.2,))(np.zeros((4, 4, 3), np.uint8)), "ToTensor"),
    (lambda: T.RandomCrop(2)(np.zeros((4, 4), np.float32)), "ToTensor"),
    (lambda: T.ColorJitter(hue=0.6), "hue"),
])
def test_bad_input_raises_a_clear_error(bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        bad()


# -- flips and crops ---------------------------------------------------------------------------------

def test_flip_with_p_one_mirrors_and_p_zero_keeps():
    images = float_images((3, 2, 4, 5))
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(images), images[..., ::-1])
    assert np.array_equal(T.RandomVerticalFlip(p=1.0)(images), images[..., ::-1, :])
    assert np.array_equal(T.RandomHorizontalFlip(p=0.0)(images), images)


def test_flip_decides_per_image():
    images = float_images((64, 1, 3, 3))
    out = T.RandomHorizontalFlip()(images)
    flipped = np.array([np.array_equal(o, i[..., ::-1]) for o, i in zip(out, images)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(out, images)])
    assert np.all(flipped | kept) and flipped.any() and kept.any()


def test_random_crop_with_padding_equals_a_window_of_the_zero_padded_image():
    images = float_images((40, 2, 5, 6)) + 1.0  # > 0, so padding zeros are recognizable
    out = T.RandomCrop((4, 3), padding=2)(images)
    assert out.shape == (40, 2, 4, 3)
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = set()
    for n in range(len(images)):
        matches = [(t, l) for t in range(9 - 4 + 1) for l in range(10 - 3 + 1)
                   if np.array_equal(out[n], padded[n, :, t:t + 4, l:l + 3])]
        assert matches, f"crop {n} is no window of the padded image"
        offsets.update(matches)
    assert len(offsets) > 10  # offsets really vary per image


def test_random_crop_offsets_follow_the_generator_draws():
    images = float_images((5, 1, 6, 6))
    with T.using_generator(np.random.default_rng(7)):
        out = T.RandomCrop(4, padding=1)(images)
    draws = np.random.default_rng(7).random((5, 2))
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for n, (u, v) in enumerate(draws):
        top, left = int(u * 5), int(v * 5)  # 8 - 4 + 1 = 5 possible offsets per axis
        assert np.array_equal(out[n], padded[n, :, top:top + 4, left:left + 4])


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric"])
def test_random_crop_padding_modes_match_numpy_pad(mode):
    image = float_images((1, 3, 3))
    out = T.RandomCrop(7, padding=2, padding_mode=mode)(image)
    assert np.array_equal(out, np.pad(image, ((0, 0), (2, 2), (2, 2)), mode=mode))


def test_random_crop_pad_if_needed_and_too_small_error():
    image = float_images((1, 3, 3))
    assert T.RandomCrop(5, pad_if_needed=True)(image).shape == (1, 5, 5)
    with pytest.raises(ValueError, match="larger"):
        T.RandomCrop(5)(image)


def test_center_crop_matches_slicing_and_pads_small_images():
    image = float_images((2, 5, 6))
    # offsets are round((in - out) / 2) with round-half-to-even, as torchvision: 1 and round(1.5) = 2
    assert np.array_equal(T.CenterCrop(3)(image), image[:, 1:4, 2:5])
    assert np.array_equal(T.CenterCrop((4, 2))(image), image[:, 0:4, 2:4])
    big = T.CenterCrop(7)(image)
    assert big.shape == (2, 7, 7) and np.array_equal(big[:, 1:6, 0:6], image) and big[:, 0].sum() == 0


# -- resize and rotation -----------------------------------------------------------------------------

@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_resize_of_a_constant_image_stays_constant(interpolation):
    out = T.Resize((13, 29), interpolation)(np.full((3, 8, 8), 0.37, np.float32))
    assert out.shape == (3, 13, 29) and np.allclose(out, 0.37)


def test_resize_int_sets_the_shorter_side():
    assert T.Resize(10)(float_images((1, 20, 40))).shape == (1, 10, 20)
    assert T.Resize(10)(float_images((2, 1, 30, 15))).shape == (2, 1, 20, 10)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("size", [(32, 32), (5, 11), (3, 2)])
def test_resize_matches_torch_interpolate(interpolation, size):
    torch = import_torch()
    images = np.random.default_rng(1).random((2, 3, 8, 7))
    extra = {"align_corners": False} if interpolation == "bilinear" else {}
    expected = torch.nn.functional.interpolate(torch.tensor(images), size=size, mode=interpolation, **extra)
    assert rel_error(T.Resize(size, interpolation, antialias=False)(images), expected.numpy()) < 1e-12


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("angle, turns", [(90, 1), (-90, -1), (180, 2), (0, 0)])
def test_rotation_by_right_angles_equals_rot90(interpolation, angle, turns):
    images = float_images((2, 3, 6, 6))
    out = T.RandomRotation((angle, angle), interpolation=interpolation)(images)
    assert np.allclose(out, np.rot90(images, turns, axes=(-2, -1)), atol=1e-5)


def test_rotation_fills_corners_and_keeps_centre():
    image = np.ones((1, 9, 9), np.float32)
    out = T.RandomRotation((45, 45), fill=0.0)(image)
    assert out[0, 0, 0] == 0 and out[0, 4, 4] == 1 and out[0, 4, 0] == 1


# -- colour ------------------------------------------------------------------------------------------

def test_color_jitter_keeps_the_unit_range():
    images = float_images((16, 3, 5, 5))
    out = T.ColorJitter(brightness=0.9, contrast=0.9, saturation=0.9)(images)
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1 and not np.allclose(out, images)


def test_color_jitter_factors_match_hand_computation():
    images = float_images((2, 3, 4, 4)) * 0.5
    assert np.allclose(T.ColorJitter(brightness=(2, 2))(images), images * 2)
    gray = 0.2989 * images[:, 0] + 0.587 * images[:, 1] + 0.114 * images[:, 2]
    flat = T.ColorJitter(contrast=(0, 0))(images)
    assert np.allclose(flat, gray.mean(axis=(1, 2)).reshape(2, 1, 1, 1) * np.ones_like(images), atol=1e-6)
    desaturated = T.ColorJitter(saturation=(0, 0))(images)
    assert np.allclose(desaturated, np.repeat(gray[:, None], 3, axis=1), atol=1e-6)


# -- batches, randomness, composition ----------------------------------------------------------------

RANDOM_TRANSFORMS = [
    T.RandomCrop(6, padding=2), T.RandomHorizontalFlip(), T.RandomVerticalFlip(),
    T.RandomRotation(30, interpolation="bilinear"), T.ColorJitter(0.5, 0.5, 0.5),
    T.Compose([T.RandomCrop(6, padding=1), T.Normalize((0.5,) * 3, (0.2,) * 3)]),
]
DETERMINISTIC_TRANSFORMS = [T.Normalize((0.1, 0.2, 0.3), (1, 2, 3)), T.CenterCrop(4), T.Resize((9, 5)),
                            T.Resize(3, "nearest")]


@pytest.mark.parametrize("transform", RANDOM_TRANSFORMS + DETERMINISTIC_TRANSFORMS, ids=repr)
def test_a_batch_equals_its_images_one_by_one(transform):
    # Holds for each random transform alone; a Compose of several draws transform by transform.
    images = float_images((5, 3, 6, 6))
    with T.using_generator(np.random.default_rng(11)):
        batch = transform(images)
    with T.using_generator(np.random.default_rng(11)):
        singles = np.stack([transform(image) for image in images])
    assert np.allclose(batch, singles, atol=1e-6)


@pytest.mark.parametrize("transform", RANDOM_TRANSFORMS, ids=repr)
def test_random_transforms_are_reproducible_after_manual_seed(transform):
    images = float_images((8, 3, 6, 6))
    minicnn.manual_seed(5)
    first = transform(images)
    minicnn.manual_seed(5)
    assert np.array_equal(first, transform(images))


def test_compose_reports_whether_it_handles_batches():
    assert T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]).batched
    assert not T.Compose([T.ToTensor(), T.Lambda(lambda x: x)]).batched
    assert T.supports_batches(T.Lambda(lambda x: x, batched=True))


def test_pad_matches_numpy_pad_per_side():
    images = float_images((2, 1, 3, 4))
    out = image_ops.pad(images, 1, 2, 3, 4, fill=0.5)
    assert np.array_equal(out, np.pad(images, ((0, 0), (0, 0), (2, 4), (1, 3)), constant_values=0.5))


def test_transforms_accept_tensors_from_any_device(device):
    images = float_images((2, 3, 4, 4))
    normalize = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.2, 0.2))
    out = normalize(minicnn.tensor(images, device=device))
    assert isinstance(out, minicnn.Tensor) and out.device == device and np.array_equal(host(out), normalize(images))
    raw = (images * 255).astype(np.uint8).transpose(0, 2, 3, 1)
    assert np.array_equal(T.ToTensor()(minicnn.tensor(raw, device=device)), T.ToTensor()(raw))
