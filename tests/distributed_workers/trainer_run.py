"""Run under mpiexec: Trainer.fit on every rank's shard.

    trainer_run.py OUT EPOCHS [resume] [kill-after-epoch=K] [fail-rank=R]

Rank 0 writes OUT/params-<epochs>.npy (every rank's parameters, stacked) when training ends.
``kill-after-epoch=K`` SIGKILLs rank 0 right after epoch K was saved; ``fail-rank=R`` makes rank R's
data unreadable at its third batch."""
import os
import signal
import sys

import numpy as np

import minicnn as torch
import minicnn.distributed as dist
from minicnn import data, nn
from minicnn.training import Trainer


class UnreadableAfter(data.Dataset):
    """A dataset whose reads fail after ``good`` batches, as a corrupt file would."""

    def __init__(self, dataset, good):
        self.dataset, self.good, self.reads = dataset, good, 0

    def __len__(self):
        return len(self.dataset)

    def get_batch(self, indices):
        self.reads += 1
        if self.reads > self.good:
            raise OSError("cannot read images/batch-3.png: truncated file")
        return self.dataset.get_batch(indices)


def main():
    out, epochs = sys.argv[1], int(sys.argv[2])
    options = dict(arg.split("=") for arg in sys.argv[3:] if "=" in arg)
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    dataset = data.SyntheticImages(num_samples=40, image_shape=(3, 8, 8), num_classes=3, seed=1)
    train_set = dataset if int(options.get("fail-rank", -1)) != rank else UnreadableAfter(dataset, good=2)
    sampler = data.DistributedSampler(train_set, seed=3)
    loader = data.DataLoader(train_set, batch_size=4, sampler=sampler, seed=3, prefetch=False)
    held_out = data.SyntheticImages(num_samples=20, image_shape=(3, 8, 8), num_classes=3, seed=2)
    val_loader = data.DataLoader(data.Subset(held_out, np.arange(rank, 20, size)), batch_size=8)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Dropout(0.3),
                          nn.Linear(4 * 6 * 6, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    kill_after = int(options.get("kill-after-epoch", 0))

    def log(line):
        print(line, flush=True)
        if kill_after and line.startswith(f"epoch {kill_after}/"):
            os.kill(os.getpid(), signal.SIGKILL)  # after the checkpoint of that epoch was written

    trainer = Trainer(model, optimizer, out_dir=out, progress=False, log=log, plot=False)
    trainer.fit(loader, val_loader, epochs=epochs, resume="resume" in sys.argv[3:])
    flat = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()]
                          + [b.numpy().ravel().astype(np.float64) for b in model.buffers()])
    gathered = [torch.tensor(np.zeros(flat.size)) for _ in range(size)]
    dist.all_gather(gathered, torch.tensor(flat))
    if rank == 0:
        np.save(os.path.join(out, f"params-{epochs}.npy"), np.stack([g.numpy() for g in gathered]))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
