"""The 60-minute blitz's CIFAR-10 classifier: LeNet-like Net, CrossEntropyLoss, SGD(momentum=0.9),
running_loss, torch.max(outputs.data, 1), per-class accuracy through classes[label].
Tiny synthetic 3x16x16 images stand in for CIFAR-10."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

classes = ('plane', 'car', 'bird', 'cat')


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 8, 3)
        self.fc1 = nn.Linear(8 * 2 * 2, 24)
        self.fc2 = nn.Linear(24, 12)
        self.fc3 = nn.Linear(12, 4)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


rng = np.random.default_rng(3)
labels_all = rng.integers(0, 4, 64)
images_all = rng.normal(0, 0.5, (64, 3, 14, 14)).astype(np.float32)
images_all[np.arange(64), labels_all % 3] += 0.8 * (1 + labels_all // 3)[:, None, None]
trainloader = [(torch.from_numpy(images_all[i:i + 8]), torch.from_numpy(labels_all[i:i + 8]))
               for i in range(0, 48, 8)]
testloader = [(torch.from_numpy(images_all[i:i + 8]), torch.from_numpy(labels_all[i:i + 8]))
              for i in range(48, 64, 8)]

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
net = Net()
net.to(device)
init = np.random.default_rng(11)
for name, param in net.named_parameters():
    param.data = torch.from_numpy(init.uniform(-0.3, 0.3, tuple(param.shape)).astype(np.float32)).to(device)

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
epoch_losses = []
for epoch in range(3):  # loop over the dataset multiple times
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, labels = data[0].to(device), data[1].to(device)
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 3 == 2:
            print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 3:.3f}')
            epoch_losses.append(running_loss / 3)
            running_loss = 0.0
print('Finished Training')

correct = 0
total = 0
with torch.no_grad():
    for data in testloader:
        images, labels = data
        outputs = net(images)
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
print(f'Accuracy of the network on the test images: {100 * correct // total} %')

correct_pred = {classname: 0 for classname in classes}
total_pred = {classname: 0 for classname in classes}
with torch.no_grad():
    for data in testloader:
        images, labels = data
        outputs = net(images)
        _, predictions = torch.max(outputs, 1)
        for label, prediction in zip(labels, predictions):
            if label == prediction:
                correct_pred[classes[label]] += 1
            total_pred[classes[label]] += 1
for classname, correct_count in correct_pred.items():
    accuracy = 100 * float(correct_count) / max(total_pred[classname], 1)
    print(f'Accuracy for class: {classname:5s} is {accuracy:.1f} %')

probabilities = torch.softmax(net(testloader[0][0]), dim=1).detach()
RESULTS = {"epoch_losses": epoch_losses, "correct": correct, "total": total,
           "per_class": [correct_pred[c] for c in classes], "probabilities": probabilities.numpy().tolist()}
