"""Datasets and the DataLoader: readers on small files made here, splits, batching, order, resuming."""
import gzip
import threading
from pathlib import Path

import numpy as np
import pytest

import minicnn
from minicnn.data import (CIFAR10, MNIST, ConcatDataset, DataLoader, Dataset, Digits, FashionMNIST, ImageFolder,
                          Subset, SyntheticImages, TensorDataset, random_split)
from minicnn.data import transforms as T
from minicnn.data.mnist import read_idx
from helpers import host

SHARED_MNIST = Path("/work/shared/data/mnist")


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_mnist(folder: Path, prefix: str, count: int, compress: bool, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, count).astype(np.uint8)
    for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx_bytes(array)
        if compress:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return images, labels


# -- MNIST -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("train", [True, False])
def test_mnist_reads_idx_files(tmp_path, compress, train):
    images, labels = write_mnist(tmp_path, "train" if train else "t10k", 7, compress)
    ds = MNIST(tmp_path, train=train)
    assert len(ds) == 7 and ds.data.shape == (7, 28, 28, 1) and ds.targets.dtype == np.int64
    image, label = ds[3]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32 and label == labels[3]
    assert np.allclose(image[0], images[3] / 255.0)


def test_mnist_finds_the_torchvision_layout_and_fashion_mnist(tmp_path):
    write_mnist(tmp_path / "FashionMNIST" / "raw", "t10k", 3, True)
    ds = FashionMNIST(tmp_path, train=False)
    assert len(ds) == 3 and ds.classes[9] == "Ankle boot"
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        FashionMNIST(tmp_path, train=True)


@pytest.mark.parametrize("damage, message", [
    (lambda data: b"\x08\x03" + data[2:], "not an IDX file"),
    (lambda data: data[:-5], "truncated or corrupt"),
    (lambda data: data[:6], "truncated header"),
    (lambda data: gzip.compress(data)[:-20], "damaged gzip"),
])
def test_corrupt_idx_file_names_the_file(tmp_path, damage, message):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(damage(idx_bytes(np.zeros((2, 28, 28), np.uint8))))
    with pytest.raises(ValueError, match=message) as error:
        read_idx(path)
    assert str(path) in str(error.value)


def test_mnist_rejects_mismatched_image_and_label_counts(tmp_path):
    write_mnist(tmp_path, "t10k", 4, False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(ValueError, match="4 images"):
        MNIST(tmp_path, train=False)


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="the shared MNIST test set is not on this machine")
def test_real_mnist_test_set():
    ds = MNIST(SHARED_MNIST, train=False)
    counts = np.bincount(ds.targets, minlength=10)
    assert len(ds) == 10_000 and ds.targets[0] == 7 and counts.min() > 800 and counts.max() < 1200
    image = ds[0][0]
    assert image.shape == (1, 28, 28) and 0.05 < image.mean() < 0.3
    train, evaluation = Subset(ds, range(8000)), Subset(ds, range(8000, 10_000))
    assert len(train) == 8000 and len(evaluation) == 2000 and evaluation[0][1] == ds.targets[8000]


# -- CIFAR10 -----------------------------------------------------------------------------------------

def write_cifar_batch(path: Path, labels, seed):
    images = np.random.default_rng(seed).integers(0, 256, (len(labels), 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None], images.reshape(len(labels), -1)], axis=1)
    path.write_bytes(records.tobytes())
    return images


def test_cifar10_reads_binary_records(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    train_images = [write_cifar_batch(folder / f"data_batch_{i}.bin", [i, 9 - i], seed=i) for i in range(1, 6)]
    test_images = write_cifar_batch(folder / "test_batch.bin", [3, 1, 4], seed=0)
    train, test = CIFAR10(tmp_path, train=True), CIFAR10(folder, train=False)
    assert len(train) == 10 and len(test) == 3
    assert list(train.targets[:4]) == [1, 8, 2, 7] and list(test.targets) == [3, 1, 4]
    # record layout: red plane, green plane, blue plane; the dataset keeps (H, W, C)
    assert np.array_equal(train.data[2], train_images[1][0].transpose(1, 2, 0))
    image, label = test[1]
    assert image.shape == (3, 32, 32) and label == 1 and np.allclose(image, test_images[1] / 255.0)


def test_cifar10_rejects_a_truncated_file(tmp_path):
    write_cifar_batch(tmp_path / "test_batch.bin", [1, 2], seed=0)
    path = tmp_path / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="test_batch.bin"):
        CIFAR10(tmp_path, train=False)


# -- ImageFolder -------------------------------------------------------------------------------------

