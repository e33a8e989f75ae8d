"""The training loop: it learns, it records, it checkpoints, and a resumed run equals an unbroken one."""
import csv
import importlib.util
import json
import sys

import numpy as np
import pytest

import minicnn
from minicnn import nn, optim
from minicnn.data import DataLoader, SyntheticImages, transforms as T
from minicnn.train import Trainer, evaluate, fit, load_checkpoint
from minicnn.training.history import History

from helpers import host


def tiny_data(count=96, seed=3):
    transform = T.Compose([T.ToTensor(), T.Normalize([0.5], [0.25])])
    return SyntheticImages(num_samples=count, image_shape=(1, 8, 8), num_classes=3, seed=seed, transform=transform)


def tiny_model(dropout=False):
    layers = [nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(0.2))
    return nn.Sequential(*layers, nn.Linear(4 * 4 * 4, 3))


def quiet_fit(model, train_loader, val_loader, epochs, out_dir, device, resume=False, plot=False):
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    return fit(model, train_loader, val_loader, optimizer=optimizer, scheduler=scheduler, epochs=epochs,
               device=device, out_dir=out_dir, resume=resume, progress=False, log=None, plot=plot,
               config={"model": "tiny"})


def test_fit_lowers_the_loss_and_writes_history_and_checkpoints(device, tmp_path):
    train_loader = DataLoader(tiny_data(), batch_size=16, shuffle=True, seed=0)
    val_loader = DataLoader(tiny_data(48, seed=3), batch_size=32)
    plot = importlib.util.find_spec("matplotlib") is not None
    history = quiet_fit(tiny_model(), train_loader, val_loader, 3, tmp_path, device, plot=plot)

    assert len(history) == 3 and history["epoch"] == [1, 2, 3]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["lr"] == pytest.approx([0.05, 0.035, 0.0245])
    assert json.loads((tmp_path / "history.json").read_text()) == history.rows
    with open(tmp_path / "history.csv") as file:
        rows = list(csv.DictReader(file))
    assert [float(row["val_acc"]) for row in rows] == pytest.approx(history["val_acc"])
    assert (tmp_path / "history.png").is_file() == plot

    last, best = load_checkpoint(tmp_path / "last.npz"), load_checkpoint(tmp_path / "best.npz")
    assert last.epoch == 3 and last.history.rows == history.rows and last.config == {"model": "tiny"}
    assert best.best_val_acc == max(history["val_acc"]) == last.best_val_acc
    assert best.epoch == history["val_acc"].index(best.best_val_acc) + 1


@pytest.mark.parametrize("dropout", [False, True])
def test_a_resumed_run_ends_with_the_same_weights_as_an_unbroken_one(device, tmp_path, dropout):
    if dropout and device != "cpu":
        pytest.skip("dropout masks come from the host generator only on the cpu")
    augment = T.RandomCrop(8, padding=1)

    def run(epochs, out_dir, resume=False, seed=0):
        minicnn.manual_seed(seed)  # a resumed run starts from a different seed: the checkpoint must win
        loader = DataLoader(tiny_data(), batch_size=16, shuffle=True, transform=augment)  # seed drawn
        model = tiny_model(dropout)
        quiet_fit(model, loader, DataLoader(tiny_data(32), batch_size=32), epochs, out_dir, device, resume)
        return model

    unbroken = run(4, tmp_path / "unbroken")
    run(2, tmp_path / "broken")
    resumed = run(4, tmp_path / "broken", resume=True, seed=99)

    for (name, expected), (_, actual) in zip(unbroken.state_dict().items(), resumed.state_dict().items()):
        np.testing.assert_array_equal(host(actual), host(expected), err_msg=name)
    unbroken_history = load_checkpoint(tmp_path / "unbroken" / "last.npz").history
    resumed_history = load_checkpoint(tmp_path / "broken" / "last.npz").history
    for column in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert resumed_history[column] == unbroken_history[column]


def test_resume_without_a_checkpoint_says_so(tmp_path):
    loader = DataLoader(tiny_data(16), batch_size=16)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        quiet_fit(tiny_model(), loader, None, 1, tmp_path, "cpu", resume=True)


def test_evaluate_counts_every_example_once_in_the_confusion_matrix(device):
    dataset = tiny_data(50)
    model = tiny_model().to(device)
    result = evaluate(model, DataLoader(dataset, batch_size=16), device)

    images, labels = dataset.get_batch(np.arange(len(dataset)))
    with minicnn.no_grad():
        predicted = host(model(minicnn.tensor(images, device=device))).argmax(axis=1)
    assert result.count == 50 and result.confusion.sum() == 50
    np.testing.assert_array_equal(result.confusion.sum(axis=1), np.bincount(labels, minlength=3))
    np.testing.assert_array_equal(result.confusion.sum(axis=0), np.bincount(predicted, minlength=3))
    assert result.accuracy == pytest.approx(np.mean(predicted == labels))
    for k in range(3):
        assert result.per_class_accuracy[k] == pytest.approx(np.mean(predicted[labels == k] == k))


def test_trainer_without_validation_keeps_the_best_training_accuracy(device, tmp_path):
    trainer = Trainer(tiny_model(), optim.Adam(tiny_model().parameters()), device=device, out_dir=tmp_path,
                      progress=False, log=None, plot=False)
    trainer.optimizer = optim.Adam(trainer.model.parameters(), lr=0.01)
    history = trainer.fit(DataLoader(tiny_data(48), batch_size=16, shuffle=True, seed=1), epochs=2)
    assert history["val_acc"] == [None, None]
    assert load_checkpoint(tmp_path / "best.npz").best_val_acc == max(history["train_acc"])


def test_history_reads_back_what_it_wrote():
    history = History()
    history.append(epoch=1, train_loss=0.9, train_acc=0.5, lr=0.1, time=1.0)
    history.append(epoch=2, train_loss=0.4, train_acc=0.75, lr=0.1, time=1.0)
    again = History.from_json(history.to_json())
    assert again.rows == history.rows and again.best("train_acc") == 0.75 and again.best("train_loss") == 0.4
    assert again.best("val_acc") is None
    with pytest.raises(ValueError, match="unknown columns"):
        history.append(epoch=3, accuracy=1.0)


def test_without_matplotlib_the_plot_is_skipped_with_one_notice(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` raise ImportError
    history = History()
    history.append(epoch=1, train_loss=0.9, train_acc=0.5, lr=0.1, time=1.0)
    notices = []
    history.save(tmp_path, plot=True, notice=notices.append)
    assert (tmp_path / "history.json").is_file() and not (tmp_path / "history.png").exists()
    assert len(notices) == 1 and "matplotlib is not installed" in notices[0]


class _WithAuxiliaryHead(nn.Module):
    """Returns (logits, aux) in training, as GoogLeNet does, and plain logits in eval."""

    def __init__(self):
        super().__init__()
        self.body = tiny_model()
        self.aux = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))

    def forward(self, x):
        logits = self.body(x)
        return (logits, self.aux(x), None) if self.training else logits


def test_auxiliary_outputs_add_their_losses_with_weight_0_3(device):
    model = _WithAuxiliaryHead().to(device)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.01), device=device, progress=False)
    images, labels = next(iter(DataLoader(tiny_data(16), batch_size=16, device=device)))
    model.train()
    logits, loss = trainer._forward_with_loss(images, labels)
    main, aux, _ = model(images)
    expected = minicnn.functional.cross_entropy(main, labels) + 0.3 * minicnn.functional.cross_entropy(aux, labels)
    assert logits.shape == (16, 3)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
