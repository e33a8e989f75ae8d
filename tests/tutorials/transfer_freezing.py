"""The transfer-learning tutorial's fine-tuning by freezing: freeze a 'pretrained' feature extractor
(requires_grad = False), replace the head, optimize only the head with a StepLR schedule, keep the best
weights with copy.deepcopy(model.state_dict()), and a residual block whose forward uses out += identity."""
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler


class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.block = Block(4)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        x = self.pool(self.block(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


def fill(model, seed):
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p.data.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, tuple(p.shape)).astype(np.float32)))


rng = np.random.default_rng(5)
inputs_all = rng.normal(0, 1, (32, 3, 8, 8)).astype(np.float32)
labels_all = (inputs_all[:, 0].mean(axis=(1, 2)) > 0).astype(np.int64)
batches = [(torch.from_numpy(inputs_all[i:i + 8]), torch.from_numpy(labels_all[i:i + 8])) for i in range(0, 32, 8)]

model = Backbone()
fill(model, 2)
for param in model.parameters():
    param.requires_grad = False
num_ftrs = model.fc.in_features
model.fc = nn.Linear(num_ftrs, 2)  # parameters of newly constructed modules have requires_grad=True
fill(model.fc, 3)
assert all(not p.requires_grad for p in model.block.parameters())

criterion = nn.CrossEntropyLoss()
optimizer_conv = optim.SGD(model.fc.parameters(), lr=0.1, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=2, gamma=0.5)

best_model_wts = copy.deepcopy(model.state_dict())
best_acc = 0.0
history = []
for epoch in range(4):
    for phase in ['train', 'val']:
        model.train() if phase == 'train' else model.eval()
        running_loss = 0.0
        running_corrects = 0
        for inputs, labels in (batches[:3] if phase == 'train' else batches[3:]):
            optimizer_conv.zero_grad()
            with torch.set_grad_enabled(phase == 'train'):
                outputs = model(inputs)
                _, preds = torch.max(outputs, 1)
                loss = criterion(outputs, labels)
                if phase == 'train':
                    loss.backward()
                    optimizer_conv.step()
            running_loss += loss.item() * inputs.size(0)
            running_corrects += torch.sum(preds == labels.data)
        if phase == 'train':
            exp_lr_scheduler.step()
        size = 24 if phase == 'train' else 8
        epoch_loss = running_loss / size
        epoch_acc = running_corrects.double() / size
        print(f'{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}')
        history.append(epoch_loss)
        if phase == 'val' and epoch_acc >= best_acc:
            best_acc = epoch_acc.item()
            best_model_wts = copy.deepcopy(model.state_dict())
model.load_state_dict(best_model_wts)
state = model.state_dict()
assert state['fc.weight'].numel() == 8 and state['block.bn1.running_mean'].shape == (4,)

RESULTS = {"history": history, "best_acc": best_acc, "fc_weight": state['fc.weight'].tolist(),
           "running_mean": state['block.bn1.running_mean'].tolist(),
           "frozen_unchanged": bool((model.stem.weight.data == torch.from_numpy(
               np.random.default_rng(2).uniform(-0.4, 0.4, (4, 3, 3, 3)).astype(np.float32))).all())}
