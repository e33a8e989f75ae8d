"""Training-step and inference speed, and peak memory, of minicnn against PyTorch in the same run.

    python benchmarks/bench_train.py                        # all cases, cpu, markdown table
    python benchmarks/bench_train.py --cases resnet18_b32 --steps 10
    python benchmarks/bench_train.py --cases resnet18_b32 --pairs 3 --noisy   # one core busy elsewhere
    python benchmarks/bench_train.py --device cuda          # minicnn on CuPy vs torch on CUDA
    python benchmarks/bench_train.py --model densenet121 --batch 4 --input 3,224,224   # any zoo model

``--model`` times any model of ``minicnn.models.list_models()``; its torch twin is the one in
torch_models.py, or else torchvision's net of the same name (when torchvision is installed). Models
returning several outputs in training (inception_v3's aux head) are trained on the main logits plus
0.4 x the aux loss in both frameworks.

Every (framework, case) runs in a fresh child process, so its peak RSS is its own; the two frameworks
alternate case by case, so a burst of load from elsewhere on a shared machine hits both. The time of
a step is the median over the timed steps (``--steps``, and more until they add up to ``--min-seconds``:
LeNet-5's millisecond steps are timed a few hundred times), after warm-up steps; with ``--pairs N`` each case runs N
pairs of processes (minicnn, then torch), every time is the median over its N runs and every ratio the median of
the N pair ratios, minicnn / PyTorch (lower is better; 1.0 is parity), with their range. A second table gives,
per side, the cores kept busy (CPU time / wall time over the timed steps) and the warm-up: the wall and CPU time
of each of the first five steps as multiples of the median step's. ``--noisy`` keeps one core busy with a
background process throughout.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from common import machine_description, median, publish, set_thread_environment, step_timings  # noqa: E402

# name: (model, model kwargs, input shape without batch, batch size, classes)
CASES = {
    "lenet5_b64": ("lenet5", {"input_size": 28}, (1, 28, 28), 64, 10),
    "resnet18_b32": ("resnet18", {"cifar": True, "num_classes": 10}, (3, 32, 32), 32, 10),
    "resnet18_b128": ("resnet18", {"cifar": True, "num_classes": 10}, (3, 32, 32), 128, 10),
    "resnet50_b8": ("resnet50", {"num_classes": 1000}, (3, 224, 224), 8, 1000),
}


def model_case(name: str, batch: int, input_shape, classes: int) -> str:
    """Register a case for any zoo model (``--model``) and return its name."""
    case = f"{name}_b{batch}"
    CASES[case] = (name, {"num_classes": classes}, tuple(input_shape), batch, classes)
    return case


def training_loss(outputs, labels, cross_entropy):
    """The loss of a training step: aux heads (tuples of logits) add 0.4 x their loss, as in the papers."""
    if isinstance(outputs, tuple):
        main, *aux = [output for output in outputs if output is not None]
        return cross_entropy(main, labels) + sum(0.4 * cross_entropy(extra, labels) for extra in aux)
    return cross_entropy(outputs, labels)


def torch_model(name, **kwargs):
    """The torch twin of a zoo model: torch_models.py's, else torchvision's net of that name."""
    import torch_models

    if hasattr(torch_models, name):
        return getattr(torch_models, name)(**kwargs)
    from minicnn.models.torchvision_import import import_torchvision

    return import_torchvision().models.get_model(name, weights=None, **kwargs)


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_infer_then_train(model, infer, train, steps, warmup, min_seconds):
    """Inference first, then training, so each peak RSS is that of the passes run so far."""
    model.eval()
    infer, infer_rss = step_timings(infer, steps, warmup, min_seconds), peak_rss_mb()
    model.train()
    train, train_rss = step_timings(train, steps, warmup, min_seconds), peak_rss_mb()
    return {"train_s": train["seconds"], "infer_s": infer["seconds"], "train_rss": train_rss, "infer_rss": infer_rss,
            "train_busy": train["cores_busy"], "infer_busy": infer["cores_busy"],
            "train_first": train["first"], "infer_first": infer["first"],
            "train_first_cpu": train["first_cpu"], "infer_first_cpu": infer["first_cpu"]}


def run_minicnn(case, device, steps, warmup, min_seconds):
    import numpy as np

    import minicnn
    import minicnn.functional as F

    minicnn.cpu.keep_freed_memory()  # as minicnn's own training loop does (minicnn/cpu/host_memory.py)
    name, kwargs, shape, batch, classes = CASES[case]
    minicnn.manual_seed(0)
    model = minicnn.models.get_model(name, **kwargs).to(device)
    rng = np.random.default_rng(0)
    images = minicnn.tensor(rng.standard_normal((batch,) + shape).astype(np.float32), device=device)
    labels = minicnn.tensor(rng.integers(0, classes, batch), device=device)
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def sync():
        if device.startswith("cuda"):
            minicnn.cuda.synchronize()

    def infer():
        with minicnn.no_grad():
            model(images)
        sync()

    def train():
        optimizer.zero_grad()
        loss = training_loss(model(images), labels, F.cross_entropy)
        loss.backward()
        optimizer.step()
        sync()

    return time_infer_then_train(model, infer, train, steps, warmup, min_seconds)


def run_torch(case, device, steps, warmup, min_seconds, threads):
    import torch

    torch.set_num_threads(threads)
    name, kwargs, shape, batch, classes = CASES[case]
    torch.manual_seed(0)
    model = torch_model(name, **kwargs).to(device)
    images = torch.randn((batch,) + shape, device=device)
    labels = torch.randint(0, classes, (batch,), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def infer():
        with torch.no_grad():
            model(images)
        sync()

    def train():
        optimizer.zero_grad()
        loss = training_loss(model(images), labels, torch.nn.functional.cross_entropy)
        loss.backward()
        optimizer.step()
        sync()

    return time_infer_then_train(model, infer, train, steps, warmup, min_seconds)


def child(args):
    if args.model:
        args.case = model_case(args.model, args.batch, args.input, args.classes)
    if args.child == "minicnn":
        result = run_minicnn(args.case, args.device, args.steps, args.warmup, args.min_seconds)
    else:
        result = run_torch(args.case, args.device, args.steps, args.warmup, args.min_seconds, args.threads)
    print("RESULT " + json.dumps(result))


def measure(framework, case, args):
    command = [
        sys.executable, os.path.abspath(__file__), "--child", framework, "--cases", case,
        "--device", args.device, "--steps", str(args.steps), "--warmup", str(args.warmup),
        "--min-seconds", str(args.min_seconds),
        "--threads", str(args.threads),
    ]
    if args.model:
        command += ["--model", args.model, "--batch", str(args.batch), "--classes", str(args.classes),
                    "--input", ",".join(map(str, args.input))]
    # numpy's BLAS, numba and torch get the same number of threads
    env = set_thread_environment(args.threads, dict(os.environ))
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    sys.stderr.write(f"{framework} {case} failed:\n{completed.stderr[-3000:]}\n")
    return None


def torch_available(device) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return not device.startswith("cuda") or torch.cuda.is_available()


def median_result(runs):
    """Each number's median over the child processes that succeeded (None when none did); lists of
    step times element by element."""
    runs = [run for run in runs if run]
    if not runs:
        return None
    return {key: [median(values) for values in zip(*(run[key] for run in runs))] if isinstance(runs[0][key], list)
            else median([run[key] for run in runs]) for key in runs[0]}


def pair_ratios(pairs, key):
    """minicnn / torch of ``key`` in each pair of processes where both succeeded."""
    return [ours[key] / theirs[key] for ours, theirs in pairs if ours and theirs]


def format_ratios(ratios):
    """The median of the pair ratios, and their range when there are several."""
    if not ratios:
        return "-", "-"
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else "-"
    return f"{median(ratios):.2f}", spread


@contextlib.contextmanager
def one_core_burnt(enabled: bool):
    """With ``enabled``, a background process spins on one core for as long as the block runs (and is
    stopped however the block ends): the other work a shared machine runs alongside a benchmark."""
    if not enabled:
        yield
        return
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        burner.kill()
        burner.wait()


def warmup_cells(result, key):
    """Cores busy over the timed steps, and the wall and CPU time of each of the first five steps as
    multiples of the median step's."""
    walls = " ".join(f"{t / result[key + '_s']:.2f}" for t in result[key + "_first"])
    cpus = " ".join(f"{t:.2f}" for t in result[key + "_first_cpu"])
    return f"{result[key + '_busy']:.2f}", walls, cpus


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, from: " + ", ".join(CASES))
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=1.0,
                        help="time more steps than --steps until they add up to this (LeNet's ms steps)")
    parser.add_argument("--pairs", "--repeats", dest="pairs", type=int, default=1,
                        help="pairs of child processes (minicnn, then torch) per case; ratios are medians of pairs")
    parser.add_argument("--noisy", action="store_true",
                        help="keep one core busy with a background process while measuring")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--no-torch", action="store_true", help="leave out the PyTorch column")
    parser.add_argument("--out", help="also write the markdown table to this file")
    parser.add_argument("--model", help="time this zoo model (any of minicnn.models.list_models()) instead of --cases")
    parser.add_argument("--batch", type=int, default=4, help="batch size for --model (default 4)")
    parser.add_argument("--input", type=lambda text: tuple(int(v) for v in text.split(",")), default=(3, 224, 224),
                        help="C,H,W of one image for --model (default 3,224,224)")
    parser.add_argument("--classes", type=int, default=1000, help="classifier outputs for --model (default 1000)")
    parser.add_argument("--child", choices=["minicnn", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.case = args.cases
        return child(args)
    if args.model:
        import minicnn

        if args.model not in minicnn.models.list_models():
            parser.error(f"unknown model {args.model!r}; known: {', '.join(minicnn.models.list_models())}")
        args.cases = model_case(args.model, args.batch, args.input, args.classes)

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; known: {list(CASES)}")
    if args.device.startswith("cuda"):
        import minicnn

        reason = minicnn.cuda.unavailable_reason()
        if reason:
            print(f"no GPU here: {reason}")
            return 0
    with_torch = not args.no_torch and torch_available(args.device)

    header = ("| case | batch | minicnn train ms/step | torch train ms/step | ratio | pair ratios | "
              "minicnn infer ms | torch infer ms | ratio | pair ratios | "
              "minicnn peak RSS MB (train) | torch peak RSS MB | ratio |")
    lines = [header, "|" + "---|" * 13]
    warmup_lines = [("| case | pass | framework | cores busy | first 5 steps, wall / median | "
                     "first 5 steps, CPU time / median |"), "|---|---|---|---|---|---|"]
    with one_core_burnt(args.noisy):
        for case in cases:
            pairs = []
            for _ in range(args.pairs):  # alternate, so load from elsewhere hits both frameworks
                pairs.append((measure("minicnn", case, args), measure("torch", case, args) if with_torch else None))
            ours, theirs = median_result([p[0] for p in pairs]), median_result([p[1] for p in pairs])
            batch = CASES[case][3]
            if ours is None:
                lines.append(f"| {case} | {batch} | failed |" + " - |" * 10)
                print(lines[-1], flush=True)
                continue
            theirs = theirs or {}
            row = [
                case, str(batch),
                f"{ours['train_s'] * 1e3:.1f}", f"{theirs['train_s'] * 1e3:.1f}" if theirs else "-",
                *format_ratios(pair_ratios(pairs, "train_s")),
                f"{ours['infer_s'] * 1e3:.1f}", f"{theirs['infer_s'] * 1e3:.1f}" if theirs else "-",
                *format_ratios(pair_ratios(pairs, "infer_s")),
                f"{ours['train_rss']:.0f}", f"{theirs['train_rss']:.0f}" if theirs else "-",
                format_ratios(pair_ratios(pairs, "train_rss"))[0],
            ]
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)
            for key in ("train", "infer"):
                for framework, result in (("minicnn", ours), ("torch", theirs)):
                    if result:
                        warmup_lines.append(f"| {case} | {key} | {framework} | " + " | ".join(warmup_cells(result, key))
                                            + " |")

    report = "\n".join(
        [f"Machine: {machine_description(args.threads)}", f"Device: {args.device}",
         f"Command: python benchmarks/bench_train.py {' '.join(argv if argv is not None else sys.argv[1:])}",
         f"Load: {'one core kept busy by a background process (--noisy)' if args.noisy else 'no added load'}; "
         f"ratios are minicnn / torch, the median over {args.pairs} pair(s) of processes",
         "", *lines, "", *warmup_lines]
    )
    publish(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
