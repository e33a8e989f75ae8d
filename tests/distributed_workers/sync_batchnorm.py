"""Run under mpiexec: gradients of a model with BatchNorm over N ranks' shards, with SyncBatchNorm and
with plain BatchNorm, against one process with BatchNorm on the whole batch (float64)."""
import json
import sys

import numpy as np

import minicnn as torch
import minicnn.distributed as dist
from minicnn import nn

PER_RANK = 3


def make_model():
    torch.manual_seed(7)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 5 * 5, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 4)).double()


def gradients_and_stats(model, images, labels, device):
    x = torch.tensor(images, device=device, requires_grad=True)
    loss = torch.functional.cross_entropy(model(x), torch.tensor(labels, device=device))
    loss.backward()
    grads = [p.grad.cpu().numpy() for p in model.parameters()]
    stats = [b.cpu().numpy() for name, b in model.named_buffers() if "running" in name]
    return grads, stats


def main():
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
    rng = np.random.default_rng(99)
    images = rng.standard_normal((size * PER_RANK, 2, 5, 5)) * 2 + 1
    labels = rng.integers(0, 4, size * PER_RANK)
    whole_grads, whole_stats = gradients_and_stats(make_model().to(device), images, labels, device)
    shard = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
    result = {}
    scale = max(float(np.max(np.abs(w))) for w in whole_grads)
    for kind in ("sync", "plain"):
        model = make_model().to(device)
        if kind == "sync":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        ddp = dist.DistributedDataParallel(model, broadcast_buffers=False)
        grads, stats = gradients_and_stats(ddp, images[shard], labels[shard], device)
        result[kind] = {
            # relative to the largest gradient: the biases before a norm have gradients ~0 (+-1e-17)
            "grad_error": max(float(np.max(np.abs(g - w))) for g, w in zip(grads, whole_grads)) / scale,
            "running_stats_error": max(float(np.max(np.abs(s - w))) for s, w in zip(stats, whole_stats)),
            "layers": sorted({type(m).__name__ for m in model.modules() if "Norm" in type(m).__name__}),
        }
    if rank == 0:
        print(json.dumps(result), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
