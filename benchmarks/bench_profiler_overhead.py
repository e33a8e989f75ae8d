"""What the profiler and the hooks cost when they are off: this tree against the tree before them.

    python benchmarks/bench_profiler_overhead.py --out benchmarks/results/profiler_overhead_cpu.md

The tree before the profiler and hooks existed (``--baseline-ref``, by default the parent of the
commit that added minicnn/hooks.py) is unpacked into a temporary folder with ``git archive``. Each
measurement runs in its own process (both trees are ``minicnn``), rounds interleaved so the machine's
load from elsewhere falls on every configuration alike:

- ``baseline``: the earlier tree;
- ``off``: this tree, no profile active and no hook registered;
- ``on``: this tree inside ``minicnn.profiler.profile(profile_memory=True)`` (what profiling costs).

Two workloads: a LeNet-5 training step (batch 16, 32x32; short ops, so per-op costs show most), and
one tiny op (``-x`` on a 1-element tensor, forward and backward), where nothing but the per-op
bookkeeping is measured.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from common import machine_description, median, publish, set_thread_environment  # noqa: E402

MODES = ("baseline", "off", "on")


def worker(mode: str, steps: int) -> None:
    """Print the median ms of a LeNet step and the median us of a tiny op's forward+backward."""
    import contextlib
    import time

    import numpy as np

    import minicnn
    import minicnn.functional as F

    model = minicnn.models.get_model("lenet5")
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = minicnn.tensor(np.random.default_rng(0).standard_normal((16, 1, 32, 32)).astype(np.float32))
    labels = minicnn.tensor(np.arange(16) % 10)
    scalar = minicnn.tensor([1.0], requires_grad=True)

    def train_step():
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def tiny_op():
        (-scalar).backward(minicnn.ones(1))

    context = contextlib.nullcontext()
    if mode == "on":
        context = minicnn.profiler.profile(profile_memory=True)
    with context:
        results = []
        for function, calls, scale in ((train_step, 10, 1e3), (tiny_op, 500, 1e6)):
            for _ in range(10):
                function()
            batches = []  # CPU seconds per call, batch by batch: time spent descheduled does not count
            for _ in range(steps):
                start = time.process_time()
                for _ in range(calls):
                    function()
                batches.append((time.process_time() - start) / calls)
            results.append(min(batches) * scale)
    print(f"{results[0]:.4f} {results[1]:.4f}")


def baseline_tree(ref: str | None, folder: str) -> str:
    if ref is None:
        added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "-1", "--", "minicnn/hooks.py"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        ref = added + "^"
    archive = subprocess.run(["git", "archive", ref, "minicnn"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    return ref


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20, help="timed batches per measurement (the fastest counts)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--baseline-ref", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--worker", choices=MODES, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps)
        return
    environment = set_thread_environment(args.threads, dict(os.environ))
    results = {mode: ([], []) for mode in MODES}
    with tempfile.TemporaryDirectory() as folder:
        ref = baseline_tree(args.baseline_ref, folder)
        for _ in range(args.rounds):
            for mode in MODES:
                path = folder if mode == "baseline" else ROOT
                output = subprocess.run([sys.executable, __file__, "--worker", mode, "--steps", str(args.steps)],
                                        env={**environment, "PYTHONPATH": path}, capture_output=True, text=True,
                                        check=True).stdout.split()
                results[mode][0].append(float(output[0]))
                results[mode][1].append(float(output[1]))
    step_base, op_base = median(results["baseline"][0]), median(results["baseline"][1])
    lines = [f"Machine: {machine_description(args.threads)}",
             f"Command: python benchmarks/bench_profiler_overhead.py --rounds {args.rounds} --steps {args.steps} "
             f"--threads {args.threads}" + (f" --out {args.out}" if args.out else ""),
             f"Baseline: `{ref}` (before hooks and the profiler)", "",
             "Process CPU time per call (so time spent descheduled on a shared machine does not count), the fastest of "
             "--steps batches (10 LeNet steps or 500 tiny ops each) per process; the median over rounds, min-max over "
             "rounds in brackets.", "",
             "| configuration | LeNet-5 train step, batch 16 (ms) | vs baseline | tiny op forward+backward (us) | vs baseline |",
             "|---|---|---|---|---|"]
    for mode in MODES:
        steps, ops = results[mode]
        lines.append(f"| {mode} | {median(steps):.3f} [{min(steps):.3f}-{max(steps):.3f}] | "
                     f"{median(steps) / step_base:.3f} | {median(ops):.2f} [{min(ops):.2f}-{max(ops):.2f}] | "
                     f"{median(ops) / op_base:.3f} |")
    publish("\n".join(lines), args.out)


if __name__ == "__main__":
    main()
