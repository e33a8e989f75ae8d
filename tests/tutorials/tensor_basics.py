"""The tensors tutorial: creating tensors, attributes, indexing and slicing, joining, arithmetic with
out=, single-element tensors, in-place operations, and the NumPy bridge."""
import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
x_ones = torch.ones_like(x_data)  # retains the properties of x_data
x_rand = torch.rand_like(x_data, dtype=torch.float)  # overrides the datatype of x_data
assert x_rand.shape == (2, 2) and x_rand.dtype == torch.float32

shape = (2, 3,)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
print(f"Shape of tensor: {ones_tensor.shape}")
print(f"Datatype of tensor: {ones_tensor.dtype}")
print(f"Device tensor is stored on: {ones_tensor.device}")

tensor = torch.ones(4, 4)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
t1 = torch.cat([tensor, tensor, tensor], dim=1)

y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
z1 = tensor * tensor
z2 = tensor.mul(tensor)
z3 = torch.rand_like(tensor)
torch.mul(tensor, tensor, out=z3)
assert torch.equal(y1, y2) and torch.equal(y1, y3) and torch.equal(z1, z3)

agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))
print(f"{tensor} \n")
tensor.add_(5)
print(tensor)

t = torch.ones(5)
n = t.numpy()
t.add_(1)
n_after_add = n.tolist()  # the array shares the tensor's memory
n2 = np.ones(5)
t2 = torch.from_numpy(n2)
np.add(n2, 1, out=n2)

# a few more methods tutorials reach for
m = torch.arange(12).view(3, 4).float()
stats = [m.mean().item(), m.std().item(), m.var(1, unbiased=False).tolist(), m.norm().item(),
         m.max(0)[0].tolist(), m.argmax().item(), m.median().item(), m.prod(1).tolist(), m.cumsum(1).tolist()]
parts = [p.shape[1] for p in m.split(3, dim=1)] + [p.shape[0] for p in m.chunk(2)]
shapes = [tuple(m.unsqueeze(0).shape), tuple(m.t().shape), tuple(m.expand(2, 3, 4).shape),
          tuple(m.repeat(2, 1).shape), tuple(m.flatten().shape), tuple(m.view(-1, 2).size())]
perm = torch.randperm(5)
assert sorted(perm.tolist()) == [0, 1, 2, 3, 4]
labels = torch.tensor([2, 0, 1])
names = ["a", "b", "c"]
picked = [names[label] for label in labels]
if torch.tensor([True]) and not torch.tensor([0.0]):
    picked.append("bool-ok")

RESULTS = {"t1": t1.tolist(), "y1": y1.tolist(), "z3": z3.tolist(), "agg": agg_item, "after_add": tensor.tolist(),
           "shared": n_after_add, "bridge": t2.tolist(), "ones": x_ones.tolist(), "x_np": x_np.tolist(),
           "stats": stats, "parts": parts, "shapes": shapes, "picked": picked,
           "sorted": torch.sort(torch.tensor([3.0, 1.0, 2.0]), descending=True)[1].tolist(),
           "topk": torch.tensor([1.0, 5.0, 3.0]).topk(2).values.tolist()}