@pytest.fixture
def image_tree(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    for name, count, extension in (("dog", 2, ".jpg"), ("cat", 3, ".png")):
        (tmp_path / name).mkdir()
        for i in range(count):
            pixels = rng.integers(0, 256, (6 + i, 8, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}{extension}")
    return tmp_path


def test_image_folder_classes_samples_and_images(image_tree):
    ds = ImageFolder(image_tree)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 5 and list(ds.targets) == [0, 0, 0, 1, 1]
    image, label = ds[1]
    assert image.shape == (3, 7, 8) and image.dtype == np.float32 and label == 0
    from PIL import Image
    assert np.allclose(image, np.asarray(Image.open(image_tree / "cat" / "1.png")).transpose(2, 0, 1) / 255.0)


def test_image_folder_resizes_converts_and_preloads(image_tree):
    lazy = ImageFolder(image_tree, image_size=(5, 4), mode="L")
    assert lazy[0][0].shape == (1, 5, 4) and lazy[4][0].shape == (1, 5, 4)
    preloaded = ImageFolder(image_tree, image_size=(5, 4), mode="L", preload=True)
    images, labels = preloaded.get_batch([4, 0, 2])
    assert np.array_equal(images, np.stack([lazy[i][0] for i in (4, 0, 2)])) and list(labels) == [1, 0, 0]
    with pytest.raises(ValueError, match="one size"):
        ImageFolder(image_tree, preload=True)


def test_image_folder_errors_name_the_problem(image_tree):
    (image_tree / "cat" / "broken.png").write_bytes(b"not an image")
    ds = ImageFolder(image_tree)
    broken = [path.name for path, _ in ds.samples].index("broken.png")
    with pytest.raises(ValueError, match="broken.png"):
        ds[broken]
    (image_tree / "emu").mkdir()
    with pytest.raises(FileNotFoundError, match="emu"):
        ImageFolder(image_tree)


# -- Digits and SyntheticImages ----------------------------------------------------------------------

def test_digits_split_is_disjoint_complete_stable_and_stratified():
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797 and abs(len(test) - 0.2 * 1797) < 10
    assert not set(train.indices) & set(test.indices)
    assert np.array_equal(Digits(train=False).indices, test.indices)
    assert not np.array_equal(Digits(train=False, seed=1).indices, test.indices)
    assert np.all(np.abs(np.bincount(test.targets) - 0.2 * np.bincount(train.targets) / 0.8) <= 1.5)


@pytest.mark.parametrize("size, channels", [(8, 1), (32, 1), (28, 3)])
def test_digits_images_have_the_requested_size_and_range(size, channels):
    ds = Digits(train=False, size=size, channels=channels)
    image, label = ds[0]
    assert image.shape == (channels, size, size) and image.dtype == np.float32
    assert 0 <= ds.targets.min() and ds.targets.max() == 9 and 0 <= label <= 9
    assert image.min() >= 0 and ds.data.max() == 255


def test_synthetic_images_are_balanced_reproducible_and_learnable():
    ds = SyntheticImages(200, image_shape=(3, 8, 8), num_classes=4, seed=3)
    assert ds[0][0].shape == (3, 8, 8) and np.array_equal(np.bincount(ds.targets), [50] * 4)
    assert np.array_equal(SyntheticImages(200, (3, 8, 8), 4, seed=3).data, ds.data)
    assert not np.array_equal(SyntheticImages(200, (3, 8, 8), 4, seed=4).data, ds.data)
    # a nearest-class-mean classifier fitted on half the data labels the other half well above chance
    flat = ds.data.reshape(200, -1).astype(np.float64)
    means = np.stack([flat[:100][ds.targets[:100] == k].mean(axis=0) for k in range(4)])
    predicted = np.argmin(((flat[100:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert (predicted == ds.targets[100:]).mean() > 0.9


# -- generic datasets and splits ---------------------------------------------------------------------

def test_tensor_dataset_rows_and_length_check(device):
    images = np.arange(24, dtype=np.float32).reshape(6, 4)
    ds = TensorDataset(images, minicnn.tensor(np.arange(6)))
    assert len(ds) == 6 and np.array_equal(ds[2][0], images[2]) and ds[2][1] == 2
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(images, np.arange(5))


def test_subset_and_concat_batches_match_their_items():
    a, b = Digits(train=False), SyntheticImages(10, image_shape=(1, 8, 8))
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == len(a) + 10
    indices = [len(a) + 3, 0, 5, len(a) + 9]
    images, labels = both.get_batch(indices)
    assert np.array_equal(images, np.stack([both[i][0] for i in indices]))
    assert list(labels) == [both[i][1] for i in indices]
    subset = Subset(both, indices)
    assert np.array_equal(subset.get_batch([1, 3])[0], images[[1, 3]])


def test_random_split_lengths_fractions_and_reproducibility():
    ds = TensorDataset(np.arange(10))
    parts = random_split(ds, [0.7, 0.3])
    assert [len(p) for p in parts] == [7, 3]
    assert sorted(np.concatenate([p.indices for p in parts]).tolist()) == list(range(10))
    minicnn.manual_seed(1)
    first = random_split(ds, [5, 5])[0].indices
    minicnn.manual_seed(1)
    assert np.array_equal(random_split(ds, [5, 5])[0].indices, first)
    assert np.array_equal(random_split(ds, [4, 6], seed=3)[0].indices, random_split(ds, [4, 6], seed=3)[0].indices)
    with pytest.raises(ValueError, match="summing"):
        random_split(ds, [5, 4])


# -- DataLoader --------------------------------------------------------------------------------------

class CountingDataset(Dataset):
    """A dataset without a fast path, counting how often it is indexed."""

    def __init__(self, size):
        self.size, self.calls = size, 0

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        self.calls += 1
        return np.full((1, 2, 2), index, np.float32), index


def labels_of(loader):
    return [host(labels).tolist() for _, labels in loader]


@pytest.mark.parametrize("drop_last, sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_loader_batches_and_length(device, drop_last, sizes):
    loader = DataLoader(CountingDataset(10), batch_size=4, drop_last=drop_last, device=device)
    batches = list(loader)
    assert len(loader) == len(sizes) and [len(labels) for _, labels in batches] == sizes
    images, labels = batches[0]
    assert images.shape == (4, 1, 2, 2) and images.dtype == np.float32 and labels.dtype == np.int64
    assert images.device == device and host(labels).tolist() == [0, 1, 2, 3]


def test_loader_uses_the_array_fast_path():
    ds = SyntheticImages(64, image_shape=(3, 4, 4))
    original = type(ds).__getitem__
    calls = []
    ds.__class__ = type("Counted", (SyntheticImages,), {"__getitem__": lambda s, i: calls.append(i) or original(s, i)})
    images, labels = next(iter(DataLoader(ds, batch_size=32)))
    assert calls == [] and images.shape == (32, 3, 4, 4)
    assert np.array_equal(host(images), ds.get_batch(np.arange(32))[0])


def test_shuffle_visits_every_sample_once_with_a_fresh_order_each_epoch():
    loader = DataLoader(CountingDataset(23), batch_size=5, shuffle=True, seed=0)
    first, second = sum(labels_of(loader), []), sum(labels_of(loader), [])
    assert sorted(first) == sorted(second) == list(range(23))
    assert first != second and first != list(range(23))


def test_shuffle_is_reproducible_after_manual_seed_and_resumable_with_set_epoch():
    minicnn.manual_seed(4)
    loader = DataLoader(CountingDataset(20), batch_size=6, shuffle=True)
    epochs = [labels_of(loader) for _ in range(3)]
    minicnn.manual_seed(4)
    again = DataLoader(CountingDataset(20), batch_size=6, shuffle=True)
    assert labels_of(again) == epochs[0]
    resumed = DataLoader(CountingDataset(20), batch_size=6, shuffle=True)
    resumed.load_state_dict({"seed": loader.seed, "epoch": 0})
    resumed.set_epoch(2)
    assert labels_of(resumed) == epochs[2] and resumed.state_dict()["epoch"] == 3


def test_prefetch_on_and_off_give_identical_batches(device):
    ds = Digits(train=False, size=12)
    augment = T.Compose([T.RandomCrop(12, padding=2), T.RandomHorizontalFlip()])
    runs = []
    for prefetch in (True, False, 1):
        loader = DataLoader(ds, batch_size=50, shuffle=True, seed=9, transform=augment, prefetch=prefetch,
                            device=device)
        runs.append([(host(x), host(y)) for x, y in loader])
    for run in runs[1:]:
        assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(runs[0], run))


def test_batch_transform_and_dataset_transform_compose():
    ds = SyntheticImages(8, image_shape=(1, 4, 4), transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]))
    images, _ = next(iter(DataLoader(ds, batch_size=8, transform=T.RandomHorizontalFlip(p=1.0))))
    expected = (ds.data.transpose(0, 3, 1, 2) / 255.0 - 0.5) / 0.5
    assert np.allclose(host(images), expected[..., ::-1], atol=1e-6)


def test_per_sample_transform_without_batch_support_still_works():
    ds = SyntheticImages(6, image_shape=(1, 3, 3), transform=T.Lambda(lambda image: image.sum(keepdims=True) * 1.0))
    images, _ = next(iter(DataLoader(ds, batch_size=6)))
    assert np.allclose(host(images).ravel(), ds.data.reshape(6, -1).sum(axis=1))


def test_custom_collate_fn_gets_the_samples():
    loader = DataLoader(CountingDataset(5), batch_size=2, collate_fn=lambda samples: [label for _, label in samples])
    assert list(loader) == [[0, 1], [2, 3], [4]]


def test_worker_errors_reach_the_caller_and_early_break_stops_the_worker():
    class Failing(CountingDataset):
        def __getitem__(self, index):
            if index == 7:
                raise KeyError("sample 7 is broken")
            return super().__getitem__(index)

    with pytest.raises(KeyError, match="sample 7"):
        list(DataLoader(Failing(10), batch_size=2))
    threads = threading.active_count()
    for _ in DataLoader(CountingDataset(100), batch_size=2):
        break
    assert threading.active_count() == threads


def test_loader_argument_errors():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(CountingDataset(3), batch_size=0)
    with pytest.raises(ValueError, match="sampler"):
        DataLoader(CountingDataset(3), sampler=[0, 1], shuffle=True)
    assert labels_of(DataLoader(CountingDataset(5), batch_size=2, sampler=[4, 0, 2])) == [[4, 0], [2]]
