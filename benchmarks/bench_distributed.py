"""Data-parallel ResNet-18 (CIFAR, 32x32) training under mpiexec: images/s at 1, 2 and 4 ranks (one
thread each), and the share of a step spent waiting for the gradient allreduce, with the allreduce
overlapped with backward and without (all buckets reduced after backward). Also the allreduce itself:
its time and bus bandwidth for a ResNet-18-sized gradient, and the latency of a tiny message.

    python benchmarks/bench_distributed.py --out benchmarks/results/distributed_cpu.md

The script launches itself under ``mpiexec -n R`` for each configuration (``--worker``). Every rank
trains on its own synthetic batch of ``--batch`` images; a step is timed from zero_grad to the end of
optimizer.step() on every rank and the slowest rank counts. ``wait`` is the time backward spent, after
its last gradient, waiting for the reductions (DistributedDataParallel.last_wait_seconds).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)


def worker(args) -> None:
    import numpy as np

    import minicnn
    import minicnn.distributed as dist
    from minicnn import functional as F
    from minicnn import models

    dist.init_process_group("mpi")
    dist.set_threads_per_rank(1)
    rank, size = dist.get_rank(), dist.get_world_size()
    minicnn.manual_seed(0)
    model = models.resnet18(num_classes=10, cifar=True)
    net = dist.DistributedDataParallel(model, overlap=args.overlap) if size > 1 else model
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(rank)
    images = minicnn.tensor(rng.standard_normal((args.batch, 3, 32, 32)).astype(np.float32))
    labels = minicnn.tensor(rng.integers(0, 10, args.batch))
    steps, waits, phases = [], [], []
    if args.comm_only:
        return allreduce_only(model, dist, rank)
    for step in range(args.warmup + args.steps):
        dist.barrier()  # every rank starts the step together: the slowest one sets the pace
        started = time.perf_counter()
        optimizer.zero_grad()
        loss = F.cross_entropy(net(images), labels)
        forward_done = time.perf_counter()
        loss.backward()
        backward_done = time.perf_counter()
        optimizer.step()
        finished = time.perf_counter()
        if step >= args.warmup:
            steps.append(finished - started)
            waits.append(net.last_wait_seconds if size > 1 else 0.0)
            phases.append((forward_done - started, backward_done - forward_done, finished - backward_done))
    gradient_floats = sum(p.numel() for p in model.parameters())
    buffer = np.ones(gradient_floats, dtype=np.float32)
    comm = dist.process_group.default_group().comm
    MPI = dist.process_group.default_group().MPI
    reduce_times, latency = [], []
    for _ in range(3):
        comm.Barrier()
        started = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        reduce_times.append(time.perf_counter() - started)
    tiny = np.ones(1, dtype=np.float32)
    for _ in range(20):
        comm.Barrier()
        started = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, tiny, op=MPI.SUM)
        latency.append(time.perf_counter() - started)
    everyone = comm.gather({"steps": steps, "waits": waits, "phases": phases})
    if rank == 0:
        slowest = [max(r["steps"][i] for r in everyone) for i in range(args.steps)]
        step_time = float(np.median(slowest))
        wait = float(np.median([np.mean([r["waits"][i] for r in everyone]) for i in range(args.steps)]))
        phases = np.median(np.array(everyone[0]["phases"]), axis=0)
        print(json.dumps({
            "ranks": size, "overlap": args.overlap, "batch": args.batch, "step_s": step_time,
            "images_per_s": size * args.batch / step_time, "wait_s": wait, "wait_fraction": wait / step_time,
            "forward_s": float(phases[0]), "backward_s": float(phases[1]), "optimizer_s": float(phases[2]),
            "gradient_mb": gradient_floats * 4 / 2**20, "allreduce_s": float(np.median(reduce_times)),
            "latency_us": float(np.median(latency)) * 1e6, "load": os.getloadavg()[0],
        }), flush=True)
    dist.destroy_process_group()


def allreduce_only(model, dist, rank) -> None:
    """Time MPI_Allreduce of the ResNet-18 and ResNet-50 float32 gradients and of one float."""
    import numpy as np

    group = dist.process_group.default_group()
    comm, MPI = group.comm, group.MPI
    sizes = {"resnet18": sum(p.numel() for p in model.parameters()), "resnet50": 25_557_032}
    record = {"ranks": group.size, "load": os.getloadavg()[0]}
    for name, floats in sizes.items():
        buffer = np.ones(floats, dtype=np.float32)
        times = []
        for _ in range(5):
            comm.Barrier()
            started = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
            times.append(time.perf_counter() - started)
        record[name] = {"mb": floats * 4 / 2**20, "seconds": float(np.median(times)), "best": float(min(times))}
    tiny = np.ones(1, dtype=np.float32)
    latency = []
    for _ in range(50):
        comm.Barrier()
        started = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, tiny, op=MPI.SUM)
        latency.append(time.perf_counter() - started)
    record["latency_us"] = float(np.median(latency)) * 1e6
    if rank == 0:
        print(json.dumps(record), flush=True)
    dist.destroy_process_group()


def run_config(ranks: int, overlap: bool, args) -> dict:
    launcher = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    if launcher is None:
        raise SystemExit("bench_distributed: no mpiexec (pip install 'minicnn[distributed]')")
    command = [launcher, "-n", str(ranks), sys.executable, os.path.abspath(__file__), "--worker",
               "--batch", str(args.batch), "--steps", str(args.steps), "--warmup", str(args.warmup)]
    if not overlap:
        command.append("--no-overlap")
    if args.comm_only:
        command.append("--comm-only")
    environment = {**os.environ, "PYTHONPATH": os.path.dirname(HERE) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        environment[name] = "1"
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    line = [line for line in result.stdout.splitlines() if line.startswith("{")][-1]
    record = json.loads(line)
    if args.comm_only:
        print(f"  {ranks} ranks: {record}", flush=True)
        return record
    print(f"  {ranks} ranks, overlap {overlap}: {record['images_per_s']:.1f} img/s, step {record['step_s']:.2f} s, "
          f"wait {100 * record['wait_fraction']:.1f}%", flush=True)
    return record


def markdown(records, args) -> str:
    from common import machine_description

    single = next((r for r in records if r["ranks"] == 1), records[0])
    lines = [f"Machine: {machine_description(1)}",
             f"Command: python benchmarks/bench_distributed.py --ranks {' '.join(map(str, args.ranks))} "
             f"--batch {args.batch} --steps {args.steps} --warmup {args.warmup}",
             "",
             "Each rank runs one thread. The machine has 2 cores shared with other work (load averages in the "
             "table), so 4 ranks are oversubscribed: these numbers show the overheads, not a scaling curve.",
             "",
             f"| ranks | overlap | batch/rank | step s (slowest rank, median) | images/s (all ranks) | speedup vs {single['ranks']} rank(s) "
             "| waiting for allreduce, % of step | forward s | backward s | optimizer s | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['ranks']} | {'-' if r['ranks'] == 1 else ('yes' if r['overlap'] else 'no')} | {r['batch']} "
                     f"| {r['step_s']:.2f} | {r['images_per_s']:.1f} | {r['images_per_s'] / single['images_per_s']:.2f} "
                     f"| {100 * r['wait_fraction']:.1f} | {r['forward_s']:.2f} | {r['backward_s']:.2f} "
                     f"| {r['optimizer_s']:.2f} | {r['load']:.1f} |")
    lines += ["", f"Allreduce of the {single['gradient_mb']:.1f} MiB float32 gradient (MPI_Allreduce, shared memory, "
              "median of 3) and of one float (median of 20):", "",
              "| ranks | allreduce s | algorithm bandwidth GB/s | bus bandwidth GB/s | 4-byte latency us |",
              "|---|---|---|---|---|"]
    for r in records:
        if r["ranks"] > 1 and r["overlap"]:
            algbw = r["gradient_mb"] * 2**20 / r["allreduce_s"] / 1e9
            busbw = algbw * 2 * (r["ranks"] - 1) / r["ranks"]
            lines.append(f"| {r['ranks']} | {r['allreduce_s']:.3f} | {algbw:.2f} | {busbw:.2f} | {r['latency_us']:.0f} |")
    return "\n".join(lines) + "\n"


def allreduce_markdown(records, args) -> str:
    from common import machine_description

    lines = [f"Machine: {machine_description(1)}",
             f"Command: python benchmarks/bench_distributed.py --comm-only --ranks {' '.join(map(str, args.ranks))}",
             "", "MPI_Allreduce (MPICH, shared memory) of float32 gradients, median of 5 (best in brackets); "
             "bus bandwidth = size / time * 2 (n - 1) / n, as nccl-tests count it. The 2 cores are shared with "
             "other work: the load average is in the table.", "",
             "| ranks | gradient | MiB | seconds | bus bandwidth GB/s | 4-byte allreduce us (median of 50) | load |",
             "|---|---|---|---|---|---|---|"]
    for r in records:
        for name in ("resnet18", "resnet50"):
            m = r[name]
            busbw = m["mb"] * 2**20 / m["seconds"] / 1e9 * 2 * (r["ranks"] - 1) / r["ranks"]
            lines.append(f"| {r['ranks']} | {name} | {m['mb']:.1f} | {m['seconds']:.3f} ({m['best']:.3f}) "
                         f"| {busbw:.2f} | {r['latency_us']:.0f} | {r['load']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-overlap", dest="overlap", action="store_false", help=argparse.SUPPRESS)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch", type=int, default=16, help="images per rank and step (default 16)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first (default 1)")
    parser.add_argument("--comm-only", action="store_true",
                        help="only time the allreduce of ResNet-18 and ResNet-50 sized gradients")
    parser.add_argument("--out", default=None, help="write the markdown table here")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    records = []
    for ranks in args.ranks:
        for overlap in ((True,) if ranks == 1 or args.comm_only else (True, False)):
            records.append(run_config(ranks, overlap, args))
    text = allreduce_markdown(records, args) if args.comm_only else markdown(records, args)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
