"""How much a GPU speeds minicnn up, and how close minicnn on the GPU comes to PyTorch on the same GPU.

    python benchmarks/cpu_vs_gpu.py                          # every case; needs CuPy and an NVIDIA GPU
    python benchmarks/cpu_vs_gpu.py --cases lenet5_b64 --steps 20
    python benchmarks/cpu_vs_gpu.py --gpu sim --cases lenet5_b64 --steps 2   # dry run, no GPU needed

For each case it times a training step (forward, cross-entropy, backward, SGD with momentum) and an
inference forward pass, as images per second, for minicnn on the CPU, minicnn on the GPU, and PyTorch
on the same GPU when a CUDA build of torch is installed. Each time is the median of ``--steps`` timed
steps after ``--warmup`` untimed ones; GPU steps end with a synchronize, so the clock stops only when the
GPU has finished. Without a usable GPU it prints why and exits 0.

``--gpu sim`` runs the GPU column on the simulated device instead: the GPU code path runs end to end,
but on NumPy, so its numbers say nothing about GPU speed.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(1, HERE)

import numpy as np  # noqa: E402

import minicnn  # noqa: E402
import minicnn.functional as F  # noqa: E402

minicnn.cpu.keep_freed_memory()  # as a training process does (minicnn/cpu/host_memory.py)
from common import median_step_seconds, publish  # noqa: E402

# name: (model, minicnn kwargs, kwargs of the torch twin, input shape without batch, batch size, classes)
CASES = {
    "lenet5_b64": ("lenet5", {"input_size": 28}, {}, (1, 28, 28), 64, 10),
    "resnet18_b128": ("resnet18", {"cifar": True, "num_classes": 10}, {"cifar": True, "num_classes": 10},
                      (3, 32, 32), 128, 10),
    "resnet50_b8": ("resnet50", {"num_classes": 1000}, {"num_classes": 1000}, (3, 224, 224), 8, 1000),
}


def time_minicnn(case: str, device: str, steps: int, warmup: int) -> dict:
    """Images per second of a training step and of inference, minicnn on ``device``."""
    name, kwargs, _, shape, batch, classes = CASES[case]
    minicnn.manual_seed(0)
    model = minicnn.models.get_model(name, **kwargs).to(device)
    rng = np.random.default_rng(0)
    images = minicnn.tensor(rng.standard_normal((batch,) + shape).astype(np.float32), device=device)
    labels = minicnn.tensor(rng.integers(0, classes, batch), device=device)
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def sync():
        if device.startswith("cuda"):
            minicnn.cuda.synchronize()

    def train_step():
        optimizer.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        optimizer.step()
        sync()

    def inference():
        with minicnn.no_grad():
            model(images)
        sync()

    model.train()
    train = median_step_seconds(train_step, steps, warmup)
    model.eval()
    infer = median_step_seconds(inference, steps, warmup)
    return {"train": batch / train, "infer": batch / infer}


def time_torch_cuda(case: str, steps: int, warmup: int) -> dict:
    """The same measurement for PyTorch on the GPU (its models are twins of minicnn's)."""
    import torch
    import torch_models

    name, _, kwargs, shape, batch, classes = CASES[case]
    torch.manual_seed(0)
    model = getattr(torch_models, name)(**kwargs).cuda()
    images = torch.randn((batch,) + shape, device="cuda")
    labels = torch.randint(0, classes, (batch,), device="cuda")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train_step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
        torch.cuda.synchronize()

    def inference():
        with torch.no_grad():
            model(images)
        torch.cuda.synchronize()

    model.train()
    train = median_step_seconds(train_step, steps, warmup)
    model.eval()
    infer = median_step_seconds(inference, steps, warmup)
    return {"train": batch / train, "infer": batch / infer}


def torch_cuda_reason() -> str | None:
    """None when torch can run on the GPU, else why not."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} has no usable CUDA device"
    return None


def describe_machine(gpu: str) -> str:
    cpu = platform.processor() or "unknown cpu"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    parts = [f"CPU: {cpu}, {os.cpu_count()} cores", f"numpy {np.__version__}"]
    if gpu.startswith("cuda"):
        cupy = minicnn.backend.array_module_for(gpu)
        index = 0 if gpu == "cuda" else int(gpu[5:])
        name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
        parts.append(f"GPU: {name.decode() if isinstance(name, bytes) else name}, cupy {cupy.__version__}")
    else:
        parts.append("GPU: simulated (NumPy underneath: its times are not GPU times)")
    return "; ".join(parts)


def ratio(numerator, denominator) -> str:
    return f"{numerator / denominator:.2f}x" if numerator and denominator else "-"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, from: " + ", ".join(CASES))
    parser.add_argument("--gpu", default="cuda", help="cuda, cuda:N, or sim for a dry run on the simulated device")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (CuPy compiles kernels then)")
    parser.add_argument("--no-torch", action="store_true", help="leave out the PyTorch column")
    parser.add_argument("--out", help="also write the markdown report to this file")
    args = parser.parse_args(argv)

    cases = [case.strip() for case in args.cases.split(",") if case.strip()]
    unknown = [case for case in cases if case not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; known: {list(CASES)}")
    gpu = minicnn.backend.normalize_device(args.gpu)
    if gpu == "cpu":
        parser.error("--gpu must name a GPU (cuda, cuda:N) or the simulated one (sim)")
    if gpu.startswith("cuda"):
        reason = minicnn.cuda.unavailable_reason()
        if reason is not None:
            print(f"no GPU here: {reason}")
            return 0
    torch_reason = "not asked for" if args.no_torch else (
        "the GPU is simulated" if gpu == "sim" else torch_cuda_reason()
    )

    header = ("| case | batch | mode | minicnn cpu img/s | minicnn gpu img/s | gpu speed-up | torch gpu img/s | "
              "minicnn / torch |")
    lines = [header, "|" + "---|" * 8]
    print(header, flush=True)
    for case in cases:
        batch = CASES[case][4]
        cpu = time_minicnn(case, "cpu", args.steps, args.warmup)
        on_gpu = time_minicnn(case, gpu, args.steps, args.warmup)
        theirs = time_torch_cuda(case, args.steps, args.warmup) if torch_reason is None else {}
        for mode in ("train", "infer"):
            row = [case, str(batch), mode, f"{cpu[mode]:.1f}", f"{on_gpu[mode]:.1f}", ratio(on_gpu[mode], cpu[mode]),
                   f"{theirs[mode]:.1f}" if theirs else "-", ratio(on_gpu[mode], theirs.get(mode))]
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)

    notes = [
        f"Machine: {describe_machine(gpu)}",
        f"Steps: median of {args.steps} after {args.warmup} warm-up; train = forward + cross-entropy + backward + "
        "SGD(momentum=0.9); img/s = batch / step time (higher is better).",
    ]
    if torch_reason is not None:
        notes.append(f"PyTorch column left out: {torch_reason}.")
    report = "\n".join(notes + [""] + lines)
    publish(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
