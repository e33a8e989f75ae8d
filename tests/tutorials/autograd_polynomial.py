"""'Learning PyTorch with examples' and the autograd tutorial: fit a cubic to sin(x) with tensors and
autograd, updating weights by hand under no_grad (and the old .data spelling), then the autograd
basics: y.backward(v), grad_fn, requires_grad_, detach."""
import math

import numpy as np
import torch

dtype = torch.float
device = torch.device("cpu")

x = torch.linspace(-math.pi, math.pi, 200, device=device, dtype=dtype)
y = torch.sin(x)

start = np.random.default_rng(0).standard_normal(4)
a = torch.tensor(start[0], device=device, dtype=dtype, requires_grad=True)
b = torch.tensor(start[1], device=device, dtype=dtype, requires_grad=True)
c = torch.tensor(start[2], device=device, dtype=dtype, requires_grad=True)
d = torch.tensor(start[3], device=device, dtype=dtype, requires_grad=True)

learning_rate = 2e-6
losses = []
for t in range(150):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 50 == 49:
        print(t, loss.item())
    losses.append(loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')

# the same with the pre-0.4 spelling: .data and grad.data.zero_()
w = torch.tensor(start[:2], dtype=dtype, requires_grad=True)
for t in range(50):
    loss2 = (w[0] + w[1] * x - y).pow(2).mean()
    loss2.backward()
    w.data.sub_(0.05 * w.grad.data)
    w.grad.data.zero_()

# autograd basics
xs = torch.ones(2, 2, requires_grad=True)
ys = xs + 2
zs = ys * ys * 3
out = zs.mean()
assert ys.grad_fn is not None and xs.grad_fn is None
out.backward()
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
xv = torch.tensor(start[:3], dtype=torch.float, requires_grad=True)
yv = xv * 2
while yv.data.norm() < 1000:
    yv = yv * 2
yv.backward(v)
plain = torch.randn(2, 2)
plain = ((plain * 3) / (plain - 1))
assert not plain.requires_grad
plain.requires_grad_(True)
assert plain.requires_grad
with torch.no_grad():
    assert not (xs ** 2).requires_grad
detached = xs.detach()
assert not detached.requires_grad and detached.eq(xs).all()

RESULTS = {"losses": losses[::10], "coefficients": [a.item(), b.item(), c.item(), d.item()],
           "line": w.tolist(), "basics_grad": xs.grad.tolist(), "vector_grad": xv.grad.tolist(),
           "out": out.item()}
