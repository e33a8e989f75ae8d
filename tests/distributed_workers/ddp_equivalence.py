"""Run under mpiexec: N ranks with DistributedDataParallel on N shards against one model trained on
the combined batch, in float64. Rank 0 prints one JSON line per configuration."""
import json
import sys

import numpy as np

import minicnn as torch
import minicnn.distributed as dist
from minicnn import nn

STEPS, PER_RANK = 5, 4


def make_model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def make_optimizer(name, params):
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3)
    return torch.optim.Adam(params, lr=0.01)


def train(model, optimizer, batches):
    for images, labels in batches:
        optimizer.zero_grad()
        torch.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()


def parameter_error(model, reference):
    return max(float(np.max(np.abs(p.detach().cpu().numpy() - q.detach().cpu().numpy()))
                     / max(np.max(np.abs(q.detach().cpu().numpy())), 1e-300))
               for p, q in zip(model.parameters(), reference.parameters()))


def accumulation_and_controls(rank, size, data, device):
    """no_sync accumulation over two micro-batches, an unused branch, and shards trained without
    averaging (which must NOT match: the comparison can fail)."""
    reference = make_model(1000).to(device)
    train(reference, make_optimizer("sgd", reference.parameters()),
          [(torch.tensor(x, device=device), torch.tensor(y, device=device)) for x, y in data])
    shard = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
    half = PER_RANK // 2
    ddp = dist.DistributedDataParallel(make_model(1000 + rank).to(device))
    optimizer = make_optimizer("sgd", ddp.parameters())
    for x, y in data:
        x, y = torch.tensor(x[shard], device=device), torch.tensor(y[shard], device=device)
        optimizer.zero_grad()
        with ddp.no_sync():
            (torch.functional.cross_entropy(ddp(x[:half]), y[:half]) * 0.5).backward()
        (torch.functional.cross_entropy(ddp(x[half:]), y[half:]) * 0.5).backward()
        optimizer.step()
    results = {"no_sync_accumulation": parameter_error(ddp.module, reference)}

    local = make_model(1000).to(device)
    ddp_local = dist.DistributedDataParallel(local)
    optimizer = make_optimizer("sgd", ddp_local.parameters())
    for x, y in data:
        optimizer.zero_grad()
        with ddp_local.no_sync():
            torch.functional.cross_entropy(ddp_local(torch.tensor(x[shard], device=device)),
                                           torch.tensor(y[shard], device=device)).backward()
        optimizer.step()
    results["unaveraged_shards"] = parameter_error(local, reference)

    class WithUnusedBranch(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = make_model(1000)
            self.unused = nn.Linear(3, 3).double()

        def forward(self, x):
            return self.body(x)

    model = WithUnusedBranch().to(device)
    ddp = dist.DistributedDataParallel(model, find_unused_parameters=True, bucket_cap_mb=0.0005)
    optimizer = make_optimizer("sgd", ddp.parameters())
    train(ddp, optimizer, [(torch.tensor(x[shard], device=device), torch.tensor(y[shard], device=device)) for x, y in data])
    results["find_unused_parameters"] = parameter_error(model.body, reference)
    # A dropped wrapper stops reducing: the model trains locally again (as the shards alone would).
    del ddp
    import gc

    gc.collect()
    x, y = data[0]
    model.zero_grad()
    torch.functional.cross_entropy(model(torch.tensor(x[shard], device=device)),
                                   torch.tensor(y[shard], device=device)).backward()
    local_grad = model.body[0].weight.grad.cpu().numpy()
    gathered = [torch.zeros(local_grad.shape, dtype=torch.float64) for _ in range(size)]
    dist.all_gather(gathered, torch.tensor(local_grad))
    results["dropped_wrapper_grads_differ"] = bool(np.abs(gathered[0].numpy() - gathered[1].numpy()).max() > 0)
    results["unused_grad_is_none"] = model.unused.weight.grad is None
    strict = dist.DistributedDataParallel(WithUnusedBranch().to(device))
    try:
        x, y = data[0]
        torch.functional.cross_entropy(strict(torch.tensor(x[shard], device=device)),
                                       torch.tensor(y[shard], device=device)).backward()
        results["unused_without_flag"] = "no error"
    except RuntimeError as error:
        results["unused_without_flag"] = str(error)
    return results


def main():
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
    rng = np.random.default_rng(123)
    data = [(rng.standard_normal((size * PER_RANK, 2, 8, 8)), rng.integers(0, 3, size * PER_RANK)) for _ in range(STEPS)]
    for optimizer_name in ("sgd", "adam"):
        for bucket_cap_mb in (25, 0.0005):  # one bucket; one bucket per parameter or so
            for overlap in (True, False):
                reference = make_model(1000).to(device)  # what rank 0 starts from
                train(reference, make_optimizer(optimizer_name, reference.parameters()),
                      [(torch.tensor(x, device=device), torch.tensor(y, device=device)) for x, y in data])
                model = make_model(1000 + rank).to(device)  # different on every rank until DDP broadcasts
                ddp = dist.DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb, overlap=overlap)
                shard = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
                train(ddp, make_optimizer(optimizer_name, ddp.parameters()),
                      [(torch.tensor(x[shard], device=device), torch.tensor(y[shard], device=device)) for x, y in data])
                errors = []
                spread = 0.0
                for p, q in zip(model.parameters(), reference.parameters()):
                    a, b = p.detach().cpu().numpy(), q.detach().cpu().numpy()
                    errors.append(float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)))
                    gathered = [torch.zeros(p.shape, dtype=p.dtype, device=device) for _ in range(size)]
                    dist.all_gather(gathered, p.detach())
                    spread = max(spread, max(float(np.max(np.abs(g.cpu().numpy() - a))) for g in gathered))
                moved = max(float(np.max(np.abs(p.detach().cpu().numpy() - q)))
                            for p, q in zip(model.parameters(), [m.detach().cpu().numpy() for m in make_model(1000).parameters()]))
                if rank == 0:
                    print(json.dumps({"optimizer": optimizer_name, "bucket_cap_mb": bucket_cap_mb, "overlap": overlap,
                                      "buckets": len(ddp._buckets), "launched_early": ddp.last_launched_early, "max_rel_error": max(errors),
                                      "rank_spread": spread, "moved": moved}), flush=True)
    controls = accumulation_and_controls(rank, size, data, device)
    if rank == 0:
        print(json.dumps(controls), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
