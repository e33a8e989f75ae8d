"""The classic MNIST example: a small convnet, log_softmax + nll_loss, SGD with momentum, a train loop
that logs '{:.6f}'.format(loss.item()) and a test loop that counts correct predictions.
Tiny synthetic 12x12 "digits" stand in for MNIST."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def init_weights(model, seed):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))


def synthetic(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.normal(0.0, 0.3, (n, 1, 12, 12)).astype(np.float32)
    for i, label in enumerate(labels):
        images[i, 0, 2 + 3 * label: 5 + 3 * label, 2:10] += 1.0  # a bar whose height is the class
    return TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))


def train(model, device, train_loader, optimizer, epoch, log):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        log.append(loss.item())
        if batch_idx % 2 == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()
            old_style = output.data.max(1, keepdim=True)[1]  # the pre-0.4 spelling
            assert old_style.eq(pred).all()
    test_loss /= len(test_loader.dataset)
    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset), 100. * correct / len(test_loader.dataset)))
    return test_loss, correct


use_cuda = torch.cuda.is_available()
device = torch.device("cuda" if use_cuda else "cpu")
train_loader = DataLoader(synthetic(48, 0), batch_size=16, shuffle=False)
test_loader = DataLoader(synthetic(32, 1), batch_size=16)
model = Net().to(device)
init_weights(model, 7)
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
losses = []
for epoch in range(1, 4):
    train(model, device, train_loader, optimizer, epoch, losses)
test_loss, correct = test(model, device, test_loader)

RESULTS = {"train_losses": losses, "test_loss": test_loss, "correct": correct}
