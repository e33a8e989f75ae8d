"""The transfer-learning tutorial's program, with ``import minicnn as torch`` and ``minicnn.vision as
torchvision``: an ImageFolder of small PNGs, a ResNet-18 whose head is replaced (fine-tuned, then frozen as a
fixed feature extractor), StepLR, the best epoch's checkpoint, and resuming from it."""
import copy
import os

import numpy as np
import pytest
from PIL import Image

import minicnn as torch
import minicnn.nn as nn
import minicnn.optim as optim
import minicnn.vision as torchvision
from minicnn.optim import lr_scheduler
from minicnn.vision import datasets, models, transforms

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def write_ants_and_bees(root, per_class=(4, 2), size=20):
    """train/ and val/ with an "ants" (dark) and a "bees" (bright) class."""
    rng = np.random.default_rng(0)
    for split, count in zip(("train", "val"), per_class):
        for label, (name, level) in enumerate((("ants", 60), ("bees", 190))):
            folder = root / split / name
            folder.mkdir(parents=True)
            for index in range(count):
                pixels = np.clip(level + rng.normal(0, 30, (size, size + 6, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{index}.png")


def train_model(model, criterion, optimizer, scheduler, dataloaders, dataset_sizes, checkpoint, num_epochs):
    """The tutorial's loop: train and val phases, StepLR per epoch, keep the best val epoch's weights."""
    torch.save(model.state_dict(), checkpoint)
    best_acc, history = 0.0, []
    for epoch in range(num_epochs):
        for phase in ["train", "val"]:
            model.train() if phase == "train" else model.eval()
            running_loss, running_corrects = 0.0, 0
            for inputs, labels in dataloaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    preds = outputs.argmax(1)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += (preds == labels.data).sum().item()
            if phase == "train":
                scheduler.step()
            epoch_acc = running_corrects / dataset_sizes[phase]
            history.append((phase, running_loss / dataset_sizes[phase], epoch_acc))
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                torch.save(model.state_dict(), checkpoint)
    model.load_state_dict(torch.load(checkpoint))
    return model, best_acc, history


@pytest.mark.slow  # three ResNet-18s trained for a few steps: several seconds on two cores
def test_the_transfer_learning_tutorial_finetunes_freezes_checkpoints_and_resumes(tmp_path):
    torch.manual_seed(0)
    write_ants_and_bees(tmp_path)
    data_transforms = {
        "train": transforms.Compose([transforms.RandomResizedCrop(16), transforms.RandomHorizontalFlip(),
                                     transforms.ToTensor(), transforms.Normalize(MEAN, STD)]),
        "val": transforms.Compose([transforms.Resize(18), transforms.CenterCrop(16), transforms.ToTensor(),
                                   transforms.Normalize(MEAN, STD)]),
    }
    image_datasets = {x: datasets.ImageFolder(os.path.join(tmp_path, x), data_transforms[x]) for x in ["train", "val"]}
    dataloaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=4, shuffle=True, num_workers=2)
                   for x in ["train", "val"]}
    dataset_sizes = {x: len(image_datasets[x]) for x in ["train", "val"]}
    assert image_datasets["train"].classes == ["ants", "bees"] and dataset_sizes == {"train": 8, "val": 4}
    inputs, classes = next(iter(dataloaders["train"]))
    assert torchvision.utils.make_grid(inputs).shape == (3, 20, 74)

    # Fine-tune the whole network with a new two-class head.
    model_ft = models.resnet18(weights=None)
    num_ftrs = model_ft.fc.in_features
    model_ft.fc = nn.Linear(num_ftrs, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.01, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=1, gamma=0.1)
    checkpoint = tmp_path / "best_model_params.pt"
    model_ft, best_acc, history = train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler, dataloaders,
                                              dataset_sizes, checkpoint, num_epochs=2)
    assert optimizer_ft.param_groups[0]["lr"] == pytest.approx(0.01 * 0.1 ** 2) and len(history) == 4
    assert best_acc == max(acc for phase, _, acc in history if phase == "val")

    # Resume: a fresh model loads the best checkpoint and gives the same predictions.
    resumed = models.resnet18(weights=None)
    resumed.fc = nn.Linear(num_ftrs, 2)
    resumed.load_state_dict(torch.load(checkpoint))
    model_ft.eval()
    resumed.eval()
    batch, _ = next(iter(dataloaders["val"]))
    with torch.no_grad():
        assert np.array_equal(model_ft(batch).numpy(), resumed(batch).numpy())

    # ConvNet as a fixed feature extractor: only the new head learns.
    model_conv = models.resnet18(weights=None)
    for param in model_conv.parameters():
        param.requires_grad = False
    model_conv.fc = nn.Linear(model_conv.fc.in_features, 2)
    frozen = copy.deepcopy(model_conv.layer1[0].conv1.weight.detach().numpy())
    optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.01, momentum=0.9)
    scheduler_conv = lr_scheduler.StepLR(optimizer_conv, step_size=7, gamma=0.1)
    head_before = model_conv.fc.weight.detach().numpy().copy()
    train_model(model_conv, criterion, optimizer_conv, scheduler_conv, dataloaders, dataset_sizes,
                tmp_path / "conv.pt", num_epochs=1)
    assert np.array_equal(model_conv.layer1[0].conv1.weight.detach().numpy(), frozen)
    assert not np.array_equal(model_conv.fc.weight.detach().numpy(), head_before)
