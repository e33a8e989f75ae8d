"""The CIFAR-10 classifier tutorial's program, with ``import minicnn as torch`` and ``minicnn.vision as
torchvision``, on a small CIFAR-10 written in the binary format the dataset reads (learnable class patterns)."""
import numpy as np

import minicnn as torch
import minicnn.nn as nn
import minicnn.nn.functional as F
import minicnn.optim as optim
import minicnn.vision as torchvision
import minicnn.vision.transforms as transforms
from minicnn.data import SyntheticImages


def write_small_cifar(root, per_file=24):
    """data_batch_1..5 and test_batch in CIFAR-10's binary records, drawn from class patterns."""
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    source = SyntheticImages(per_file * len(names), (3, 32, 32), num_classes=10, seed=1, noise=0.15)
    for index, name in enumerate(names):
        part = slice(index * per_file, (index + 1) * per_file)
        planes = source.data[part].transpose(0, 3, 1, 2).reshape(per_file, -1)
        records = np.concatenate([source.targets[part, None].astype(np.uint8), planes], axis=1)
        records.tofile(folder / name)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def test_the_cifar10_tutorial_trains_saves_reloads_and_scores_above_chance(tmp_path):
    torch.manual_seed(0)
    write_small_cifar(tmp_path)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    batch_size = 4
    trainset = torchvision.datasets.CIFAR10(root=str(tmp_path), train=True, download=False, transform=transform)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=batch_size, shuffle=True, num_workers=2)
    testset = torchvision.datasets.CIFAR10(root=str(tmp_path), train=False, download=False, transform=transform)
    testloader = torch.utils.data.DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=2)
    classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

    images, labels = next(iter(trainloader))
    grid = torchvision.utils.make_grid(images) / 2 + 0.5  # the tutorial's imshow
    assert np.transpose(grid.numpy(), (1, 2, 0)).shape == (36, 138, 3)

    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
    losses = []
    for epoch in range(2):
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            inputs, labels = data
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        losses.append(running_loss / len(trainloader))
    assert losses[-1] < losses[0]

    path = tmp_path / "cifar_net.pth"
    torch.save(net.state_dict(), path)
    net = Net()
    net.load_state_dict(torch.load(path))

    correct, total = 0, 0
    correct_pred = {name: 0 for name in classes}
    total_pred = {name: 0 for name in classes}
    with torch.no_grad():
        for images, labels in testloader:
            outputs = net(images)
            predicted = outputs.argmax(1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
            for label, prediction in zip(labels.numpy(), predicted.numpy()):
                correct_pred[classes[label]] += int(label == prediction)
                total_pred[classes[label]] += 1
    assert total == len(testset) == 24 and sum(total_pred.values()) == total
    assert correct / total > 0.3  # ten classes: chance is 0.1
