"""The LeNet of PyTorch's "Training a classifier" (CIFAR-10) tutorial, written the same way with minicnn.

The network and the training step read exactly as in the tutorial, with ``minicnn`` where ``torch`` stood.
To stay offline and fast it trains on random 3x32x32 images (each class is a fixed random pattern under
noise) with SGD(lr=0.01, momentum=0.9), and prints the loss as it falls.

    python examples/lenet_tutorial.py [steps]
"""
import sys

import numpy as np

import minicnn
import minicnn.functional as F
import minicnn.nn as nn
import minicnn.optim as optim


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
        x = minicnn.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def random_batches(steps: int, batch_size: int = 32, seed: int = 0):
    """Images of 10 classes: each class has its own fixed random pattern, plus a little noise per image."""
    generator = np.random.default_rng(seed)
    patterns = 4.0 * generator.standard_normal((10, 3, 32, 32)).astype(np.float32)
    for _ in range(steps):
        labels = generator.integers(0, 10, size=batch_size)
        noise = 0.5 * generator.standard_normal((batch_size, 3, 32, 32)).astype(np.float32)
        yield minicnn.tensor(patterns[labels] + noise), minicnn.tensor(labels)


def main(steps: int = 20) -> list:
    """Train for ``steps`` mini-batches; returns the loss of each."""
    minicnn.manual_seed(0)
    net = Net()
    print(net)

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    losses = []
    for step, (inputs, labels) in enumerate(random_batches(steps), start=1):
        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        losses.append(loss.item())
        print(f"step {step:3d}  loss {losses[-1]:.3f}")
    print(f"Finished Training: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    return losses


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
