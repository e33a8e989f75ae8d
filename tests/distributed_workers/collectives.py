"""Run under mpiexec: every collective on cpu and on the simulated device (through the simulated
NCCL and staged through the host), printing one JSON line of results per rank."""
import json
import os
import sys

import numpy as np

import minicnn as torch
import minicnn.distributed as dist
from minicnn import simdevice
from minicnn.simdevice import nccl as sim_nccl


def collectives_on(device):
    rank, size = dist.get_rank(), dist.get_world_size()
    out = {}
    base = np.arange(6.0).reshape(2, 3)
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        x = torch.tensor(base + rank, device=device)
        dist.all_reduce(x, op=getattr(dist.ReduceOp, op))
        out[op] = x.tolist()
    bits = torch.tensor([1 << rank, 3], device=device)
    dist.all_reduce(bits, op=dist.ReduceOp.BOR)
    out["BOR"] = bits.tolist()
    strided = torch.tensor(np.arange(12.0).reshape(3, 4) * (rank + 1), device=device)
    view = strided[:, ::2]  # not contiguous: reduced through a copy and written back
    work = dist.all_reduce(view, async_op=True)
    out["async_type"] = type(work).__name__
    work.wait()
    out["strided"] = strided.tolist()
    value = torch.tensor([float(rank), -float(rank)], device=device)
    dist.broadcast(value, src=size - 1)
    out["broadcast"] = value.tolist()
    gathered = [torch.zeros(2, device=device, dtype=torch.int64) for _ in range(size)]
    work = dist.all_gather(gathered, torch.tensor([rank, 10 * rank], device=device), async_op=True)
    work.wait()
    out["all_gather"] = [g.tolist() for g in gathered]
    x = torch.tensor(base, device=device)
    before = simdevice.transfers.host_to_device + simdevice.transfers.device_to_host
    dist.all_reduce(x)
    out["copies_between_host_and_device"] = simdevice.transfers.host_to_device + simdevice.transfers.device_to_host - before
    try:
        dist.all_reduce(torch.tensor([1, 2], device=device), op=dist.ReduceOp.AVG)
    except TypeError as error:
        out["int_avg_error"] = str(error)
    return out


def sim_nccl_rules():
    """What the simulated NCCL refuses."""
    refused = {}
    try:
        sim_nccl.device_pointer(np.zeros(3))
    except TypeError as error:
        refused["host_array"] = str(error)
    try:
        sim_nccl.device_pointer(simdevice.zeros((3, 4))[:, ::2])
    except ValueError as error:
        refused["strided"] = str(error)
    communicator = dist.process_group.default_group().nccl["minicnn.simdevice"].comm
    host = np.zeros(4)
    try:
        communicator.allReduce(host.ctypes.data, host.ctypes.data, 4, sim_nccl.NCCL_FLOAT64, sim_nccl.NCCL_SUM, 0)
    except sim_nccl.NcclError as error:
        refused["host_pointer"] = str(error)
    device = simdevice.zeros(4)
    pointer = sim_nccl.device_pointer(device)
    try:
        communicator.allReduce(pointer, pointer, 4, sim_nccl.NCCL_FLOAT32, sim_nccl.NCCL_SUM, 0)
    except sim_nccl.NcclError as error:
        refused["wrong_type"] = str(error)
    try:
        communicator.allReduce(pointer, pointer, 5, sim_nccl.NCCL_FLOAT64, sim_nccl.NCCL_SUM, 0)
    except sim_nccl.NcclError as error:
        refused["too_many"] = str(error)
    return refused


def main():
    dist.init_process_group("mpi")
    result = {"rank": dist.get_rank(), "size": dist.get_world_size(), "cpu": collectives_on("cpu")}
    result["sim"] = collectives_on("sim")
    if os.environ.get("MINICNN_NCCL", "1") != "0":
        result["sim_nccl_refuses"] = sim_nccl_rules()
    try:
        dist.init_process_group("mpi")
    except ValueError as error:
        result["twice"] = str(error)
    dist.barrier()
    dist.destroy_process_group()
    result["initialized_after_destroy"] = dist.is_initialized()
    from mpi4py import MPI

    everyone = MPI.COMM_WORLD.gather(result)  # one writer: lines of several ranks could interleave
    if everyone is not None:
        for line in everyone:
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
    sys.exit(0)
